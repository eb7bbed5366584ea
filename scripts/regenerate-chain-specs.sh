#!/usr/bin/env bash
# Regenerates chain-specs/dev.json and chain-specs/local.json from the node's genesis presets.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup.sh
# The node as the test command builds it (see build.sh), so neither build undoes the other.
scripts/build.sh
node="$CARGO_TARGET_DIR/release/verity-node"
for chain in dev local; do
	"$node" export-chain-spec --chain "$chain" > "chain-specs/$chain.json"
	echo "wrote chain-specs/$chain.json"
done
