#!/usr/bin/env bash
# Start the web server, two Celery workers and Celery beat under a supervisor
# (scripts/supervise.py) that restarts whichever stops; Ctrl-C stops them all.
set -euo pipefail
cd "$(dirname "$0")/.."
PORT=${PORT:-8000}
PY=.venv/bin/python
export DJANGO_SETTINGS_MODULE=${DJANGO_SETTINGS_MODULE:-clinic.settings.local}
# Links in emails point at the port this run serves on.
export INTAKE_SITE_URL=${INTAKE_SITE_URL:-http://127.0.0.1:$PORT}
VAR=${INTAKE_VAR_DIR:-var}
mkdir -p "$VAR/log" "$VAR/mail"

cat <<TXT

  Site:          http://127.0.0.1:$PORT/
  Stretching:    http://127.0.0.1:$PORT/stretching/
  MRI review:    http://127.0.0.1:$PORT/mri-review/
  Staff admin:   http://127.0.0.1:$PORT/admin/   (coordinator / clinician / supervisor, password demo-clinic-2026)
  Database:      ${DATABASE_URL:-SQLite, $VAR/db.sqlite3}
  Broker:        ${CELERY_BROKER_URL:-embedded (atomic filesystem transport), $VAR/broker}
  Logs:          $VAR/log/web.log, worker.log, webhooks.log, beat.log (appended); restarts in $VAR/log/supervisor.log
  Emails:        $VAR/mail/
  Workers:       one here for both case queues and one for partners' webhooks; production runs one per queue:
                 .venv/bin/celery -A clinic worker -Q urgent -n urgent@%h
                 .venv/bin/celery -A clinic worker -Q routine -n routine@%h
                 .venv/bin/celery -A clinic worker -Q webhooks -c 4 -n webhooks@%h
  A process that stops is started again; Ctrl-C stops everything.

TXT
exec "$PY" scripts/supervise.py --port "$PORT" --log-dir "$VAR/log"
