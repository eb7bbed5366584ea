#!/usr/bin/env bash
# Runs the FRAME benchmarks of Verity's pallets in the real wasm runtime and regenerates each
# pallet's weights.rs. Builds verity-node with `--features runtime-benchmarks` (same target
# directory, so crates whose features do not change are reused). Arguments name the pallets to
# run (`validators workers`); none runs all four.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup.sh
# frame-benchmarking-cli's storage-benchmark test runtime cannot be found by the wasm builder in
# this workspace's metadata; `benchmark storage` is not used here, so its wasm is skipped.
SKIP_FRAME_STORAGE_ACCESS_TEST_RUNTIME_WASM_BUILD=1 \
	cargo build --release --locked -p verity-node --features runtime-benchmarks
node="$CARGO_TARGET_DIR/release/verity-node"
# The raw results are kept beside the build (`--json-input` re-analyses them without a rerun).
# Median slopes, not least squares: FRAME varies one component at a time with the others at their
# maximum, and a least-squares plane through those two lines follows the outliers of either (one
# run put an 8.8 ms intercept under every `submit_result(l, o)`); median slopes do not.
pallets=("$@")
[ ${#pallets[@]} -gt 0 ] || pallets=(models workers inference validators)
for pallet in "${pallets[@]}"; do
	"$node" benchmark pallet \
		--chain dev \
		--pallet "pallet_$pallet" \
		--extrinsic '*' \
		--steps "${BENCH_STEPS:-20}" \
		--repeat "${BENCH_REPEAT:-5}" \
		--wasm-execution compiled \
		--heap-pages 4096 \
		--output-analysis median-slopes \
		--template scripts/weight-template.hbs \
		--output "pallets/$pallet/src/weights.rs" \
		--json-file "$CARGO_TARGET_DIR/benchmarks-pallet_$pallet.json"
done
