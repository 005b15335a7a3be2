"""The Celery application, configured from Django settings (CELERY_ namespace)."""

import os

from celery import Celery
from kombu import Exchange, Queue

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "clinic.settings.local")

app = Celery("clinic")
app.config_from_object("django.conf:settings", namespace="CELERY")
# Two Celery queues so a backlog of routine work never delays an urgent case.
# Each Celery queue has its own exchange and routing key: bound to one shared
# exchange and key, every message would be copied into both queues.
app.conf.task_queues = (
    Queue("urgent", Exchange("urgent", type="direct"), routing_key="urgent"),
    Queue("routine", Exchange("routine", type="direct"), routing_key="routine"),
)
app.conf.task_default_queue = "routine"
app.conf.task_default_exchange = "routine"
app.conf.task_default_routing_key = "routine"


@app.on_after_configure.connect
def _configure_db_reuse(sender, **kwargs):
    # Celery's Django fix-up closes the DB connection around every task unless
    # this old-style key is present on the app's configuration; it reads it
    # when a worker starts (celery/fixups/django.py, DjangoWorkerFixup).
    # (A named function: signals keep only weak references to receivers.)
    from django.conf import settings

    sender.conf["CELERY_DB_REUSE_MAX"] = settings.INTAKE_CELERY_DB_REUSE_MAX


app.autodiscover_tasks()
