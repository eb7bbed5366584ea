#!/usr/bin/env bash
# Builds verity-node and starts a single-validator development chain (Alice) with fresh state.
# Extra arguments go to the node, e.g. `scripts/dev.sh --rpc-external`.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup.sh
# The same build as the test command's (see build.sh): after either, the other rebuilds nothing.
scripts/build.sh
exec "$CARGO_TARGET_DIR/release/verity-node" --dev --tmp "$@"
