"""Celery tasks: thin adapters. Ids only in arguments, never health data.

Each fetches by id, calls one service and decides whether to retry. Every
task is safe to run twice: the services lock the row and return early when
the work is already done.
"""

import logging

from celery import shared_task

# Every app's retry policy is the project's (clinic.celery).
from clinic.celery import backoff
from clinic.dbengine import longer_statements

from .services.dispatch import MAX_NOTIFICATION_ATTEMPTS

log = logging.getLogger(__name__)


@shared_task(bind=True, acks_late=True, reject_on_worker_lost=True, max_retries=8)
def route_case(self, case_id: int):
    from .services.dispatch import case_route_delivery

    try:
        return case_route_delivery(case_id=case_id)
    except Exception as exc:
        raise self.retry(exc=exc, countdown=backoff(self.request.retries))


@shared_task(bind=True, acks_late=True, reject_on_worker_lost=True, max_retries=MAX_NOTIFICATION_ATTEMPTS - 1)
def send_notification(self, notification_id: int, delivered: bool = False):
    from .services.notifications import DeliveredButUnmarked, notification_send

    try:
        return notification_send(notification_id=notification_id, delivered=delivered)
    except DeliveredButUnmarked as exc:
        # Sent: from now on only the mark is retried, never the email.
        raise self.retry(
            args=(notification_id,), kwargs={"delivered": True}, exc=exc, countdown=backoff(self.request.retries)
        )
    except Exception as exc:
        raise self.retry(exc=exc, countdown=backoff(self.request.retries))


@shared_task(acks_late=True)
def sweep_outbox():
    """Re-enqueue what the broker never delivered (services.dispatch.outbox_sweep)."""
    from .services.dispatch import outbox_sweep

    return outbox_sweep()


@shared_task(acks_late=True)
def escalate_overdue():
    from .services.lifecycle import cases_escalate_overdue

    return cases_escalate_overdue()


# Beat's housekeeping may meet a large backlog; nobody waits on it, so its
# statements may run past the web's 10 s limit (clinic.dbengine.longer_statements).
HOUSEKEEPING_STATEMENT_SECONDS = 600


@shared_task(acks_late=True)
def purge_expired_cases():
    from .services.retention import cases_purge_expired

    with longer_statements(HOUSEKEEPING_STATEMENT_SECONDS):
        return cases_purge_expired(dry_run=False)["purged"]


@shared_task(acks_late=True)
def send_system_alert(alert_id: int):
    from .services.alerts import system_alert_send

    return system_alert_send(alert_id=alert_id)


@shared_task(acks_late=True, soft_time_limit=600, time_limit=900)
def delete_expired_draft_files():
    """Delete MRI files of drafts that ended without a request (beat, hourly)."""
    from .services.retention import draft_files_delete_expired

    with longer_statements(HOUSEKEEPING_STATEMENT_SECONDS):
        return draft_files_delete_expired(dry_run=False)["deleted"]


@shared_task(acks_late=True, soft_time_limit=600, time_limit=900)
def clear_expired_sessions():
    """Django's clearsessions: expired sessions (abandoned drafts with answers) leave the database."""
    from django.core.management import call_command

    with longer_statements(HOUSEKEEPING_STATEMENT_SECONDS):
        call_command("clearsessions")
