# ketenplan — the two commands of the quick start, plus benchmarks.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

.PHONY: run test test-slow bench install clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[dev]"
	touch $(STAMP)

install: $(STAMP)

## make run: set up, run the built-in Dutch baseline, write out/baseline/report.html
run: $(STAMP)
	$(VENV)/bin/ketenplan run nl_baseline --out out/baseline

## make test: the quick suite (under 10 minutes on 2 cores)
test: $(STAMP)
	$(PY) -m pytest -n 2 -q -m "not slow"

## make test-slow: the longer tests (large ensembles, calibration bands, deep fuzzing); CI runs both
test-slow: $(STAMP)
	$(PY) -m pytest -n 2 -q -m slow

## make bench: speed and memory against the reference implementations
bench: $(STAMP)
	@for b in benchmarks/bench_*.py; do echo "== $$b"; $(PY) $$b || exit 1; done

clean:
	rm -rf $(VENV) out .pytest_cache
