# HotPot Spot: `make run` starts a demo terminal, `make test` runs every check CI runs.
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.setup-done
export HOTPOT_DATA_DIR ?= $(CURDIR)/demo-data

.PHONY: setup run test lint bench dist clean

setup: $(STAMP)

$(STAMP): pyproject.toml scripts/setup.sh
	bash scripts/setup.sh
	touch $(STAMP)

# The counter app with a demo terminal (made on first run). With no display (a server, CI), the scripted demo.
run: setup
	@if [ -n "$$DISPLAY$$WAYLAND_DISPLAY" ]; then \
	  $(VENV)/bin/hotpot-terminal gui --demo; \
	else \
	  echo "make run: no display here (DISPLAY is not set), so the scripted demo runs instead of the window."; \
	  echo "make run: on a desktop (or under xvfb-run) it opens the counter app."; \
	  $(VENV)/bin/hotpot-terminal demo; \
	fi

lint: setup
	$(PY) -m ruff check .
	$(PY) -m mypy

test: lint
	bash scripts/test-deps.sh
	$(PY) -m pytest

# Installable packages into dist/ (docs/operations.md, "Installing"): the hotpot-terminal PyInstaller bundle and
# Debian package, and the hotpot-hq Debian package, each checked with lintian.
dist: setup
	bash scripts/test-deps.sh
	bash packaging/deb/build-terminal.sh
	bash packaging/deb/build-hq.sh

bench: setup
	command -v wrk >/dev/null || (apt-get update -qq && apt-get install -y -qq wrk >/dev/null)
	$(PY) -m pytest tests/bench -s -q -p no:cacheprovider

clean:
	rm -rf $(VENV) demo-data .pytest_cache .mypy_cache .ruff_cache
