"""The retention purge's part for this app (INTAKE_PURGE_HOOKS): called by
intake.services.retention.case_purge in its transaction, under the case lock."""

from ..models import CallTask, PatientRequest, PendingUpdate, TextMessage


def case_patientloop_purge(*, case) -> None:
    """The patient's answers and the clinic's questions (health data), the
    phone numbers texts went to, and anything still waiting to be sent."""
    PatientRequest.objects.filter(case=case).update(questions="", answer="")
    TextMessage.objects.filter(case=case).update(recipient="")
    TextMessage.objects.filter(case=case, state=TextMessage.State.PENDING).update(state=TextMessage.State.FAILED)
    PendingUpdate.objects.filter(case=case, state=PendingUpdate.State.PENDING).update(state=PendingUpdate.State.DROPPED)
    CallTask.objects.filter(case=case, done_at__isnull=True).delete()
