"""Celery tasks: thin adapters, ids only (services.contact decides).

Texts have no task of their own: they are intake's notifications on the text
channel, sent by intake.tasks.send_notification."""

from celery import shared_task


@shared_task(acks_late=True)
def dispatch_patient_updates():
    """Send the patient updates whose quiet time has passed (beat, every 20 s)."""
    from .services.contact import patientloop_sweep

    return patientloop_sweep()
