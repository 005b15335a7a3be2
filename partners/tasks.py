"""Thin tasks: ids only; the services decide. Both run on the ``webhooks``
Celery queue (settings.CELERY_TASK_ROUTES), apart from cases and patients."""

import logging

from celery import shared_task

from clinic.celery import backoff

log = logging.getLogger(__name__)


@shared_task(bind=True, acks_late=True, reject_on_worker_lost=True, max_retries=8)
def deliver_webhook(self, delivery_id: int, delivered: bool = False):
    from .services import DeliveredButUnmarked, EndpointBusy, webhook_delivery_send

    try:
        return webhook_delivery_send(delivery_id=delivery_id, delivered=delivered)
    except EndpointBusy as exc:
        # Its turn comes later: a new message, not one of the retries below
        # (waiting is not failing). Should it not be published, the sweep
        # enqueues the still-pending delivery again.
        try:
            self.apply_async(args=(delivery_id,), countdown=exc.retry_after, retry=False)
        except Exception as publish_error:
            log.warning("webhook delivery %s left to the sweep: %s", delivery_id, type(publish_error).__name__)
        return False
    except DeliveredButUnmarked as exc:
        # Delivered: from now on only the mark is retried, never the request.
        raise self.retry(
            args=(delivery_id,), kwargs={"delivered": True}, exc=exc, countdown=backoff(self.request.retries)
        )


@shared_task(acks_late=True)
def sweep_webhooks():
    """Beat, every 10 s: new events to deliveries, and what is due enqueued."""
    from .services import webhooks_sweep

    return webhooks_sweep()
