# The two README commands are `make demo` and `make test`; the rest are conveniences.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
export ANOMALY_STORE_URI ?= $(CURDIR)/var/store

.PHONY: demo test lint bench clean venv

venv: $(VENV)/.installed

# Rebuilt whenever the dependency pins change; installs everything CI needs, Airflow included.
$(VENV)/.installed: pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -c constraints.txt -e ".[dev,airflow]"
	touch $@

demo: venv
	$(BIN)/python -m anomaly_core.demo

test: venv
	$(BIN)/python -m pytest -q

lint: venv
	$(BIN)/ruff check .

bench: venv
	$(BIN)/anomaly benchmark --runs 5 --out var/benchmark

clean:
	rm -rf var .pytest_cache
