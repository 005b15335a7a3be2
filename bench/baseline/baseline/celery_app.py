"""The bare Celery task: read one row, update it, with a persistent database
connection, on the same broker and worker settings as the clinic's worker.

    celery -A baseline.celery_app worker -Q bare -c 2   (from bench/baseline)
"""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "baseline.settings")

app = Celery("baseline")
app.config_from_object("django.conf:settings", namespace="CELERY")


@app.on_after_configure.connect
def _configure_db_reuse(sender, **kwargs):
    # The same switch clinic/celery.py sets: Celery's Django fix-up closes the
    # connection around every task unless CELERY_DB_REUSE_MAX is configured.
    # A named function: signals keep only weak references (a lambda is lost).
    from django.conf import settings

    sender.conf["CELERY_DB_REUSE_MAX"] = settings.BASELINE_CELERY_DB_REUSE_MAX


@app.task(name="baseline.bare_task", acks_late=True, reject_on_worker_lost=True)
def bare_task(row_id: int):
    from django.utils import timezone

    from .models import BareRow

    row = BareRow.objects.get(pk=row_id)
    row.counter += 1
    row.touched_at = timezone.now()
    row.save(update_fields=["counter", "touched_at"])
    return True
