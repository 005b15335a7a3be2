"""Enqueueing Celery tasks: after commit, by id, never failing the caller.

If the broker is down the work stays recorded in the database (the outbox row
or the pending notification) and a periodic sweep enqueues it later.
"""

import logging

from django.db import transaction

log = logging.getLogger(__name__)


def enqueue_on_commit(task, *args, urgent: bool = False):
    transaction.on_commit(lambda: enqueue_now(task, *args, urgent=urgent))


def enqueue_now(task, *args, urgent: bool = False) -> bool:
    try:
        task.apply_async(args=args, queue="urgent" if urgent else "routine", retry=False)
        return True
    except Exception as exc:  # broker down or misconfigured: the sweeper will retry
        log.warning("enqueue of %s%r deferred to the sweeper: %s: %s", task.name, args, type(exc).__name__, exc)
        return False
