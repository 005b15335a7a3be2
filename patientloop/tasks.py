"""Celery tasks: thin adapters, ids only (services.contact decides)."""

from celery import shared_task

from clinic.celery import backoff


@shared_task(bind=True, acks_late=True, reject_on_worker_lost=True, max_retries=8)
def send_text(self, text_id: int, delivered: bool = False):
    from .services.contact import TextDeliveredButUnmarked, text_send

    try:
        return text_send(text_id=text_id, delivered=delivered)
    except TextDeliveredButUnmarked as exc:
        # Sent: from now on only the mark is retried, never the text.
        raise self.retry(args=(text_id,), kwargs={"delivered": True}, exc=exc, countdown=backoff(self.request.retries))
    except Exception as exc:
        raise self.retry(exc=exc, countdown=backoff(self.request.retries))


@shared_task(acks_late=True)
def dispatch_patient_updates():
    """Send the patient updates whose quiet time has passed, and sweep texts (beat, every 20 s)."""
    from .services.contact import patientloop_sweep

    return patientloop_sweep()
