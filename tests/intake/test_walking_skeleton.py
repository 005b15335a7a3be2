"""End to end with real parts: the test client submits, a real Celery worker
on the configured broker routes the case in the configured database."""

import pytest
from django.urls import reverse

from intake.models import CaseEvent, Outbox, ReviewRequest

from .helpers import submit_complete, wait_for

pytestmark = pytest.mark.worker


def test_submitted_request_is_routed_by_a_real_worker(client, seeded_tx, celery_worker):
    response = submit_complete(client)
    assert response.status_code == 302
    assert response["Location"] == reverse("intake:submitted")
    case = ReviewRequest.objects.get()

    routed = wait_for(lambda: ReviewRequest.objects.filter(pk=case.pk, routed_at__isnull=False).first())
    assert routed.queue.slug == "mri-thoracolumbar"
    assert routed.status == "triage"
    assert "MRI of the back" in routed.routing_reason
    assert CaseEvent.objects.filter(case=case, kind="routed").count() == 1
    assert Outbox.objects.get(case=case).state == "done"

    page = client.get(reverse("intake:submitted"))
    assert case.reference in page.content.decode()
