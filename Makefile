# Each target sets itself up: a fresh machine needs only python3 (3.11+) and make.
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: demo test lint messages bench clean chromium

$(STAMP): pyproject.toml
	python3 -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/kortkontor demo

# The browser tests drive Debian's Chromium (never a browser Playwright downloads). Where apt is
# at hand (as root, or with password-less sudo) this installs it; elsewhere it does nothing and
# those tests are skipped.
CHROMIUM := /usr/bin/chromium

chromium:
	@if [ ! -x $(CHROMIUM) ] && command -v apt-get >/dev/null 2>&1; then \
		if [ "$$(id -u)" = 0 ]; then sudo=""; \
		elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then sudo="sudo -n"; \
		else echo "$(CHROMIUM) is missing and apt needs root: the browser tests will be skipped"; \
			exit 0; fi; \
		echo "installing Debian's chromium for the browser tests"; \
		$$sudo apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $$sudo apt-get install -y -qq --no-install-recommends chromium; \
	fi

# pytest exits 5 when it collects no tests; make treats that, like any failure, as red.
test: $(STAMP) chromium
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
