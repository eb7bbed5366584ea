#!/usr/bin/env bash
# Runs each cargo-fuzz target for a bounded time (default 60 s each; FUZZ_SECONDS overrides),
# starting from the corpus in fuzz/corpus/<target>. Needs the nightly toolchain (libFuzzer's
# sanitizer flags); installs cargo-fuzz when missing. A crash fails the script and leaves the
# reproducer in fuzz/artifacts/<target>/.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup.sh
seconds="${FUZZ_SECONDS:-60}"
if ! command -v cargo-fuzz >/dev/null 2>&1; then
	cargo install cargo-fuzz --locked
fi
if ! rustup toolchain list | grep -q '^nightly'; then
	rustup toolchain install nightly --profile minimal
fi
# The fuzz crate is its own workspace; start from the main lock so it builds the same versions.
cp Cargo.lock fuzz/Cargo.lock
export CARGO_TARGET_DIR="$HOME/.cache/verity-fuzz-target"
# Seeds: the repo models' programs and ONNX files (the committed corpus keeps what fuzzing added).
mkdir -p fuzz/corpus/ir_decode fuzz/corpus/onnx_compile
for model in models/*/; do
	name=$(basename "$model")
	cp -n "$model/model.program" "fuzz/corpus/ir_decode/seed-$name" 2>/dev/null || true
	cp -n "$model/model.onnx" "fuzz/corpus/onnx_compile/seed-$name" 2>/dev/null || true
done
for target in ir_decode onnx_compile; do
	echo "== fuzzing $target for ${seconds}s"
	cargo +nightly fuzz run --fuzz-dir fuzz "$target" "fuzz/corpus/$target" -- \
		-max_total_time="$seconds" -max_len=262144 -rss_limit_mb=4096 -timeout=20
	# Keep the corpus small: only inputs that add coverage.
	if [ "${FUZZ_MINIMIZE:-1}" = 1 ]; then
		cargo +nightly fuzz cmin --fuzz-dir fuzz "$target" "fuzz/corpus/$target"
	fi
done
