"""The retention purge's part for this app (INTAKE_PURGE_HOOKS): called by
intake.services.retention.case_purge in its transaction, under the case lock."""

from ..models import CallTask, PatientRequest, PendingUpdate


def case_patientloop_purge(*, case) -> None:
    """The patient's answers and the clinic's questions (health data), and
    anything still waiting to be sent (texts are intake's notifications,
    purged with them)."""
    PatientRequest.objects.filter(case=case).update(questions="", answer="")
    PendingUpdate.objects.filter(case=case, state=PendingUpdate.State.PENDING).update(state=PendingUpdate.State.DROPPED)
    CallTask.objects.filter(case=case, done_at__isnull=True).delete()
