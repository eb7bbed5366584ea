#!/usr/bin/env bash
# Builds everything the README's two commands use, in one configuration: the no_std engine for
# the runtime's wasm target, every workspace target in the release profile (the node binary among
# them) and the benchmarked pallets' test builds. `scripts/dev.sh` and `scripts/test.sh` both
# start with it, so whichever runs second rebuilds nothing (a `cargo build -p verity-node` alone
# would unify other features than the test build and overwrite the node binary the tests use).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup.sh

# no_std for real: a std dependency in the engine core breaks this build. (The primitives and
# pallets are checked the same way by the runtime's own wasm build.)
cargo build --release --locked --target wasm32v1-none --no-default-features -p verity-engine

cargo test --release --locked --workspace --no-run

# The pallets' benchmarks as tests on their mock runtimes (scripts/test.sh runs them).
cargo test --release --locked "${VERITY_BENCHMARKED_PALLETS[@]/#/--package=}" \
	--features "$(verity_benchmark_features)" --lib --no-run
