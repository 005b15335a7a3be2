"""Recording a CSV export of cases: every case exported gets a timeline
event, and the export one audit entry naming them. The CSV itself is built by
the admin (intake.admin.export); this is the write that goes with it."""

from collections.abc import Sequence

from django.db import transaction
from django.utils import timezone

from clinic.models import AuditEntry, audit_record

from ..models import CaseEvent


def cases_record_export(*, cases: Sequence[tuple[int, str]], actor) -> int:
    """Record that ``cases`` ((pk, reference) pairs) were exported by ``actor``.

    One transaction, a fixed number of writes whatever the size (the events in
    batches, one audit entry), so an export of every case stays cheap. Returns
    the number of cases recorded.
    """
    now = timezone.now()
    references = [reference for _, reference in cases]
    with transaction.atomic():
        CaseEvent.objects.bulk_create(
            [
                CaseEvent(
                    case_id=pk,
                    kind=CaseEvent.Kind.EXPORTED,
                    actor=actor,
                    summary=f"Included in a CSV export of {len(cases)} case(s)",
                    created_at=now,
                )
                for pk, _ in cases
            ],
            batch_size=500,
        )
        # The request (for the address) comes from clinic.middleware's current request.
        audit_record(
            action=AuditEntry.Action.EXPORT,
            summary=f"Exported {len(cases)} case(s) to CSV: {', '.join(references)}"[:300],
            actor=actor,
            object_type="case",
            object_ref=references[0] if len(references) == 1 else "",
        )
    return len(cases)
