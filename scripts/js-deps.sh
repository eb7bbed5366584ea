#!/usr/bin/env bash
# Installs the repo's pinned npm packages from their lock files: client/js (polkadot.js, for the
# generic-client check in client/tests/cli_chain.rs) and zombienet (@zombienet/cli, for the
# network tests of scripts/zombienet.sh); and Node.js itself if the machine lacks it. Does
# nothing for a folder whose installed tree already matches its lock.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup.sh

if ! command -v npm >/dev/null 2>&1; then
	echo "js-deps: installing nodejs and npm" >&2
	export DEBIAN_FRONTEND=noninteractive
	_verity_as_root apt-get install -y -q nodejs npm >/dev/null 2>&1 ||
		{ _verity_as_root apt-get update -q >/dev/null && _verity_as_root apt-get install -y -q nodejs npm >/dev/null; }
fi

for dir in client/js zombienet; do
	stamp="$dir/node_modules/.verity-installed-lock"
	if [ ! -f "$stamp" ] || ! cmp -s "$dir/package-lock.json" "$stamp"; then
		(cd "$dir" && npm ci --no-audit --no-fund --loglevel=error)
		cp "$dir/package-lock.json" "$stamp"
	fi
done
