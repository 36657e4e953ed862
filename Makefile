# The two commands of the README: `make demo` and `make test`. Each sets up its own virtual environment.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: demo test lint bench golden docs clean

# Older chia_rs releases for the scan-disk tests (their v2 plot layouts) cannot share the venv with the
# current one: each goes to its own --target directory in the venv, put on PYTHONPATH by the test that uses it.
CHIA_RS_REQS := $(wildcard tests/requirements-chia-rs-*.txt)

$(BIN)/minerwatch: pyproject.toml setup.py $(wildcard src/minerwatch/*/*.pyx src/minerwatch/*/*.pxd) $(CHIA_RS_REQS)
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	for req in $(CHIA_RS_REQS); do \
		$(BIN)/pip install --quiet --upgrade --target $(VENV)/$$(basename $$req .txt) -r $$req || exit 1; \
	done
	touch $@

# Install, write the demonstration capture, analyse it (exit 1 = mining found, which is the point), write the report.
demo: $(BIN)/minerwatch
	mkdir -p sample
	$(BIN)/minerwatch sample sample/demo.pcap
	$(BIN)/minerwatch analyze sample/demo.pcap -o sample/events.jsonl --report sample/report.html --no-progress \
		|| [ $$? -eq 1 ]
	@echo "events written to sample/events.jsonl, the report to sample/report.html"

lint: $(BIN)/minerwatch
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks
	$(BIN)/mypy

# Install, lint, run every test (the public corpus in ../shared/corpus is used when present).
test: lint
	$(BIN)/python -m pytest

# Rewrite tests/golden_events.json from the current code: only when events change on purpose (say why).
golden: $(BIN)/minerwatch
	$(BIN)/python tests/golden_events.py

# Rewrite README.md's table of analyze options from the options dataclasses (tests/test_options_table.py).
docs: $(BIN)/minerwatch
	$(BIN)/python tests/options_table.py

bench: $(BIN)/minerwatch
	$(BIN)/python benchmarks/bench_analyze.py

clean:
	rm -rf $(VENV) build sample src/*.egg-info src/minerwatch/decode/*.c src/minerwatch/decode/*.so
