#!/usr/bin/env bash
# Start the web server, a Celery worker and Celery beat; Ctrl-C stops them all.
set -euo pipefail
cd "$(dirname "$0")/.."
PORT=${PORT:-8000}
PY=.venv/bin/python
export DJANGO_SETTINGS_MODULE=${DJANGO_SETTINGS_MODULE:-clinic.settings.local}
mkdir -p var/log var/mail

pids=()
cleanup() {
  local status=$?
  trap - INT TERM EXIT
  echo; echo "Stopping web server, worker and beat..."
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  sleep 2
  for pid in "${pids[@]}"; do kill -KILL "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  exit "$status"
}
trap 'status=0; cleanup' INT TERM
trap cleanup EXIT

# One worker for both Celery queues is enough on a laptop; production runs
# one per queue (README, "Workers") so routine work never delays urgent work.
.venv/bin/celery -A clinic worker -Q urgent,routine -c 2 -l INFO -n "local@%h" >var/log/worker.log 2>&1 &
pids+=($!)
.venv/bin/celery -A clinic beat -l INFO >var/log/beat.log 2>&1 &
pids+=($!)
$PY manage.py runserver "127.0.0.1:$PORT" --noreload &
pids+=($!)

cat <<TXT

  Site:          http://127.0.0.1:$PORT/
  Stretching:    http://127.0.0.1:$PORT/stretching/
  MRI review:    http://127.0.0.1:$PORT/mri-review/
  Staff admin:   http://127.0.0.1:$PORT/admin/   (coordinator / clinician / supervisor, password demo-clinic-2026)
  Database:      ${DATABASE_URL:-SQLite, var/db.sqlite3}
  Broker:        ${CELERY_BROKER_URL:-kombu filesystem transport, var/broker}
  Logs:          var/log/worker.log, var/log/beat.log; emails land in var/mail/
  Workers:       one here for both Celery queues; production runs one per queue:
                 .venv/bin/celery -A clinic worker -Q urgent -n urgent@%h
                 .venv/bin/celery -A clinic worker -Q routine -n routine@%h
  Ctrl-C stops everything.

TXT
wait -n "${pids[@]}"
echo "A process stopped unexpectedly; see var/log/." >&2
exit 1
