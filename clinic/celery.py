"""The Celery application, configured from Django settings (CELERY_ namespace)."""

import os

from celery import Celery
from kombu import Queue

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "clinic.settings.local")

app = Celery("clinic")
app.config_from_object("django.conf:settings", namespace="CELERY")
# Two Celery queues so a backlog of routine work never delays an urgent case.
app.conf.task_queues = (Queue("urgent"), Queue("routine"))
app.conf.task_default_queue = "routine"


@app.on_after_configure.connect
def _configure_db_reuse(sender, **kwargs):
    # Celery's Django fix-up closes the DB connection around every task unless
    # this old-style key is present on the app's configuration; it reads it
    # when a worker starts (celery/fixups/django.py, DjangoWorkerFixup).
    # (A named function: signals keep only weak references to receivers.)
    from django.conf import settings

    sender.conf["CELERY_DB_REUSE_MAX"] = settings.INTAKE_CELERY_DB_REUSE_MAX


app.autodiscover_tasks()
