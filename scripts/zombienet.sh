#!/usr/bin/env bash
# Runs the zombienet tests (zombienet/*.zndsl) against the release `verity-node` with
# @zombienet/cli's native provider (no containers, nothing downloaded at run time), one network
# at a time. Prints one `zombienet: <test>: passed|FAILED (<seconds> s)` line per test and exits
# non-zero if any failed; a test that cannot run (no node binary, no npm packages) fails, it is
# never skipped. Every process a test starts is killed when it ends.
#   scripts/zombienet.sh [TEST.zndsl ...]     (default: all of zombienet/)
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup.sh
scripts/js-deps.sh

bin="$CARGO_TARGET_DIR/release"
for b in verity-node verity; do
	[ -x "$bin/$b" ] || { echo "zombienet: $bin/$b is missing (run scripts/build.sh)" >&2; exit 1; }
done
export VERITY_NODE="$bin/verity-node" VERITY_CLI="$bin/verity"

work="${TMPDIR:-/tmp}/verity-zombienet"
rm -rf "$work"
mkdir -p "$work"
# zombienet cannot edit a raw spec's genesis, so it leaves the `local` authorities alone.
export VERITY_CHAIN_SPEC="$work/local-raw.json"
"$VERITY_NODE" build-spec --chain local --raw > "$VERITY_CHAIN_SPEC" 2>/dev/null

tests=("$@")
[ ${#tests[@]} -gt 0 ] || tests=(zombienet/*.zndsl)

status=0
summary=()
for test in "${tests[@]}"; do
	name=$(basename "$test" .zndsl)
	dir="$work/$name"
	log="$work/$name.log"
	start=$(date +%s)
	# Its own session, so that whatever zombienet leaves running is killed with it.
	setsid bash -c 'cd zombienet && exec npx --no-install zombienet -p native -f -d "$1" test "$2"' \
		_ "$dir" "$(realpath "$test")" > "$log" 2>&1 < /dev/null &
	pid=$!
	wait "$pid" && result=passed || result=FAILED
	pkill -KILL -s "$pid" 2>/dev/null || true
	line="zombienet: $name: $result ($(($(date +%s) - start)) s)"
	summary+=("$line")
	echo "$line"
	if [ "$result" = FAILED ]; then
		status=1
		sed 's/\x1b\[[0-9;]*m//g' "$log" | tail -n 60
		for node_log in "$dir"/*.log; do
			[ -f "$node_log" ] || continue
			echo "---- last lines of $node_log"
			tail -n 25 "$node_log"
		done
	fi
done
printf '%s\n' "${summary[@]}"
exit "$status"
