# Every target sets itself up: a fresh clone needs only Python 3.11+ and make.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PORT ?= 8000
STAMP := $(VENV)/.installed-$(shell cksum pyproject.toml | cut -d' ' -f1)

.PHONY: install demo demo-content serve test lint format migrate bench prod-check clean browser-deps

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11) and "Python 3.11+ is required")'
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[test]"
	rm -f $(VENV)/.installed-*
	touch $(STAMP)

install: $(STAMP)

migrate: install
	@mkdir -p var
	$(PY) manage.py migrate --noinput

demo: demo-content
	$(PY) manage.py runserver 127.0.0.1:$(PORT)

# Demo content (created once: a re-run keeps editors' changes), then two sample imports that
# land in the review queue (both idempotent; load_demo records the feed source's rights).
demo-content: migrate
	$(PY) manage.py load_demo
	$(PY) manage.py import_feed demo/feeds/tidewater-notes.xml --source tidewater-notes \
		--status review
	$(PY) manage.py import_wxr demo/wxr/lantern-quarterly.xml --source lantern-quarterly \
		--no-images --status draft

serve: migrate
	$(PY) manage.py runserver 127.0.0.1:$(PORT)

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: install
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

# The suite runs in parallel, one worker per CPU (pytest-xdist); PYTEST_ARGS="-n 0" runs it in
# one process, PYTEST_ARGS="-n 2 -k search" picks workers and tests.
PYTEST_ARGS ?= -n auto
test: lint
	DJANGO_SETTINGS_MODULE=config.settings.test $(PY) manage.py makemigrations --check --dry-run
	$(PY) -m pytest $(PYTEST_ARGS)

bench: install
	$(PY) bench/run.py

prod-check: install
	DJANGO_SETTINGS_MODULE=config.settings.prod \
	SECRET_KEY=prod-check-$$(head -c 48 /dev/urandom | od -An -tx1 | tr -d ' \n') \
	ALLOWED_HOSTS=news.example.org \
	CACHE_URL=$${CACHE_URL:-redis://127.0.0.1:6379/0} \
	$(PY) manage.py check --deploy --fail-level WARNING

clean:
	rm -rf $(VENV) var/static .pytest_cache

# What the browser tests need beyond the virtualenv (.ci/run does the same): Debian's Chromium
# (as root) and axe-core at the version pinned in package.json, into node_modules/.
browser-deps:
	test -x /usr/bin/chromium || (apt-get update -qq && apt-get install -y -qq chromium)
	npm install --no-save --no-package-lock --no-audit --no-fund --silent \
		"axe-core@$$(node -p 'require("./package.json").devDependencies["axe-core"]')"
