"""Retention of the received studies' headers (health data)."""

from datetime import date, timedelta

from clinic.models import AuditEntry
from dicomnode.models import ReceivedStudy
from dicomnode.services import received_studies_purge
from intake import clock
from intake.transitions import Status
from tests.factories import CaseFactory

S = ReceivedStudy.State
HEADER = {"patient_name": "VOSS^KARA", "patient_id": "H-1", "patient_birth_date": date(1950, 1, 2)}


def study(n, **kw):
    return ReceivedStudy.objects.create(orthanc_id=f"{n:08x}-00000000-00000000-00000000-00000000", **HEADER, **kw)


def test_headers_follow_their_case_and_unmatched_studies_expire(db, settings):
    settings.INTAKE_RETENTION_DAYS = 30
    now = clock.now()
    purged_case = CaseFactory(status=Status.CLOSED, purged_at=now)
    open_case = CaseFactory(status=Status.MRI_RECEIVED)
    of_purged = study(1, state=S.ATTACHED, case=purged_case)
    of_open = study(2, state=S.ATTACHED, case=open_case)
    old_unmatched = study(3, state=S.UNMATCHED, received_at=now - timedelta(days=31))
    recent_unmatched = study(4, state=S.UNMATCHED, received_at=now - timedelta(days=29))
    old_failed = study(5, state=S.FAILED, received_at=now - timedelta(days=31))  # still being retried

    assert received_studies_purge(now=now) == {"blanked": 1, "deleted": 1}
    of_purged.refresh_from_db()
    assert (of_purged.patient_name, of_purged.patient_id, of_purged.patient_birth_date) == ("", "", None)
    of_open.refresh_from_db()
    assert of_open.patient_name == "VOSS^KARA"
    assert not ReceivedStudy.objects.filter(pk=old_unmatched.pk).exists()
    assert ReceivedStudy.objects.filter(pk__in=[recent_unmatched.pk, old_failed.pk]).count() == 2
    assert AuditEntry.objects.filter(action=AuditEntry.Action.PURGE, object_type="received_study").count() == 1
    # Nothing left to do: no second audit entry.
    assert received_studies_purge(now=now) == {"blanked": 0, "deleted": 0}
    assert AuditEntry.objects.filter(action=AuditEntry.Action.PURGE, object_type="received_study").count() == 1
