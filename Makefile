# The README's two commands:  `make run`  and  `make test`.
# Both create .venv if it is missing and install what they need first.
# `make test-fast` runs the fast tier only (unit + service tests on the fake backend, ~1 min).

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-app
TSTAMP := $(VENV)/.installed-test
ARGS   ?=
# llama-cpp-python compiles llama.cpp for this CPU (-march=native), but without its AMX kernels:
# on AMX Xeons in some virtual machines their first tile instruction (ldtilecfg) faults and the
# process dies with SIGSEGV. The AVX-512/AVX2 kernels are used instead. x86_64 only.
LLAMA_CMAKE_ARGS ?= $(if $(filter x86_64,$(shell uname -m)),-DCMAKE_C_FLAGS="-mno-amx-tile -mno-amx-int8 -mno-amx-bf16" -DCMAKE_CXX_FLAGS="-mno-amx-tile -mno-amx-int8 -mno-amx-bf16")

.PHONY: run test test-fast install install-test bench clean-venv

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(STAMP): pyproject.toml | $(BIN)/python
	@echo ">>> Installing Playground into $(VENV)."
	@echo ">>> The first install compiles llama-cpp-python from source: about 5-7 minutes on 2 cores (pip caches the wheel afterwards)."
	$(BIN)/python -m pip install --quiet --upgrade pip
	# torch first and pinned: the local CPU build; an unpinned torch pulls GBs of CUDA packages.
	$(BIN)/python -m pip install torch==2.13.0
	CMAKE_ARGS='$(LLAMA_CMAKE_ARGS)' $(BIN)/python -m pip install -e .
	@touch $@

$(TSTAMP): $(STAMP)
	$(BIN)/python -m pip install -e '.[test]'
	@touch $@

install: $(STAMP)
install-test: $(TSTAMP)

run: $(STAMP)
	PLAYGROUND_WARMUP=$${PLAYGROUND_WARMUP:-default} $(BIN)/python launcher.py $(ARGS)  # warm up unless told otherwise

test: $(TSTAMP)
	bash scripts/test.sh

test-fast: $(TSTAMP)
	bash scripts/test.sh --fast

bench: $(TSTAMP)
	for script in benchmarks/*.py; do echo "== $$script"; $(BIN)/python $$script || exit 1; done

clean-venv:
	rm -rf $(VENV)
