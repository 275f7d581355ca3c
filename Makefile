# The two commands of the README: `make run` starts the app, `make test` runs every check.
# Both set up what they need first: a virtual environment in .venv and the Debian packages.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint bench system-deps app-deps clean

$(STAMP): pyproject.toml scripts/setup-venv.sh
	PYTHON=$(PYTHON) VENV=$(VENV) bash scripts/setup-venv.sh
	touch $(STAMP)

# Debian packages, only those missing: Qt's runtime libraries (app-deps), and for the tests
# also Xvfb, epubcheck and pandoc (system-deps).
system-deps:
	bash scripts/system-deps.sh test

app-deps:
	bash scripts/system-deps.sh app

run: app-deps $(STAMP)
	$(BIN)/coauthor

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/pyright

test: system-deps $(STAMP) lint
	QT_QPA_PLATFORM=offscreen $(BIN)/python -m pytest

bench: $(STAMP)
	for b in bench/*.py; do [ "$$b" = bench/benchlib.py ] && continue; echo "== $$b"; QT_QPA_PLATFORM=offscreen $(BIN)/python -P $$b || exit 1; done

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache build *.egg-info
