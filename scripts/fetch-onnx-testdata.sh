#!/usr/bin/env bash
# Fetches the ONNX backend conformance test data (the per-op node tests and the pytorch/simple/
# real suites) shipped inside the `onnx` 1.19.1 wheel, for `engine/onnx/tests/conformance.rs`.
#
# Idempotent: does nothing when the data is already in place. Installs nothing: the wheel is
# downloaded to a temporary directory and only `onnx/backend/test/data/` is extracted to
# `$HOME/.cache/verity/onnx-1.19.1/` (override with VERITY_ONNX_TESTDATA, the same variable the
# test reads).
set -euo pipefail

ONNX_VERSION=1.19.1
DEST="${VERITY_ONNX_TESTDATA:-$HOME/.cache/verity/onnx-$ONNX_VERSION}"
MARKER="$DEST/.complete"

if [[ -f "$MARKER" ]]; then
	echo "ONNX $ONNX_VERSION test data already at $DEST"
	exit 0
fi

PYTHON="${PYTHON:-python3}"
TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT

# Any wheel of the release carries the same test data; pin one platform so pip never builds.
"$PYTHON" -m pip download "onnx==$ONNX_VERSION" --no-deps --only-binary=:all: \
	--python-version 3.11 --platform manylinux_2_17_x86_64 -d "$TMP" --quiet
WHEEL="$(ls "$TMP"/onnx-"$ONNX_VERSION"-*.whl | head -n 1)"

rm -rf "$DEST.partial"
mkdir -p "$DEST.partial"
# A wheel is a zip; extract with Python's zipfile so `unzip` need not be installed.
"$PYTHON" - "$WHEEL" "$DEST.partial" <<'PY'
import sys, zipfile, os
wheel, dest = sys.argv[1], sys.argv[2]
prefix = "onnx/backend/test/data/"
count = 0
with zipfile.ZipFile(wheel) as z:
    for info in z.infolist():
        if not info.filename.startswith(prefix) or info.is_dir():
            continue
        rel = info.filename[len(prefix):]
        # Refuse anything that would escape the destination.
        if rel.startswith("/") or ".." in rel.split("/"):
            continue
        out = os.path.join(dest, rel)
        os.makedirs(os.path.dirname(out), exist_ok=True)
        with z.open(info) as src, open(out, "wb") as dst:
            dst.write(src.read())
        count += 1
if count == 0:
    sys.exit(f"no files under {prefix} in {wheel}")
print(f"extracted {count} files")
PY

rm -rf "$DEST"
mv "$DEST.partial" "$DEST"
touch "$MARKER"
echo "ONNX $ONNX_VERSION test data at $DEST"
