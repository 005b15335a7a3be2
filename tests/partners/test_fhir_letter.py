"""Third review, low: the FHIR export rendered the result letter again on every
call (0.2 s of WeasyPrint each). Now it is rendered once per review version,
kept encrypted in the private file storage, rendered again when the review
changes, and purged with the case."""

import base64
from unittest import mock

import pytest

from intake import storage
from intake.models import ReviewRequest
from intake.services.retention import case_purge
from partners.models import FhirLetter
from tests.factories import UserFactory

from .conftest import auth

pytestmark = pytest.mark.django_db

reviews_documents = pytest.importorskip("reviews.documents", reason="the reviews app's letter is not in this checkout")


def _version(review, number, impression):
    from reviews.models import ReviewVersion

    review.version = number
    review.save()
    return ReviewVersion.objects.create(
        review=review,
        number=number,
        author=UserFactory(),
        impression=impression,
        decision="not_candidate",
        decision_detail="Physical therapy twice a week for six weeks.",
        next_step="We will call you to talk it through.",
    )


def _letter(client, ref, key):
    raw = client.get(f"/api/v1/cases/{ref}/fhir", **auth(key)).json()
    doc = next(e["resource"] for e in raw["entry"] if e["resource"]["resourceType"] == "DocumentReference")
    return base64.b64decode(doc["content"][0]["attachment"]["data"])


def test_the_letter_is_rendered_once_per_review_version_kept_encrypted_and_purged(
    client, seeded, key_a, referral_body, django_capture_on_commit_callbacks
):
    from reviews.models import Review

    ref = client.post("/api/v1/referrals/", referral_body, content_type="application/json", **auth(key_a)).json()[
        "reference"
    ]
    case = ReviewRequest.objects.get(reference=ref)
    review = Review.objects.create(case=case)
    first = _version(review, 1, "Your MRI shows wear that fits your pain.")
    ReviewRequest.objects.filter(pk=case.pk).update(status="not_candidate")

    with (
        mock.patch("reviews.documents.letter_pdf", wraps=reviews_documents.letter_pdf) as render,
        mock.patch("reviews.documents.summary_pdf", wraps=reviews_documents.summary_pdf) as summary,
    ):
        with django_capture_on_commit_callbacks(execute=True):
            pdfs = [_letter(client, ref, key_a) for _ in range(3)]
        assert render.call_count == 1
        assert summary.call_count == 1  # the DiagnosticReport's summary PDF: kept the same way
        assert pdfs[0].startswith(b"%PDF") and pdfs[0] == pdfs[1] == pdfs[2]
        kept = FhirLetter.objects.get(case=case, kind="letter")
        assert kept.review_version == first.pk
        with storage.mri_storage().open(storage.key_for(kept.stored_name)) as fh:
            at_rest = fh.read()
        assert at_rest.startswith(storage.MAGIC) and b"%PDF" not in at_rest  # encrypted

        # The review changes: rendered again, the old copy replaced and deleted.
        second = _version(review, 2, "Your MRI shows a disc that presses on a nerve.")
        with django_capture_on_commit_callbacks(execute=True):
            newer = _letter(client, ref, key_a)
            assert _letter(client, ref, key_a) == newer
        assert render.call_count == 2
        assert render.call_args.args[1] == second
        assert FhirLetter.objects.get(case=case, kind="letter").review_version == second.pk
        assert not storage.exists_stored(kept.stored_name)

    kept = list(FhirLetter.objects.filter(case=case))
    assert sorted(row.kind for row in kept) == ["letter", "summary"]  # the summary PDF is kept the same way
    case_purge(case_id=case.pk)
    assert not FhirLetter.objects.filter(case=case).exists()
    assert not any(storage.exists_stored(row.stored_name) for row in kept)


def test_a_damaged_kept_copy_is_rendered_again(client, seeded, key_a, referral_body):
    from reviews.models import Review

    ref = client.post("/api/v1/referrals/", referral_body, content_type="application/json", **auth(key_a)).json()[
        "reference"
    ]
    case = ReviewRequest.objects.get(reference=ref)
    _version(Review.objects.create(case=case), 1, "Your MRI shows wear that fits your pain.")
    ReviewRequest.objects.filter(pk=case.pk).update(status="not_candidate")
    assert _letter(client, ref, key_a).startswith(b"%PDF")
    FhirLetter.objects.filter(case=case).update(sha256="0" * 64)  # both kept PDFs
    assert _letter(client, ref, key_a).startswith(b"%PDF")
