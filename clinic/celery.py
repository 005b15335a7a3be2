"""The Celery application, configured from Django settings (CELERY_ namespace)."""

import logging
import os
import random

from celery import Celery
from celery.signals import task_prerun, worker_ready
from kombu import Exchange, Queue

# Like cookiecutter-django: a process that does not say which settings it
# wants gets production's, which refuse to start without their environment.
# `make run`, manage.py and the tests name theirs.
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "clinic.settings.production")
log = logging.getLogger(__name__)

app = Celery("clinic")
app.config_from_object("django.conf:settings", namespace="CELERY")
# Two Celery queues so a backlog of routine work never delays an urgent case,
# and a third for partners' webhooks (settings.CELERY_TASK_ROUTES), so a slow
# endpoint never delays either. Each Celery queue has its own exchange and
# routing key: bound to one shared exchange and key, every message would be
# copied into every queue.
app.conf.task_queues = (
    Queue("urgent", Exchange("urgent", type="direct"), routing_key="urgent"),
    Queue("routine", Exchange("routine", type="direct"), routing_key="routine"),
    Queue("webhooks", Exchange("webhooks", type="direct"), routing_key="webhooks"),
)
app.conf.task_default_queue = "routine"
app.conf.task_default_exchange = "routine"
app.conf.task_default_routing_key = "routine"


# The longest wait before a retry (the outbox sweep's windows are built on it).
BACKOFF_MAX_SECONDS = 300


def backoff_ceiling(retries: int) -> float:
    """The longest wait ``backoff(retries)`` can give: 2, 4, 8 ... 300 seconds."""
    return min(BACKOFF_MAX_SECONDS, 2 ** (retries + 1))


def backoff(retries: int) -> float:
    """Exponential backoff with full jitter: up to backoff_ceiling(retries).

    The retry countdown of every app's tasks (``self.retry(countdown=...)``)."""
    return random.uniform(0, backoff_ceiling(retries))


@app.on_after_configure.connect
def _configure_db_reuse(sender, **kwargs):
    # Celery's Django fix-up closes the DB connection around every task unless
    # this old-style key is present on the app's configuration; it reads it
    # when a worker starts (celery/fixups/django.py, DjangoWorkerFixup).
    # (A named function: signals keep only weak references to receivers.)
    from django.conf import settings

    sender.conf["CELERY_DB_REUSE_MAX"] = settings.INTAKE_CELERY_DB_REUSE_MAX


@task_prerun.connect
def _replace_broken_db_connections(sender=None, **kwargs):
    """Give each task a working database connection, still reused between tasks.

    With connection reuse on, Celery's fix-up never checks the connection it
    keeps, and tasks run outside Django's request cycle, which is where Django
    normally does (close_old_connections). After a PostgreSQL restart the kept
    connection is dead and every task failed until the worker was restarted.
    This does what a request does: close a connection that errored or outlived
    CONN_MAX_AGE, and (CONN_HEALTH_CHECKS) ping the kept one before the task's
    first query, reconnecting if the ping fails. One round trip per task.
    """
    from django.db import close_old_connections, connections

    if getattr(getattr(sender, "request", None), "is_eager", False):
        return
    if any(c.in_atomic_block for c in connections.all(initialized_only=True)):
        return  # never inside a caller's transaction (a task run inline)
    close_old_connections()


@worker_ready.connect
def _check_clock(sender=None, **kwargs):
    """Refuse to trust a worker whose clock disagrees with the database's."""
    from intake.clock import check_skew

    check_skew()


app.autodiscover_tasks()
