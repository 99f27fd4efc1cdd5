# Two set-up commands, each working on a fresh clone: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml | cksum | cut -d' ' -f1)
# torch is pinned to the CPU wheel before the package, so that pip never pulls a CUDA build; then the package
# with every extra (models, spaCy) and the test tools.
TORCH := torch==2.13.0

.PHONY: demo test lint reports clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip "setuptools>=77"

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -q $(TORCH)
	$(BIN)/python -m pip install -q -e '.[all,test]'
	rm -f $(VENV)/.installed-* && touch $@

## demo: create .venv, install, run the main job on the embedded defaults and write a report
demo: $(STAMP)
	$(BIN)/rexel-bench validate docred-ie:dev
	$(BIN)/rexel-bench run --models rexel,pipeline --name demo

## test: create .venv if missing, install with test extras, run the tests
test: $(STAMP)
	$(BIN)/python -m pytest

## reports: regenerate every committed report (configs/reports/*.yaml) from a clean tree; each records the commit
reports: $(STAMP)
	@$(BIN)/python -c "from rexel_bench.reports.record import git_commit; exit(str(git_commit()).endswith('+dirty'))" || \
		{ echo "make reports: commit your changes first (a report records the commit it was made at)" >&2; exit 1; }
	for config in configs/reports/*.yaml; do $(BIN)/rexel-bench run --config $$config || exit 1; done

lint: $(STAMP)
	$(BIN)/ruff check rexel_bench tests benchmarks baselines experiments

clean:
	rm -rf $(VENV) build *.egg-info
