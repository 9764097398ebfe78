# Every target bootstraps .venv from nothing (Python 3.10+, make and git are all it needs): pip installs
# uv (pinned) into the venv, and uv installs exactly the versions in uv.lock. The install is redone only
# when pyproject.toml or uv.lock changed (the stamp file name carries both checksums).
PYTHON  ?= python3
VENV    := .venv
BIN     := $(VENV)/bin
UV_PIN  := uv==0.13.9
STAMP   := $(VENV)/.installed-$(shell cat pyproject.toml uv.lock | cksum | cut -d' ' -f1)
UV      := UV_PROJECT_ENVIRONMENT=$(VENV) $(BIN)/uv

.PHONY: install lock demo test bench ui ui-check lint format clean warehouse-stop

install: $(STAMP)

$(BIN)/uv:
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check '$(UV_PIN)'

$(STAMP): pyproject.toml uv.lock | $(BIN)/uv
	$(UV) sync --locked --extra dev --quiet
	@rm -f $(VENV)/.installed-*
	@touch $@

# Re-resolve uv.lock after editing dependencies in pyproject.toml (or to take newer releases on purpose:
# `make lock UPGRADE=1`); commit the lock with the change.
lock: | $(BIN)/uv
	$(UV) lock $(if $(UPGRADE),--upgrade,)

demo: $(STAMP)
	$(BIN)/confirma-pipeline demo

test: $(STAMP)
	$(BIN)/pytest

bench: $(STAMP)
	$(BIN)/python bench/run_all.py

ui: $(STAMP)
	$(BIN)/confirma-pipeline ui

ui-check: $(STAMP)
	$(BIN)/python scripts/ui_check.py

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

warehouse-stop: $(STAMP)
	$(BIN)/confirma-pipeline warehouse stop

clean:
	-$(BIN)/confirma-pipeline warehouse stop
	rm -rf .confirma
