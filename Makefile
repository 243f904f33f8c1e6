# Two commands: `make run` (the app on the bundled sample) and `make test` (the whole suite).
# Both create .venv and install the project into it (editable, with the test extra: pytest, ruff,
# the notebook's kernel) when pyproject.toml changed; a second run installs nothing.

PYTHON ?= python3
VENV   := .venv
PORT   ?= 8501
# 127.0.0.1: this machine only (see README, Security, before serving a network).
ADDRESS ?= 127.0.0.1
STAMP  := $(VENV)/.project-installed

.PHONY: run test lint sample clean-venv

$(STAMP): pyproject.toml
	@test -x $(VENV)/bin/python || $(PYTHON) -m venv $(VENV)
	$(VENV)/bin/python -m pip install --disable-pip-version-check -q -e '.[test]'
	@touch $(STAMP)

run: $(STAMP)
	$(VENV)/bin/python scripts/serve.py --server.port $(PORT) --server.address $(ADDRESS)

test: $(STAMP)
	$(VENV)/bin/python -m pytest -q $(PYTEST_ARGS)

# The linter and the formatter's check, as CI runs them (`ruff format .` formats).
lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

# Rebuild data/liuzhou_sample.gpkg from data/boundaries and config.toml (deterministic).
sample: $(STAMP)
	$(VENV)/bin/python -m geo sample --out data/liuzhou_sample.gpkg

clean-venv:
	rm -rf $(VENV)
