#!/usr/bin/env bash
# Sourced by the other scripts: installs what a fresh Debian machine with rustup lacks, once,
# and points cargo at a target directory outside the clone so that builds are reused.

_verity_as_root() {
	if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

# protoc: the networking stack compiles protobuf definitions at build time.
if ! command -v protoc >/dev/null 2>&1; then
	echo "setup: installing protobuf-compiler" >&2
	export DEBIAN_FRONTEND=noninteractive
	_verity_as_root apt-get install -y -q protobuf-compiler >/dev/null 2>&1 ||
		{ _verity_as_root apt-get update -q >/dev/null && _verity_as_root apt-get install -y -q protobuf-compiler >/dev/null; }
fi

# The toolchain pinned in rust-toolchain.toml, with the runtime's wasm target and rust-src.
# RUSTUP_AUTO_INSTALL may be 0, so nothing is installed unless we ask for it.
_verity_toolchain=$(sed -n 's/^channel *= *"\(.*\)"/\1/p' "$(dirname "${BASH_SOURCE[0]}")/../rust-toolchain.toml")
if ! rustup toolchain list | grep -q "^${_verity_toolchain}"; then
	rustup toolchain install "$_verity_toolchain" --profile minimal
fi
if ! rustup +"$_verity_toolchain" target list --installed | grep -qx wasm32v1-none; then
	rustup +"$_verity_toolchain" target add wasm32v1-none
fi
if ! rustup +"$_verity_toolchain" component list --installed | grep -q '^rust-src'; then
	rustup +"$_verity_toolchain" component add rust-src
fi

# The runtime's wasm is built by a nested cargo that must find this workspace's Cargo.lock.
export WASM_BUILD_WORKSPACE_HINT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/verity-target}"
export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"

# The pallets whose FRAME benchmarks produce weights (scripts/benchmark-pallets.sh) and whose
# benchmark test suites run in the test command.
VERITY_BENCHMARKED_PALLETS=(pallet-models pallet-workers pallet-inference pallet-validators)
verity_benchmark_features() {
	local features
	features=$(printf '%s/runtime-benchmarks,' "${VERITY_BENCHMARKED_PALLETS[@]}")
	echo "${features%,}"
}
