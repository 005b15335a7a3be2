"""A complete, valid walk through the patient's steps with Django's test client."""

from django.urls import reverse

from tests.support.processes import wait_for  # noqa: F401  (re-exported: the intake tests' import)

SAFETY_NO = {flag: "no" for flag in (
    "bladder_bowel", "saddle_numbness", "weakness", "fever", "trauma", "cancer", "weight_loss", "gait_hands",
)}  # fmt: skip
CONTACT = {
    "first_name": "Pat",
    "last_name": "Example",
    "date_of_birth": "1970-03-21",
    "email": "pat@example.com",
    "phone": "(312) 555-0142",
    "postal_code": "60614",
    "state": "IL",
    "contact_method": "email",
    "contact_time": "morning",
}
PAIN = {
    "regions": ["lower_back"],
    "side": "left",
    "pain_duration": "3m_12m",
    "severity": "6",
    "radiating_pain": "yes",
    "numbness": "no",
    "weakness": "no",
}
HISTORY = {"diagnoses": ["herniated_disc"], "treatment_physical_therapy": "6w_3m", "prior_surgery": "no"}
MRI = {
    "mri_status": "centre_sends",
    "mri_month": "6",
    "mri_year": "2026",
    "mri_region": "lower_back",
    "imaging_centre": "Lakeside Imaging, Chicago",
}
CONSENT = {"source": "article", "consent_privacy": "on", "consent_email": "on"}

STEPS = [("safety", SAFETY_NO), ("contact", CONTACT), ("pain", PAIN), ("history", HISTORY), ("mri", MRI)]


def step_url(name):
    return reverse("intake:start") if name == "safety" else reverse("intake:step", args=[name])


def fill_until(client, last=None, **overrides):
    """POST every step up to and including ``last`` (all but consent by default)."""
    for name, data in STEPS:
        payload = {**data, **overrides.get(name, {})}
        response = client.post(step_url(name), payload)
        assert response.status_code == 302, (name, _errors(response))
        if name == last:
            return response
    return response


def submit_complete(client, **overrides):
    fill_until(client, **overrides)
    return client.post(step_url("consent"), {**CONSENT, **overrides.get("consent", {})})


def _errors(response):
    form = response.context.get("form") if response.context else None
    return form.errors if form is not None else response.status_code
