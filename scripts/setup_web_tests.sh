#!/usr/bin/env bash
# What the browser tests (tests/web) need besides the venv: Debian's chromium and playwright-core
# (npm, pinned by tests/web/package-lock.json). The venv's comfyui-frontend-package comes from
# requirements/host.txt (scripts/setup_host.sh). Safe to run again; a missing tool is reported and
# the browser tests then fail in CI (CI=true) or skip locally, saying why.
set -euo pipefail
cd "$(dirname "$0")/.."

CHROMIUM=${CHROMIUM_PATH:-/usr/bin/chromium}
if [ ! -x "$CHROMIUM" ]; then
  if command -v apt-get >/dev/null && [ "$(id -u)" = 0 ]; then
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium) >/dev/null \
      || echo "setup_web_tests: apt-get could not install chromium" >&2
  else
    echo "setup_web_tests: no $CHROMIUM and no apt-get as root: install chromium yourself" >&2
  fi
fi

if command -v npm >/dev/null; then
  npm ci --prefix tests/web --no-audit --no-fund --loglevel=error
else
  echo "setup_web_tests: no npm: install Node.js >= 18 for the browser and JS unit tests" >&2
fi
