#!/usr/bin/env bash
# Re-pin requirements/constraints.txt from the current, working venv.
set -euo pipefail
cd "$(dirname "$0")/.."
{ echo "# Pinned versions for the test host and CI (pip freeze of a working venv; regenerate with scripts/freeze_constraints.sh)"
  "${VENV:-.venv}/bin/python" -m pip freeze --disable-pip-version-check | grep -v -e '^-e' -e '@ file'; } > requirements/constraints.txt
