# Each target sets itself up: a fresh machine needs only python3 (3.11+) and make.
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: demo test lint messages bench clean

$(STAMP): pyproject.toml
	python3 -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/kortkontor demo

# pytest exits 5 when it collects no tests; make treats that, like any failure, as red.
test: $(STAMP)
	$(BIN)/pytest

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy .

# Refresh the message catalogs after changing user-facing texts.
messages: $(STAMP)
	$(BIN)/pybabel extract --no-location --sort-output -F babel.cfg -k N_ -k _ -k translate -o locales/kortkontor.pot .
	$(BIN)/pybabel update --no-fuzzy-matching -i locales/kortkontor.pot -d locales -D kortkontor

bench: $(STAMP)
	$(BIN)/python benchmarks/slots.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache kortkontor-demo.db*
