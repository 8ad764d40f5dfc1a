# The two commands: `make demo` and `make test`. Both set up the local venv first.
VENV ?= .venv
PY := $(VENV)/bin/python
export PYTHONUNBUFFERED := 1

.PHONY: setup setup-web test test-core lint demo workflows

setup:
	bash scripts/setup_host.sh

# chromium (apt, as root) and playwright-core (npm) for tests/web; without them those tests
# skip locally and fail in CI, saying why.
setup-web:
	bash scripts/setup_web_tests.sh

# Three pytest processes, one after the other: core, host (an in-process ComfyUI) and web (a
# ComfyUI server and a browser). Each gives its memory back before the next starts, so the peak
# is the largest group's, not their sum. Every group runs; the target fails if any did. At the
# end it prints each group's wall time and the peak RSS of its largest process.
TEST_GROUPS := core host web

test: setup setup-web
	$(PY) scripts/run_test_groups.py $(TEST_GROUPS) -- $(PYTEST_ARGS)

test-core: setup
	$(PY) -m pytest tests/core $(PYTEST_ARGS)

# ruff, pinned in requirements/ (config: pyproject.toml [tool.ruff]); .ci/run runs it before the tests.
lint: setup
	$(VENV)/bin/ruff check .

demo: setup
	$(PY) scripts/demo.py

# Rewrite the UI-format workflows from their API-format twins (workflows/api/).
workflows: setup
	$(PY) scripts/build_workflows.py
