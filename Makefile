# pith-sitegen. Only Python 3.11+ and make are needed: every target creates the
# virtual environment it uses and installs the project's own dependencies into it.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
CONTENT ?= content
OUT     ?= _site

.PHONY: site test lint bench clean-bench serve clean golden vectors fuzz hostile screenshots

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
	$(BIN)/ruff check sitegen tests bench
	$(BIN)/ruff format --check sitegen tests bench
	$(BIN)/mypy
	$(BIN)/python -m pytest -q -n 2 --doctest-modules sitegen tests bench

lint: $(VENV)/.test-installed
	$(BIN)/ruff check sitegen tests bench
	$(BIN)/mypy

## Regenerate the signed negative test vectors (commit the result).
vectors: $(VENV)/.test-installed
	$(BIN)/python -m tests.vectors.make_vectors

## Regenerate tests/golden/ (content and expected build); commit it with the change that caused it.
golden: $(VENV)/.test-installed
	$(BIN)/python -m tests.golden.make_golden

## Photograph the seed's paper page in light and dark for the README (needs /usr/bin/chromium).
screenshots: $(VENV)/.test-installed
	$(BIN)/python docs/screenshots/make_screenshots.py

serve: $(VENV)/.site-installed
	$(BIN)/python -m sitegen serve --content $(CONTENT) --out $(OUT)

## Regenerate the hostile corpus in tests/hostile/ (commit the result).
hostile: $(VENV)/.test-installed
	$(BIN)/python -m tests.hostile.make_hostile

## Coverage-guided fuzzing (atheris) of the state loader, verifier and per-paper build.
## atheris is installed into the venv by this target only; crashes land in _fuzz/crashes/.
FUZZ_SECONDS ?= 60
fuzz: $(VENV)/.test-installed
	$(BIN)/pip install --quiet --disable-pip-version-check atheris
	mkdir -p _fuzz/corpus _fuzz/crashes
	cp tests/data/seed.state.json tests/hostile/content/states/*.json _fuzz/corpus/
	$(BIN)/python fuzz/fuzz_state.py -max_total_time=$(FUZZ_SECONDS) -timeout=10 -rss_limit_mb=2048 \
		-max_len=65536 -artifact_prefix=_fuzz/crashes/ _fuzz/corpus

## Benchmark against Hugo and the per-paper floor (BENCH_SIZES=1000,10000 to choose sizes, QUICK=1 for a quick run,
## BASELINE=<commit> to measure an older commit's builds beside this checkout's; in the environment,
## BENCH_HUGO_MAX and BENCH_BASELINE_MAX, default 10000, are the largest sizes Hugo and the baseline run at).
bench: $(VENV)/.test-installed
	QUICK="$(QUICK)" BENCH_SIZES="$(BENCH_SIZES)" BENCH_SETTLE="$(BENCH_SETTLE)" BASELINE="$(BASELINE)" \
		$(BIN)/python -m bench

## Delete the trees an interrupted bench left (a finished bench deletes its own).
clean-bench:
	rm -rf bench/work/out-*

clean:
	rm -rf $(OUT) .$(OUT).staging-* .$(OUT).lock .$(OUT).cache .pytest_cache .mypy_cache .ruff_cache .hypothesis _fuzz
