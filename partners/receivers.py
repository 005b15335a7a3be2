"""partners' answers to what happens to a case (connected in PartnersConfig.ready).

intake knows nothing of partners (.importlinter), and its status events are
written with ``bulk_create`` (no signal of their own), so the seam is Django's
``post_save`` of the case itself: every status change saves the case
(intake.services.lifecycle is the one writer of ``status``). The receiver
only defers work until the transaction commits; the service does the writes.
"""

from django.db import transaction


def case_saved(sender, instance, created, update_fields=None, **kwargs):
    """A case changed: once it commits, its partner's webhooks are enqueued
    (services.webhook_deliveries_for_case), within a second of the change
    instead of at the next 10 s sweep, which stays as the safety net. A save
    that changed nothing for partners finds nothing to send (one query, after
    the commit, off every lock)."""
    if created or (update_fields is not None and "status" not in update_fields):
        return  # a new case has no status change yet; saves that leave the status alone send nothing
    case_id = instance.pk

    def enqueue():
        from .services import webhook_deliveries_for_case

        webhook_deliveries_for_case(case_id=case_id)

    # robust: a failure here is logged and left to the sweep; the change itself is committed.
    transaction.on_commit(enqueue, robust=True)
