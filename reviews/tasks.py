"""Celery tasks of the reviews app: thin adapters over reviews.services."""

from celery import shared_task


@shared_task(acks_late=True)
def send_consult_reminders():
    """Beat, hourly: the day-before reminders (idempotent, see the service)."""
    from .services import consult_reminders_send

    return consult_reminders_send()
