#!/usr/bin/env bash
# Runs Verity's whole test suite: unit, property and integration tests (real nodes over RPC).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup.sh

# One profile (release) for the node binary and the tests, so nothing is built twice.
cargo test --release --locked --workspace 2>&1 | tee "${TMPDIR:-/tmp}/verity-test.log"
status=${PIPESTATUS[0]}

echo
echo "==== test summary ===="
grep -E '^(test result:|     Running|error)' "${TMPDIR:-/tmp}/verity-test.log" | grep -v '^     Running' || true
awk '/^test result:/ { p += $4; f += $6; i += $8 } END { printf "total: %d passed, %d failed, %d ignored\n", p, f, i }' \
	"${TMPDIR:-/tmp}/verity-test.log"
exit "$status"
