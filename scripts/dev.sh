#!/usr/bin/env bash
# Builds verity-node and starts a single-validator development chain (Alice) with fresh state.
# Extra arguments go to the node, e.g. `scripts/dev.sh --rpc-external`.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup.sh
cargo build --release --locked -p verity-node
exec "$CARGO_TARGET_DIR/release/verity-node" --dev --tmp "$@"
