#!/usr/bin/env bash
# Which of the README's install steps have wheels on which Python (3.10-3.13, Linux x86_64):
# pip resolves each step for that interpreter without installing anything (--dry-run, binary
# wheels only; needs PyPI). Prints one line per Python and step: ok / no wheel.
set -uo pipefail
cd "$(dirname "$0")/.."
PIP=${PIP:-.venv/bin/pip}
step() {  # python version, label, pip args...
  local v=$1 label=$2; shift 2
  if "$PIP" install --dry-run --quiet --disable-pip-version-check --only-binary=:all: --python-version "$v" \
       --platform manylinux2014_x86_64 --platform manylinux_2_17_x86_64 --platform manylinux_2_28_x86_64 --target "$(mktemp -d)" "$@" >/dev/null 2>&1; then
    echo "python $v  $label: ok"
  else
    echo "python $v  $label: no wheel"
  fi
}
for v in 3.10 3.11 3.12 3.13; do
  step "$v" "requirements.txt" -r requirements.txt
  step "$v" "opencv-python (install.py)" "opencv-python>=4.8"
  step "$v" "mediapipe==0.10.21 (optional)" --no-deps mediapipe==0.10.21
done
