# Two commands do all the set-up (see README): `make demo` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: demo test install bench clean

$(BIN)/crawler: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet -e ".[test]"
	touch $(BIN)/crawler

install: $(BIN)/crawler

# The main job: crawl the bundled sample site over loopback into ./archive.db and show it.
demo: install
	$(BIN)/crawler demo

test: install
	$(BIN)/pytest -q

bench: install
	$(BIN)/python bench/quality.py

clean:
	rm -rf $(VENV) archive.db archive.db-wal archive.db-shm
