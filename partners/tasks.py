"""Thin tasks: ids only; the services decide."""

from celery import shared_task

from clinic.celery import backoff


@shared_task(bind=True, acks_late=True, reject_on_worker_lost=True, max_retries=8)
def deliver_webhook(self, delivery_id: int, delivered: bool = False):
    from .services import DeliveredButUnmarked, webhook_delivery_send

    try:
        return webhook_delivery_send(delivery_id=delivery_id, delivered=delivered)
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
