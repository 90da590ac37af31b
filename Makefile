# flexbill — the two commands a new machine needs are `make run` and `make test`.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install run test lint bench clean lock

$(STAMP): pyproject.toml requirements.lock
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.lock
	$(BIN)/python -m pip install --quiet --no-deps -e .
	touch $(STAMP)

install: $(STAMP)  ## create the virtual environment and install flexbill with pinned dependencies

run: install  ## migrate the embedded SQLite database under ./var/ and serve on http://127.0.0.1:8000
	$(BIN)/flexbill serve --host 127.0.0.1 --port 8000

test: install  ## the whole suite, on SQLite and on throwaway PostgreSQL clusters (one per CPU)
	$(BIN)/pytest -n auto

lint: install  ## ruff and mypy (strict)
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(BIN)/mypy

bench: install  ## benchmarks; results go to bench/README.md
	$(BIN)/python -m bench.run

lock:  ## re-pin dependencies after changing pyproject.toml (no index URLs are written)
	$(BIN)/python -m pip freeze --exclude-editable > requirements.lock

clean:
	rm -rf $(VENV) var .mypy_cache .ruff_cache .pytest_cache
