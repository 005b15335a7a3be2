"""Shared set-up for the admin tests (imported by the test_admin_* modules;
it holds no tests itself).

Two queues, A and B; a coordinator in each; a clinician in A; a supervisor
(no queue, "view all cases"); a superuser. Groups and their permissions come
from the seed, as in production.
"""

from datetime import timedelta
from types import SimpleNamespace

from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from intake.services.files import mri_file_add
from intake.transitions import Status
from tests.factories import CaseFactory, MembershipFactory, StaffQueueFactory, UserFactory
from tests.intake import corpus

# A PDF a parser reads to the end (uploads are judged by one: intake.pdfcheck).
PDF = corpus.PDF


def make_staff():
    """Call from a ``staff`` fixture that depends on ``seeded`` (groups and rules)."""
    queue_a = StaffQueueFactory(name="Queue A", slug="queue-a", sla_hours=24)
    queue_b = StaffQueueFactory(name="Queue B", slug="queue-b", sla_hours=24)
    coord_a = UserFactory(username="coord_a", groups=["Coordinator"])
    coord_b = UserFactory(username="coord_b", groups=["Coordinator"])
    clinician = UserFactory(username="clinician_a", groups=["Clinician"])
    supervisor = UserFactory(username="supervisor", groups=["Supervisor"])
    superuser = UserFactory(username="root", is_superuser=True)
    MembershipFactory(queue=queue_a, user=coord_a)
    MembershipFactory(queue=queue_b, user=coord_b)
    MembershipFactory(queue=queue_a, user=clinician)
    return SimpleNamespace(
        queue_a=queue_a,
        queue_b=queue_b,
        coord_a=coord_a,
        coord_b=coord_b,
        clinician=clinician,
        supervisor=supervisor,
        superuser=superuser,
    )


def make_case(queue, status=Status.TRIAGE, **kwargs):
    now = timezone.now()
    defaults = {
        "queue": queue,
        "status": status,
        "routed_at": now,
        "sla_due_at": now + timedelta(hours=20),
    }
    defaults.update(kwargs)
    return CaseFactory(**defaults)


def add_pdf(case, name="knee-scan.pdf"):
    return mri_file_add(uploaded=SimpleUploadedFile(name, PDF, content_type="application/pdf"), case=case)


def change_url(case):
    return reverse("admin:intake_reviewrequest_change", args=[case.pk])


def transition_url(case):
    return reverse("admin:intake_reviewrequest_transition", args=[case.pk])


def file_url(case, f):
    return reverse("admin:intake_reviewrequest_file", args=[case.pk, f.pk])


def changelist_url():
    return reverse("admin:intake_reviewrequest_changelist")


def messages_of(response):
    return [str(m) for m in response.context["messages"]] if response.context else []


def follow_messages(client, response):
    """The messages a POST left for the next page (read on the admin index, which
    unlike the case page writes no audit entry)."""
    assert response.status_code == 302, response.status_code
    page = client.get(reverse("admin:index"))
    return [str(m) for m in page.context["messages"]]
