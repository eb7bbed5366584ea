#!/usr/bin/env bash
# Runs Verity's whole test suite after `scripts/build.sh`: every test of the workspace (unit,
# property, conformance, native-vs-wasm and real-node integration tests), the pallets'
# benchmark tests, then the zombienet network tests (scripts/zombienet.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup.sh
log="${TMPDIR:-/tmp}/verity-test.log"

# The ONNX conformance suite (onnx 1.19.1's backend test data), fetched once into ~/.cache.
scripts/fetch-onnx-testdata.sh
# ResNet-18 for the ImageNet-size end-to-end test (too large to commit), generated once into
# ~/.cache.
scripts/generate-resnet18.sh

# polkadot.js for the generic-client check of the CLI test and @zombienet/cli for the network
# tests, from their lock files.
scripts/js-deps.sh

# Everything both README commands use, in one configuration (one profile, release, for the node
# binary and all tests, so nothing is built twice).
scripts/build.sh

set +e
cargo test --release --locked --workspace --no-fail-fast 2>&1 | tee "$log"
status=${PIPESTATUS[0]}

# The pallets' benchmarks, each run at both ends of its components on the pallet's mock
# runtime (the weights come from running them in the real runtime: scripts/benchmark-pallets.sh).
cargo test --release --locked "${VERITY_BENCHMARKED_PALLETS[@]/#/--package=}" \
	--features "$(verity_benchmark_features)" --lib --no-fail-fast benchmarking 2>&1 | tee -a "$log"
bench_status=${PIPESTATUS[0]}
[ "$status" -ne 0 ] || status=$bench_status

# Networks of real nodes started by zombienet (native provider): authoring, finality, inference
# served by the validators' workers, a cheater slashed, a validator joining through sudo.
scripts/zombienet.sh 2>&1 | tee -a "$log"
zombienet_status=${PIPESTATUS[0]}
[ "$status" -ne 0 ] || status=$zombienet_status
set -e

echo
echo "==== test summary ===="
grep -E '^test result:|^error|FAILED|panicked' "$log" || true
# Which kernel sets the hardware-vs-portable tests ran, tests skipped for missing data (outside
# CI), the conformance counts against their pins, and pins to raise.
grep -ohE 'ISA paths exercised.*|SKIPPED .*|raise the pin.*' "$log" | sort -u || true
grep -E '^zombienet: ' "$log" | sort -u || true
grep -ohE '^[A-Za-z0-9_-]+: [0-9]+ covered, [0-9]+ passed \(pin [0-9]+\).*' "$log" | sort -u || true
awk '/^test result:/ { p += $4; f += $6; i += $8 } END { printf "total: %d passed, %d failed, %d ignored\n", p, f, i }' "$log"
exit "$status"
