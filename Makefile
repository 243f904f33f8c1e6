# Two commands: `make run` (the app on the bundled sample) and `make test` (the whole suite).
# Both create .venv and install requirements.txt when needed; a second run installs nothing.

PYTHON ?= python3
VENV   := .venv
PORT   ?= 8501
# 127.0.0.1: this machine only (see README, Security, before serving a network).
ADDRESS ?= 127.0.0.1
STAMP  := $(VENV)/.requirements-installed

.PHONY: run test sample clean-venv

$(STAMP): requirements.txt
	@test -x $(VENV)/bin/python || $(PYTHON) -m venv $(VENV)
	$(VENV)/bin/python -m pip install --disable-pip-version-check -q -r requirements.txt
	@touch $(STAMP)

run: $(STAMP)
	$(VENV)/bin/python scripts/serve.py --server.port $(PORT) --server.address $(ADDRESS)

test: $(STAMP)
	$(VENV)/bin/python -m pytest -q $(PYTEST_ARGS)

# Rebuild data/liuzhou_sample.gpkg from data/boundaries and config.toml (deterministic).
sample: $(STAMP)
	$(VENV)/bin/python -m geo sample --out data/liuzhou_sample.gpkg

clean-venv:
	rm -rf $(VENV)
