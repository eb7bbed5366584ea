#!/usr/bin/env bash
# Installs client/js's pinned npm packages (polkadot.js, for the generic-client check in
# client/tests/cli_chain.rs) from its lock file, and Node.js itself if the machine lacks it.
# Does nothing when the installed tree already matches the lock.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup.sh

if ! command -v npm >/dev/null 2>&1; then
	echo "js-deps: installing nodejs and npm" >&2
	export DEBIAN_FRONTEND=noninteractive
	_verity_as_root apt-get install -y -q nodejs npm >/dev/null 2>&1 ||
		{ _verity_as_root apt-get update -q >/dev/null && _verity_as_root apt-get install -y -q nodejs npm >/dev/null; }
fi

cd client/js
stamp=node_modules/.verity-installed-lock
if [ ! -f "$stamp" ] || ! cmp -s package-lock.json "$stamp"; then
	npm ci --no-audit --no-fund --loglevel=error
	cp package-lock.json "$stamp"
fi
