# The README's commands. `make run` and `make test` set everything up themselves.
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
PORT ?= 8000

.PHONY: run test lint mypy format bench bench-imaging bench-webhooks loadtest two-nodes soak install install-dev browser-deps dicom-deps pdf-deps gettext-deps messages clean

$(VENV)/bin/python:
	@PYBIN=$$(scripts/find-python.sh) || exit 1; echo "Using $$PYBIN"; $$PYBIN -m venv $(VENV)
	@$(PY) -m pip install --quiet --upgrade pip

$(VENV)/.installed: requirements.txt | $(VENV)/bin/python
	$(PY) -m pip install --quiet -r requirements.txt
	@touch $@

$(VENV)/.installed-dev: requirements.txt requirements-dev.txt | $(VENV)/bin/python
	$(PY) -m pip install --quiet -r requirements-dev.txt
	@touch $@ $(VENV)/.installed

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

node_modules/axe-core/axe.min.js: package.json
	npm ci --no-audit --no-fund --silent
	@touch $@

browser-deps: node_modules/axe-core/axe.min.js
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get install -y -q chromium >/dev/null || (apt-get update -q && apt-get install -y -q chromium); \
	  else echo "Browser tests need Debian's chromium: sudo apt-get install -y chromium" >&2; exit 1; fi; }

run: install
	@mkdir -p var
	$(PY) manage.py migrate --noinput
	$(PY) manage.py seed_demo
	PORT=$(PORT) scripts/run.sh

# The DICOM node's tests run a real Orthanc and send with dcmtk's storescu (Debian packages;
# the tests start Orthanc themselves, never the system service).
dicom-deps:
	@command -v Orthanc >/dev/null 2>&1 && command -v storescu >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get install -y -q orthanc dcmtk >/dev/null || (apt-get update -q && apt-get install -y -q orthanc dcmtk); \
	  else echo "The DICOM node's tests need Debian's orthanc and dcmtk: sudo apt-get install -y orthanc dcmtk" >&2; exit 1; fi; }

# The result letter PDFs (WeasyPrint) need Debian's Pango, HarfBuzz and the DejaVu fonts.
PDF_PACKAGES = libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz0b fonts-dejavu-core
pdf-deps:
	@dpkg-query -W $(PDF_PACKAGES) >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get install -y -q $(PDF_PACKAGES) >/dev/null || (apt-get update -q && apt-get install -y -q $(PDF_PACKAGES)); \
	  else echo "The PDF tests need: sudo apt-get install -y $(PDF_PACKAGES)" >&2; exit 1; fi; }

# Translations: locale/*/LC_MESSAGES/*.po are written by hand; the compiled .mo files are committed,
# so a fresh clone runs without gettext. `make messages` (Debian's gettext) collects new words and
# compiles; fill every new msgstr, then run it again (tests/clinic/test_catalogue.py checks both).
gettext-deps:
	@command -v msgfmt >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get install -y -q gettext >/dev/null || (apt-get update -q && apt-get install -y -q gettext); \
	  else echo "Translations need Debian's gettext: sudo apt-get install -y gettext" >&2; exit 1; fi; }

messages: install gettext-deps
	$(PY) manage.py makemessages -l es -d django --ignore=.venv --ignore=node_modules --ignore=bench --ignore=tests
	$(PY) manage.py compilemessages -l es --ignore=.venv --ignore=node_modules

test: install-dev browser-deps dicom-deps pdf-deps gettext-deps
	msgfmt --check -o /dev/null locale/es/LC_MESSAGES/django.po
	@echo "Database: $${DATABASE_URL:-SQLite (embedded default)}" | sed -E 's#//[^@]*@#//#'
	@echo "Broker:   $${CELERY_BROKER_URL:-kombu filesystem transport (embedded default)}" | sed -E 's#//[^@]*@#//#'
	$(PY) -m pytest $(PYTEST_ARGS)

lint: install-dev
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports  # layers: pure modules <- services <- tasks/views/admin (.importlinter)
	$(VENV)/bin/djlint templates $$(ls -d */templates 2>/dev/null) --lint --profile=django
	@$(MAKE) --no-print-directory mypy

# The typed core: services, selectors and the pure modules (pyproject.toml [tool.mypy]).
mypy: install-dev
	DJANGO_SETTINGS_MODULE=clinic.settings.test $(VENV)/bin/mypy intake/services intake/selectors.py intake/sla.py \
	  intake/clock.py intake/transitions.py intake/rules.py intake/status_links.py intake/patient_session.py \
	  patientloop/services patientloop/selectors.py patientloop/channels.py clinic/sms.py

format: install-dev
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

bench: install-dev
	$(PY) bench/run.py
	$(MAKE) --no-print-directory bench-imaging
	$(MAKE) --no-print-directory bench-webhooks

# POST a referral -> its webhook verified at the partner, 50 referrals (bench/results/webhooks.json).
bench-webhooks: install-dev
	$(PY) bench/webhooks_bench.py $(BENCH_WEBHOOKS_ARGS)

# The MRI viewer: first image, slice to slice, web workers' memory (bench/results/imaging.json).
bench-imaging: install-dev
	$(PY) bench/imaging_bench.py $(BENCH_IMAGING_ARGS)

loadtest: install-dev
	$(PY) bench/loadtest.py $(LOADTEST_ARGS)

# Two nodes on one machine behind proxies, one killed mid-run (docs/operations.md; TWO_NODES_ARGS="--patients 40").
two-nodes: install-dev
	$(PY) bench/two_nodes.py $(TWO_NODES_ARGS)

# The embedded default as `make run` starts it, a submission a second (SOAK_MINUTES, default 30).
soak: install
	$(PY) bench/soak.py --minutes $${SOAK_MINUTES:-30} $(SOAK_ARGS)

clean:
	rm -rf var/broker var/test-db.sqlite3 .pytest_cache
