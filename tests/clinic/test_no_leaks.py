"""No health data where it does not belong: a unique marker planted in every
free-text answer and in the file name travels the whole path (submit, route
by a real worker, notify, triage, download, export) and must turn up in no
log record, email, Celery message, URL or audit summary."""

import logging
import uuid
from datetime import timedelta

import pytest
from celery.signals import before_task_publish
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from clinic.models import AuditEntry
from intake.models import CaseEvent, Notification, ReviewRequest
from tests.factories import MembershipFactory, UserFactory
from tests.intake import corpus
from tests.intake.helpers import fill_until, step_url, submit_complete, wait_for

pytestmark = pytest.mark.worker


class Everything(logging.Handler):
    def __init__(self):
        super().__init__(level=logging.DEBUG)
        self.records = []

    def emit(self, record):
        self.records.append(f"{record.name} {record.getMessage()} {record.exc_text or ''}")


def test_marker_never_leaves_the_case(client, seeded_tx, celery_worker, settings):
    marker = "ZQX" + uuid.uuid4().hex[:10].upper()
    handler = Everything()
    root = logging.getLogger()
    old_level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    published = []

    def on_publish(sender=None, body=None, headers=None, **kwargs):
        published.append(repr((sender, body, headers)))

    before_task_publish.connect(on_publish, weak=False)
    urls = []

    def visit(method, url, data=None, **kw):
        response = getattr(client, method)(url, data or {}, **kw)
        urls.append(url)
        if response.has_header("Location"):
            urls.append(response["Location"])
        return response

    try:
        member = MembershipFactory(queue=seeded_tx["mri-thoracolumbar"]).user
        # --- the patient -------------------------------------------------------
        fill_until(client, last="history")
        client.post(step_url("history"), {
            "diagnoses": ["other"], "diagnosis_other": f"{marker} told me", "prior_surgery": "yes",
            "prior_surgery_details": f"{marker} fusion 2019",
        })  # fmt: skip
        visit(
            "post", reverse("intake:upload"),
            {"file": SimpleUploadedFile(f"{marker}-scan.pdf", corpus.PDF)},
        )  # fmt: skip
        response = submit_complete(
            client,
            contact={"first_name": marker, "last_name": f"{marker}son"},
            history={"diagnoses": ["other"], "diagnosis_other": f"{marker} told me", "prior_surgery": "yes",
                     "prior_surgery_details": f"{marker} fusion 2019"},
            mri={"mri_status": "upload", "imaging_centre": f"{marker} Imaging"},
        )  # fmt: skip
        urls.append(response["Location"])
        case = ReviewRequest.objects.get()
        assert case.diagnosis_other.startswith(marker) and case.files.get().original_name.startswith(marker)
        wait_for(lambda: ReviewRequest.objects.filter(pk=case.pk, routed_at__isnull=False).exists())
        wait_for(lambda: not Notification.objects.filter(state="pending").exists())

        # --- the staff ---------------------------------------------------------
        staff = UserFactory(is_superuser=True, username="triage-lead")
        client.force_login(staff)
        change = reverse("admin:intake_reviewrequest_change", args=[case.pk])
        page = visit("get", change)
        assert marker in page.content.decode()  # staff do see the answers
        f = case.files.get()
        download = visit("get", reverse("admin:intake_reviewrequest_file", args=[case.pk, f.pk]))
        assert marker not in download["Content-Disposition"]
        b"".join(download.streaming_content)
        for to in ("awaiting_mri", "mri_received", "in_review"):
            case.refresh_from_db()
            visit("post", reverse("admin:intake_reviewrequest_transition", args=[case.pk]),
                  {"to_status": to, "version": case.version})  # fmt: skip
        case.refresh_from_db()
        visit("post", reverse("admin:intake_reviewrequest_transition", args=[case.pk]), {
            "to_status": "not_candidate", "version": case.version, "reason_category": "conservative_care",
            "note": f"{marker} conservative plan",
        })  # fmt: skip
        case.refresh_from_db()
        assert case.status == "not_candidate"
        visit("post", reverse("admin:intake_reviewrequest_note", args=[case.pk]), {"body": f"{marker} called"})
        export = visit("post", reverse("admin:intake_reviewrequest_export"))
        csv_text = b"".join(export.streaming_content).decode()
        assert case.reference in csv_text
        # Status updates close together are combined and sent after a quiet time (patientloop): now.
        from patientloop.services.contact import patient_updates_dispatch

        assert patient_updates_dispatch(now=timezone.now() + timedelta(hours=1)) == 1
        wait_for(lambda: not Notification.objects.filter(state="pending").exists())
    finally:
        before_task_publish.disconnect(on_publish)
        root.removeHandler(handler)
        root.setLevel(old_level)

    emails = [f"{m.subject}\n{m.body}\n{m.to}" for m in mail.outbox]
    assert {m.to[0] for m in mail.outbox} >= {member.email}
    assert len(emails) >= 3  # confirmation, staff notice, the status updates combined into one
    places = {
        "log records": handler.records,
        "emails": emails,
        "celery messages": published,
        "urls": urls,
        "audit summaries": list(AuditEntry.objects.values_list("summary", flat=True)),
        "timeline summaries": list(CaseEvent.objects.values_list("summary", flat=True)),
        "csv export": [csv_text],
    }
    assert published and handler.records and urls
    leaks = {where: [x for x in items if marker in x] for where, items in places.items()}
    assert {where: found for where, found in leaks.items() if found} == {}
