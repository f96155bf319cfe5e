# pith-sitegen. Only Python 3.11+ and make are needed: every target creates the
# virtual environment it uses and installs the project's own dependencies into it.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
CONTENT ?= content
OUT     ?= _site

.PHONY: site test lint bench serve clean golden vectors

$(VENV)/.site-installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -e .
	touch $@

$(VENV)/.test-installed: pyproject.toml $(VENV)/.site-installed
	$(BIN)/pip install --quiet --disable-pip-version-check -e '.[test]'
	touch $@

## Build the static site from content/ into _site/ (exit 0 only when every input verified).
site: $(VENV)/.site-installed
	$(BIN)/python -m sitegen build --content $(CONTENT) --out $(OUT)

## Lint, type-check and run the whole test suite.
test: $(VENV)/.test-installed
	$(BIN)/ruff check sitegen tests
	$(BIN)/ruff format --check sitegen tests
	$(BIN)/mypy
	$(BIN)/python -m pytest -q -n 2 --doctest-modules sitegen tests

lint: $(VENV)/.test-installed
	$(BIN)/ruff check sitegen tests
	$(BIN)/mypy

## Regenerate the signed negative test vectors (commit the result).
vectors: $(VENV)/.test-installed
	$(BIN)/python tests/vectors/make_vectors.py

## Regenerate tests/golden/ (content and expected build); commit it with the change that caused it.
golden: $(VENV)/.test-installed
	$(BIN)/python -m tests.golden.make_golden

serve: $(VENV)/.site-installed
	$(BIN)/python -m sitegen serve --content $(CONTENT) --out $(OUT)

bench: $(VENV)/.test-installed
	$(BIN)/python -m sitegen.bench

clean:
	rm -rf $(OUT) .$(OUT).staging-* .$(OUT).lock .pytest_cache .mypy_cache .ruff_cache .hypothesis
