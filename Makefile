# Every target bootstraps .venv from nothing (Python 3.10+, make and git are all it needs) and
# reinstalls only when pyproject.toml changed (the stamp file name carries its checksum).
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-$(shell cksum pyproject.toml | cut -d' ' -f1)

.PHONY: install demo test bench ui ui-check lint format clean warehouse-stop

install: $(STAMP)

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	@rm -f $(VENV)/.installed-*
	@touch $@

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
