# HotPot Spot: `make run` starts a demo terminal, `make test` runs every check CI runs.
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.setup-done
export HOTPOT_DATA_DIR ?= $(CURDIR)/demo-data

.PHONY: setup run test lint bench clean

setup: $(STAMP)

$(STAMP): pyproject.toml scripts/setup.sh
	bash scripts/setup.sh
	touch $(STAMP)

run: setup
	$(VENV)/bin/hotpot-terminal demo

lint: setup
	$(PY) -m ruff check .
	$(PY) -m mypy

test: lint
	$(PY) -m pytest

bench: setup
	command -v wrk >/dev/null || (apt-get update -qq && apt-get install -y -qq wrk >/dev/null)
	$(PY) -m pytest tests/bench -s -q -p no:cacheprovider

clean:
	rm -rf $(VENV) demo-data .pytest_cache .mypy_cache .ruff_cache
