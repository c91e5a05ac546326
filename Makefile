# Hotline — two commands: `make run` and `make test`.
PYTHON ?= python3.11
VENV   := .venv
PY     := $(VENV)/bin/python
PIP    := $(VENV)/bin/pip
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: run test install lint imports pytest system models clean

$(STAMP): requirements.txt pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip
	# torch first: the CPU wheel; any other torch pulls GBs of CUDA
	$(PIP) install --quiet torch==2.13.0
	$(PIP) install --quiet -r requirements.txt
	$(PIP) install --quiet --no-deps -e .
	touch $(STAMP)

install: $(STAMP)

models: install
	HF_HUB_OFFLINE=1 $(BIN)/hotline models prepare

run: models system
	$(BIN)/hotline migrate
	$(BIN)/hotline seed
	HF_HUB_OFFLINE=1 $(BIN)/hotline serve

# Debian packages: Chromium for the e2e tests (never a downloaded browser), eSpeak NG for the
# offline Mandarin voice and test audio.
system:
	@missing=""; test -x /usr/bin/chromium || missing="$$missing chromium"; \
	 command -v espeak-ng >/dev/null || missing="$$missing espeak-ng"; \
	 if [ -n "$$missing" ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing; fi

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

imports: install
	$(BIN)/lint-imports

pytest: models system
	HF_HUB_OFFLINE=1 $(BIN)/pytest -q -p no:cacheprovider

test: lint imports pytest

clean:
	rm -rf $(VENV) var .pytest_cache .ruff_cache
