"""Hypothesis throws generated payloads at every patient POST endpoint:
whatever arrives, the answer is a page or a redirect, never a 5xx."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from intake.forms import STEP_FORMS
from intake.models import ReviewRequest
from intake.status_links import status_link

from .helpers import fill_until, step_url

pytestmark = pytest.mark.django_db

EXAMPLES = 160  # x 8 endpoints = 1,280 payloads

text = st.one_of(
    st.text(max_size=60),
    st.sampled_from(["", "yes", "no", "on", "0", "-1", "11", "1e9", "NaN", "2026-13-45", "1970-03-21", "../../etc/passwd",
                     "<script>alert(1)</script>", "' OR 1=1 --", "\x00", "💥" * 50, "9" * 400]),
)  # fmt: skip
value = st.one_of(text, st.lists(text, max_size=4))


def field_names(step):
    form = STEP_FORMS[step]()
    return list(form.fields) + ["csrfmiddlewaretoken", "website", "unexpected"]


def payloads(names):
    return st.dictionaries(st.sampled_from(names), value, max_size=len(names))


def post(client, url, data):
    response = client.post(url, data)
    assert response.status_code < 500, (url, data)
    return response


common = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@pytest.mark.parametrize("step", list(STEP_FORMS))
def test_fuzz_each_step(client, seeded, step):
    previous = {
        "safety": None,
        "contact": "safety",
        "pain": "contact",
        "history": "pain",
        "mri": "history",
        "consent": "mri",
    }
    if previous[step]:
        fill_until(client, last=previous[step])

    @common
    @given(payloads(field_names(step)))
    def run(data):
        post(client, step_url(step), data)

    run()


def test_fuzz_urgent_call_back(client, seeded):
    @common
    @given(payloads(["first_name", "last_name", "phone", "consent_phone", "website", "x"]))
    def run(data):
        post(client, reverse("intake:urgent"), data)

    run()


def test_fuzz_upload_and_status(client, seeded, settings):
    settings.INTAKE_STATUS_LIMIT_PER_HOUR = 10_000
    fill_until(client, last="safety")
    client.post(step_url("contact"), {})  # keep the draft alive
    from .helpers import submit_complete

    case_client = type(client)()
    submit_complete(case_client)
    url = status_link(ReviewRequest.objects.get())

    @common
    @given(st.binary(max_size=2048), st.text(max_size=40), payloads(["date_of_birth", "x"]), st.text(max_size=80))
    def run(blob, name, status_data, token):
        response = client.post(
            reverse("intake:upload"),
            {"file": SimpleUploadedFile(name.replace("/", "").replace("\\", "") or "f", blob)},
            headers={"Accept": "application/json"},
        )
        assert response.status_code < 500
        post(client, url, status_data)
        bad = token.replace("/", "")
        if bad:
            post(client, reverse("intake:status", args=[bad]), status_data)

    run()
