# Every target installs what it needs: a fresh machine only needs `make demo` or `make test`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
PYBABEL := $(VENV)/bin/pybabel
# Compiled catalogues (.mo) are build products: made at install, and again whenever a .po changes.
MO_FILES := $(patsubst %.po,%.mo,$(wildcard translations/*/LC_MESSAGES/messages.po))
HOST ?= 127.0.0.1
PORT ?= 5000
DEBIAN_PACKAGES := chromium poppler-utils fonts-dejavu-core libpango-1.0-0 libpangoft2-1.0-0 nginx redis-server

.PHONY: demo test bench bench-load serve system-deps translations clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	$(PYBABEL) compile -d translations
	touch $(STAMP)

# A catalogue edited after install (a translator's work, `make translations`) is recompiled before use.
translations/%/LC_MESSAGES/messages.mo: translations/%/LC_MESSAGES/messages.po | $(STAMP)
	$(PYBABEL) compile -d translations -l $*

# Re-extract the strings marked in lti_tool/ and templates/ and merge them into every catalogue.
# Babel skips directories starting with "_" unless told otherwise: templates/_macros/ holds marked strings.
BABEL_IGNORE_DIRS := .* __pycache__
translations: $(STAMP)
	$(PYBABEL) extract -F babel.cfg -k _l -c TRANSLATORS: --ignore-dirs "$(BABEL_IGNORE_DIRS)" --project "Reciprocal Mentoring Lab" --version 0.1.0 \
	  --copyright-holder "Reciprocal Mentoring Lab contributors" -o translations/messages.pot .
	$(PYBABEL) update --ignore-obsolete -i translations/messages.pot -d translations
	$(PYBABEL) compile -d translations

# Debian packages for the browser tests, PDF rendering and the scale-out test (nginx, redis-server),
# installed only when missing.
system-deps:
	@missing=""; for p in $(DEBIAN_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "Installing Debian packages:$$missing"; \
	  SUDO=""; [ "$$(id -u)" = 0 ] || SUDO=sudo; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing; \
	fi

# The suite runs in one worker process per core (pytest-xdist), a test file at a time per worker, so that
# a module's servers (nginx, browsers) start once; TEST_WORKERS=0 runs it in this process.
TEST_WORKERS ?= auto
test: system-deps $(STAMP) $(MO_FILES)
	$(VENV)/bin/ruff check .
	$(PY) -m pytest -n $(TEST_WORKERS) --dist loadfile $(PYTEST_ARGS)

demo: $(STAMP) $(MO_FILES)
	LAB_ENV=development LTI_DEV_PLATFORM=1 $(VENV)/bin/flask --app lti_tool db upgrade
	LAB_ENV=development LTI_DEV_PLATFORM=1 PUBLIC_BASE_URL=http://$(HOST):$(PORT) $(VENV)/bin/flask --app lti_tool demo seed
	@echo ""
	@echo "  Open http://$(HOST):$(PORT)/dev/ and launch as a learner, facilitator or L&D administrator."
	@echo ""
	LAB_ENV=development LTI_DEV_PLATFORM=1 PUBLIC_BASE_URL=http://$(HOST):$(PORT) $(VENV)/bin/flask --app lti_tool run --host $(HOST) --port $(PORT)

# Production serving: needs SECRET_KEY, DATABASE_URL and PUBLIC_BASE_URL (and REDIS_URL) in the environment.
serve: $(STAMP) $(MO_FILES)
	$(VENV)/bin/flask --app lti_tool db upgrade
	$(VENV)/bin/gunicorn --workers $${WORKERS:-4} --bind $(HOST):$(PORT) --access-logfile - 'lti_tool:create_app()'

# Benchmarks write their tables to benchmarks/results/.
bench: system-deps $(STAMP)
	mkdir -p benchmarks/results
	$(PY) benchmarks/matching_bench.py
	$(PY) benchmarks/launch_bench.py
	$(PY) benchmarks/insights_bench.py
	$(PY) benchmarks/data_size_bench.py
	$(PY) benchmarks/load_bench.py

# 500 learners through nginx and two instances, then a PostgreSQL restart (a private server: needs the
# postgresql server binaries, run as the postgres user when started as root). Arguments: BENCH_ARGS.
bench-load: system-deps $(STAMP) $(MO_FILES)
	mkdir -p benchmarks/results
	$(PY) benchmarks/load_bench.py $(BENCH_ARGS)

clean:
	rm -rf $(VENV) .pytest_cache
