"""Celery tasks of the project app: thin adapters over one function each."""

from celery import shared_task


@shared_task(acks_late=True, ignore_result=True)
def export_audit_head():
    """Beat, every INTAKE_AUDIT_ANCHOR_SECONDS: the audit chain's head hash to
    the "audit" storage (clinic.audit_anchors). Running twice writes two
    anchors, both true; nothing to retry, the next beat exports again."""
    from .audit_anchors import audit_head_export

    return audit_head_export()


@shared_task(ignore_result=True)
def beat_heartbeat():
    """Beat, every INTAKE_BEAT_HEARTBEAT_SECONDS: scheduled work reached a
    worker (clinic.beat). Nothing to retry: the next beat writes it again."""
    from .beat import PERIODIC, heartbeat_record

    heartbeat_record(PERIODIC)
