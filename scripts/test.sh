#!/usr/bin/env bash
# Runs Verity's whole test suite: the no_std build of the engine for the runtime's wasm target,
# then every test of the workspace in one release build (unit, property, conformance,
# native-vs-wasm and real-node integration tests).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup.sh
log="${TMPDIR:-/tmp}/verity-test.log"

# The ONNX conformance suite (onnx 1.19.1's backend test data), fetched once into ~/.cache.
scripts/fetch-onnx-testdata.sh

# no_std for real: a std dependency in the engine core breaks this build. (The primitives and
# pallets are checked the same way by the runtime's own wasm build.)
cargo build --release --locked --target wasm32v1-none --no-default-features -p verity-engine

# One profile (release) for the node binary and all tests, so nothing is built twice.
set +e
cargo test --release --locked --workspace 2>&1 | tee "$log"
status=${PIPESTATUS[0]}

# The pallets' benchmarks, each run at both ends of its components on the pallet's mock
# runtime (the weights come from running them in the real runtime: scripts/benchmark-pallets.sh).
benchmarked=(pallet-models pallet-workers pallet-inference)
features=$(printf '%s/runtime-benchmarks,' "${benchmarked[@]}")
cargo test --release --locked "${benchmarked[@]/#/--package=}" --features "${features%,}" --lib \
	benchmarking 2>&1 | tee -a "$log"
bench_status=${PIPESTATUS[0]}
[ "$status" -ne 0 ] || status=$bench_status
set -e

echo
echo "==== test summary ===="
grep -E '^test result:|^error|FAILED|panicked' "$log" || true
awk '/^test result:/ { p += $4; f += $6; i += $8 } END { printf "total: %d passed, %d failed, %d ignored\n", p, f, i }' "$log"
exit "$status"
