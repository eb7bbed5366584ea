#!/usr/bin/env bash
# Regenerates chain-specs/dev.json and chain-specs/local.json from the node's genesis presets.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup.sh
cargo build --release --locked -p verity-node
node="$CARGO_TARGET_DIR/release/verity-node"
for chain in dev local; do
	"$node" export-chain-spec --chain "$chain" > "chain-specs/$chain.json"
	echo "wrote chain-specs/$chain.json"
done
