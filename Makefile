# Two commands set up everything on a fresh machine:
#   make demo   install, then score the sample calls into out/samples
#   make test   install with test extras, then run the test suite
#   make corpus install, then assemble the synthetic call corpus into corpus/audio (see corpus/README.md)
VENV   ?= .venv
PYTHON ?= python3
BIN     = $(VENV)/bin

.PHONY: demo test install install-test corpus

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

install: $(BIN)/python
	$(BIN)/pip install --quiet -e .

install-test: $(BIN)/python
	$(BIN)/pip install --quiet -e '.[test]'
	bash scripts/install-test-tools.sh

demo: install
	$(BIN)/callqa score samples/manifest.csv --roster samples/roster.csv --out out/samples

test: install-test
	$(BIN)/python -m pytest

corpus: install
	$(BIN)/python -m scripts.corpus assemble
