#!/usr/bin/env bash
# Generates the ResNet-18 test model (seeded random weights, one input and onnxruntime's outputs)
# into `$HOME/.cache/verity/models/resnet18/` for `engine/onnx/tests/repo_models.rs`: at ~47 MB it
# is too large to commit, so `scripts/test.sh` writes it before the tests run.
#
# Idempotent: does nothing when the model is already in place. The Python packages go into a
# virtual environment at `$HOME/.cache/verity/venv` (override with VERITY_VENV), never into the
# system's Python; the committed models under `models/` are left alone.
set -euo pipefail
cd "$(dirname "$0")/.."

DEST="$HOME/.cache/verity/models/resnet18"
MARKER="$DEST/.complete"
VENV="${VERITY_VENV:-$HOME/.cache/verity/venv}"

if [[ -f "$MARKER" ]]; then
	echo "ResNet-18 already at $DEST"
	exit 0
fi

PYTHON="${PYTHON:-python3}"
if [[ ! -x "$VENV/bin/python" ]]; then
	"$PYTHON" -m venv "$VENV"
fi
# Pinned so that every machine computes the expected outputs with the same onnxruntime.
"$VENV/bin/python" -m pip install --quiet \
	numpy==2.4.6 onnx==1.19.1 scikit-learn==1.9.1 onnxruntime==1.32.0

rm -f "$MARKER"
"$VENV/bin/python" models/generate.py --resnet-only
touch "$MARKER"
