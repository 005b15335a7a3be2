"""Issue 23 point 3: everything a Spanish-speaking patient reads is Spanish.

Rendered in Spanish, through the real views and services: every step of the
request with every error it can show (each field's and each step's own
checks), the urgent call-back, the confirmation; the status-check page with
its errors, expired and broken links; the status page in every state, with
the letter, the questions, the files and the consult; the patient's actions
and their messages; the letter and the clinical summary as the PDFs' HTML;
the consult's calendar file; every email and text to the patient.

Each output fails the test on any msgid of the Spanish catalogue whose
Spanish differs, found in it in English (tests/support/spanish.py), and on
common English words, which catch text that was never marked for
translation. The form's own messages are also checked the other way: each
one of intake/forms.py and patientloop/forms.py must have been shown, in
Spanish, somewhere in the walk, so a new error message the walk does not
trigger fails here until it does.
"""

import re
from datetime import date, timedelta
from types import SimpleNamespace

import pytest
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation

from intake.models import MriFile, Notification, QueueMembership, ReviewRequest
from intake.services.notifications import notification_send
from intake.status_links import status_link, status_token
from intake.transitions import Status
from patientloop.services.requests import patient_request_open
from reviews import documents
from reviews.selectors import review_current
from reviews.services import consult_schedule, review_save
from tests.factories import CaseFactory, UserFactory
from tests.intake import corpus
from tests.intake.helpers import CONSENT, CONTACT, HISTORY, MRI, PAIN, SAFETY_NO, step_url
from tests.support.spanish import catalogue, catalogue_english, english_words, entries_from, spanish_found, visible_text

pytestmark = pytest.mark.django_db

# The walk's own words, which are not the site's: names, places, the clinic.
OWN_WORDS = ("Riverside Spine Clinic", "Lakeside Imaging, Chicago", "English", "Pat", "Example")
ENGLISH_BROWSER = {"accept-language": "en-US,en;q=0.9"}
# What the clinician wrote, in Spanish (the patient-facing text is written in
# the patient's language: issue 23, the review form's second field).
REVIEW = {
    "impression": "Desgaste de los discos más bajos, que presiona el nervio izquierdo.",
    "decision_detail": "Fisioterapia dos veces por semana durante ocho semanas.",
    "next_step": "Pida una consulta con nuestro cirujano de columna.",
    "findings": [{"level": "L4-5", "disc_bulge": True, "herniation": True, "herniation_side": "left"}],
    # Where the review form has them (issue 23, point 4 and the patient-language
    # field): the decision without opened images, and the same text for the patient.
    "no_images_reason": "Solo el informe, sin imágenes.",
}
REVIEW |= {f"{field}_patient": REVIEW[field] for field in ("impression", "decision_detail", "next_step")}
# What the issue found in English inside Spanish pages, named so a return is obvious.
KNOWN_ENGLISH = (
    "Please give a year between",
    "You asked us to contact you by",
    "ZIP of DICOM images",
    "PDF report",
)


class Walk:
    """Everything rendered, by where it was seen; each is checked when added."""

    def __init__(self):
        self.seen: dict[str, str] = {}

    def add(self, where: str, text: str, *, html: bool = True) -> str:
        text = visible_text(text) if html else " ".join(text.split())
        assert text, where
        assert not catalogue_english(text), (where, catalogue_english(text)[:5])
        assert not english_words(text, OWN_WORDS), (where, english_words(text, OWN_WORDS), text[:300])
        assert not [k for k in KNOWN_ENGLISH if k in text], where
        self.seen[where] = text
        return text

    def page(self, where: str, response, status: int = 200) -> str:
        assert response.status_code == status, (where, response.status_code)
        html = response.content.decode()
        assert re.search(r'<html lang="es"', html), where
        return self.add(where, html)

    def everything(self) -> str:
        return "\n".join(self.seen.values())


@pytest.fixture
def walk():
    return Walk()


@pytest.fixture
def spanish(client):
    """A browser that chose Español on the first page."""
    client.get(step_url("safety"))
    client.post(reverse("set_language"), {"language": "es", "next": step_url("safety")})
    return client


def _post(client, name, data, walk, where):
    return walk.page(f"{name}: {where}", client.post(step_url(name), data))


# --- The request, every step and every error ----------------------------------------
ERRORS = {
    "safety": {"nothing answered": {}},
    "contact": {
        "nothing filled": {},
        "bad formats": {
            **CONTACT,
            "email": "pat@localhost",  # a valid address to Django, with no ending
            "phone": "call me",
            "postal_code": "606",
            "state": "XX",
            "date_of_birth": "marzo",
            "contact_method": "fax",
            "contact_time": "never",
        },
        "no email": {**CONTACT, "email": "not an address", "phone": "12", "date_of_birth": "2999-01-01"},
        "a very old birth date": {**CONTACT, "date_of_birth": "1880-01-01"},
        "email chosen, none given": {**CONTACT, "email": "", "contact_method": "email"},
        "texts chosen, no mobile": {**CONTACT, "phone": "", "contact_method": "text"},
        "a call chosen, no number": {**CONTACT, "phone": "", "contact_method": "phone"},
        "texts to a toll-free number": {**CONTACT, "phone": "(800) 273-8255", "contact_method": "text"},
        "a child without a guardian": {**CONTACT, "date_of_birth": f"{date.today().year - 10}-01-01"},
    },
    "pain": {
        "nothing filled": {},
        "severity too high": {**PAIN, "severity": "11"},
        "severity not a number": {**PAIN, "severity": "a lot"},
    },
    "history": {
        "nothing filled": {},
        "none and unsure": {**HISTORY, "diagnoses": ["none", "unsure"]},
        "not on the list": {**HISTORY, "diagnoses": ["gout"]},
        "none and a diagnosis": {**HISTORY, "diagnoses": ["none", "herniated_disc"]},
        "other, not said": {
            **HISTORY,
            "diagnoses": ["other"],
            "prior_surgery": "yes",
            "treatment_physical_therapy": "forever",
        },
    },
    "mri": {
        "nothing chosen": {},
        "has one, nothing said": {"mri_status": "centre_sends"},
        "a year out of range": {**MRI, "mri_year": "1975"},
        "a year not a number": {**MRI, "mri_year": "twenty", "mri_month": "13"},
        "upload chosen, no file": {**MRI, "mri_status": "upload"},
    },
}


class _MidJune(date):
    """Today as June 15th of this year, so that next month is this year's
    (in December the form could only say "out of range")."""

    @classmethod
    def today(cls):
        real = date.today()
        return cls(real.year, 6, 15)


def test_every_step_and_every_error_of_the_request_reads_in_spanish(
    spanish, walk, django_capture_on_commit_callbacks, monkeypatch
):
    client = spanish
    for name, data in [("safety", SAFETY_NO), ("contact", CONTACT), ("pain", PAIN), ("history", HISTORY)]:
        walk.page(f"{name}: the step", client.get(step_url(name)))
        for where, bad in ERRORS[name].items():
            _post(client, name, bad, walk, where)
        assert client.post(step_url(name), data).status_code == 302, name
    walk.page("mri: the step", client.get(step_url("mri")))
    for where, bad in ERRORS["mri"].items():
        _post(client, "mri", bad, walk, where)
    with monkeypatch.context() as m:
        m.setattr("intake.forms.date", _MidJune)
        _post(client, "mri", {**MRI, "mri_year": str(date.today().year), "mri_month": "7"}, walk, "in the future")
    # An MRI before the patient was born (a birth date after 1980, the first year taken).
    client.post(step_url("contact"), {**CONTACT, "date_of_birth": "1990-05-01"})
    _post(client, "mri", {**MRI, "mri_year": "1985", "mri_month": "1"}, walk, "before the birth date")
    client.post(step_url("contact"), CONTACT)
    # The upload box: a refused file, by the page's script (JSON) and without it.
    refused = client.post(
        reverse("intake:upload"), {"file": SimpleUploadedFile("a.pdf", b"")}, headers={"Accept": "application/json"}
    )
    walk.add("upload: refused (JSON)", refused.json()["error"], html=False)
    walk.page("upload: nothing chosen", client.post(reverse("intake:upload"), {}, follow=True))
    walk.page(
        "upload: refused",
        client.post(reverse("intake:upload"), {"file": SimpleUploadedFile("n.txt", b"words " * 50)}, follow=True),
    )
    assert client.post(step_url("mri"), MRI).status_code == 302

    walk.page("consent: the step", client.get(step_url("consent")))
    _post(client, "consent", {}, walk, "nothing agreed")
    for method in ("phone", "text", "email"):
        # The contact step's way to reach the patient, not allowed on this one.
        client.post(step_url("contact"), {**CONTACT, "contact_method": method})
        _post(client, "consent", {"source": "article", "consent_privacy": "on"}, walk, f"{method} not allowed")
    # A way allowed with nothing to reach it by: no email, then no phone.
    allow_all = {"source": "article", "consent_privacy": "on", "consent_email": "on"}
    allow_all |= {"consent_text": "on", "consent_phone": "on"}
    client.post(step_url("contact"), {**CONTACT, "email": "", "contact_method": "phone"})
    _post(client, "consent", allow_all, walk, "email allowed, none given")
    client.post(step_url("contact"), {**CONTACT, "phone": "", "contact_method": "email"})
    _post(client, "consent", allow_all, walk, "texts and calls allowed, no phone")
    client.post(step_url("contact"), CONTACT)
    with django_capture_on_commit_callbacks(execute=False):
        sent = client.post(step_url("consent"), CONSENT, follow=True)
    walk.page("the confirmation", sent)
    assert ReviewRequest.objects.get().language == "es"

    # The urgent call-back, after a red flag.
    client.post(reverse("set_language"), {"language": "es", "next": "/"})
    client.post(step_url("safety"), {**SAFETY_NO, "bladder_bowel": "yes"})
    walk.page("urgent: the advice", client.get(reverse("intake:urgent")))
    walk.page("urgent: nothing filled", client.post(reverse("intake:urgent"), {}))
    # (An empty POST shows the form unbound; a name alone shows its errors.)
    walk.page("urgent: no phone", client.post(reverse("intake:urgent"), {"first_name": "Pat"}))
    walk.page("urgent: a bad phone", client.post(reverse("intake:urgent"), {"first_name": "Pat", "phone": "12"}))
    walk.page("thanks", client.get(reverse("intake:thanks")))

    # Every message of the request's forms was shown, in Spanish.
    shown = walk.everything()
    never = [str(e) for e in entries_from("intake/forms.py") if not spanish_found(e, shown)]
    assert not never, f"{len(never)} messages of the forms never shown in Spanish (trigger them above): {never[:8]}"


# --- The status page, in every state --------------------------------------------------
@pytest.fixture
def clinic(seeded):
    queue = next(iter(seeded.values()))
    clinician = UserFactory(username="dra_ruiz", groups=["Clinician"], first_name="Ana", last_name="Ruiz")
    coordinator = UserFactory(username="coord_es", groups=["Coordinator"])
    for user in (clinician, coordinator):
        QueueMembership.objects.create(queue=queue, user=user)
    return SimpleNamespace(queue=queue, clinician=clinician, coordinator=coordinator)


def _case(clinic, status, **kwargs):
    now = timezone.now()
    return CaseFactory(
        language="es",
        status=status,
        queue=clinic.queue,
        routed_at=now,
        sla_due_at=now + timedelta(hours=20),
        **kwargs,
    )


def _files(case):
    for i, kind in enumerate(MriFile.FileType):
        MriFile.objects.create(
            case=case, original_name=f"f{i}", stored_name=f"{case.reference}-{i}", file_type=kind, size=10, sha256="0"
        )


def _decided(clinic, decision):
    case = _case(clinic, Status.IN_REVIEW)
    _files(case)
    review_save(case=case, author=clinic.clinician, data={**REVIEW, "decision": decision}, expected_version=0)
    case.refresh_from_db()
    return case


def _status_pages(client, case, walk, where):
    url = status_link(case)
    walk.page(f"{where}: date-of-birth check", client.get(url, headers=ENGLISH_BROWSER))
    page = client.post(url, {"date_of_birth": case.date_of_birth.isoformat()}, headers=ENGLISH_BROWSER)
    return walk.page(f"{where}: status page", page)


PLAIN_STATES = [
    s
    for s in Status
    if s not in (Status.CANDIDATE, Status.NOT_CANDIDATE, Status.NEEDS_MORE_INFO, Status.CONSULT_SCHEDULED)
]


@pytest.mark.parametrize("status", PLAIN_STATES)
def test_the_status_page_in_each_state_reads_in_spanish(client, clinic, walk, status):
    case = _case(clinic, status, mri_status="centre_sends")
    _files(case)
    if status in (Status.TRIAGE, Status.IN_REVIEW):
        patient_request_open(
            case_id=case.pk, kind="information", questions="¿Hacia qué brazo baja el dolor?", actor=clinic.clinician
        )
    text = _status_pages(client, case, walk, status)
    assert "ZIP de imágenes DICOM" in text


@pytest.mark.parametrize("decision", ["candidate", "not_candidate", "needs_more_info", "new_imaging"])
def test_the_letter_and_both_pdfs_read_in_spanish(client, clinic, walk, decision):
    case = _decided(clinic, decision)
    text = _status_pages(client, case, walk, decision)
    assert "Su resultado" in text
    version = review_current(case.pk)
    with translation.override("es"):
        context = documents.document_context(case, version)
        walk.add("the letter PDF's page", render_to_string("reviews/pdf/letter.html", context))
        # The summary is English by the clinic's setting; with the setting on
        # Spanish its words must be Spanish too.
        walk.add("the summary PDF's page", render_to_string("reviews/pdf/summary.html", context))


def test_the_consult_and_its_calendar_file_read_in_spanish(client, clinic, walk):
    case = _decided(clinic, "candidate")
    consult = consult_schedule(
        case=case,
        actor=clinic.coordinator,
        starts_at=timezone.now() + timedelta(days=3),
        clinician=clinic.clinician,
        place="Calle Mayor 1, Chicago",
    )
    text = _status_pages(client, case, walk, "consult booked")
    assert "Calle Mayor 1" in text
    ics = client.get(reverse("intake:reviews:consult_ics", args=[status_token(case)]), headers=ENGLISH_BROWSER)
    walk.add("the consult's .ics", ics.content.decode().replace("\\,", ",").replace("\r\n ", ""), html=False)
    with translation.override("es"):
        assert "Consulta en" in documents.consult_ics(consult)


def test_the_patients_actions_and_their_messages_read_in_spanish(client, clinic, walk, settings, tmp_path):
    settings.FILE_UPLOAD_TEMP_DIR = str(tmp_path)
    case = _case(clinic, Status.AWAITING_MRI, mri_status="upload")
    request = patient_request_open(
        case_id=case.pk, kind="information", questions="¿Desde cuándo?", actor=clinic.coordinator
    )
    _status_pages(client, case, walk, "awaiting images")
    token = status_token(case)
    act = lambda name, *args: reverse(f"intake:patientloop:{name}", args=[token, *args])  # noqa: E731
    walk.page(
        "answer too long",
        client.post(
            act("answer", request.pk),
            {f"answer-{request.pk}": "x" * 5000, "answer": "x" * 5000},
            follow=True,
            headers=ENGLISH_BROWSER,
        ),
    )
    walk.page("contact: nothing chosen", client.post(act("contact"), {}, follow=True, headers=ENGLISH_BROWSER))
    walk.page("upload: nothing chosen", client.post(act("upload"), {}, follow=True, headers=ENGLISH_BROWSER))
    refused = client.post(
        act("upload"),
        {"file": SimpleUploadedFile("a.pdf", b"")},
        headers={"Accept": "application/json", **ENGLISH_BROWSER},
    )
    walk.add("upload: refused (JSON)", refused.json()["error"], html=False)
    uploaded = client.post(
        act("upload"), {"file": SimpleUploadedFile("informe.pdf", corpus.PDF)}, follow=True, headers=ENGLISH_BROWSER
    )
    assert "Informe en PDF" in walk.page("upload: a report", uploaded)
    walk.page("withdraw: the page", client.get(act("withdraw"), headers=ENGLISH_BROWSER))
    walk.page("withdraw: not ticked", client.post(act("withdraw"), {"confirm": ""}, headers=ENGLISH_BROWSER))
    walk.page("withdraw: done", client.post(act("withdraw"), {"confirm": "on"}, follow=True, headers=ENGLISH_BROWSER))
    assert ReviewRequest.objects.get(pk=case.pk).status == Status.WITHDRAWN
    shown = walk.everything()
    never = [str(e) for e in entries_from("patientloop/forms.py") if not spanish_found(e, shown)]
    assert not never, never


def test_the_status_check_and_broken_links_read_in_spanish(client, clinic, walk, settings):
    case = _case(clinic, Status.TRIAGE)
    url = status_link(case)
    walk.page("check: nothing typed", client.post(url, {}, headers=ENGLISH_BROWSER))
    walk.page("check: not a date", client.post(url, {"date_of_birth": "marzo"}, headers=ENGLISH_BROWSER))
    walk.page("check: the wrong date", client.post(url, {"date_of_birth": "1971-01-01"}, headers=ENGLISH_BROWSER))
    settings.INTAKE_STATUS_LIMIT_PER_HOUR = 0
    walk.page("check: too many look-ups", client.get(url, headers=ENGLISH_BROWSER), status=429)
    settings.INTAKE_STATUS_LIMIT_PER_HOUR = 100
    settings.INTAKE_STATUS_TOKEN_MAX_AGE_DAYS = -1
    walk.page("an expired link", client.get(url, headers=ENGLISH_BROWSER), status=410)


# --- Every email and text to the patient ----------------------------------------------
PATIENT_KINDS = ["patient_confirmation", "patient_status", "patient_result"]


def test_every_email_and_text_to_the_patient_reads_in_spanish(clinic, walk, settings, tmp_path):
    settings.INTAKE_SMS_URL = ""
    settings.INTAKE_SMS_DIR = str(tmp_path / "sms")
    case = _case(clinic, Status.TRIAGE)
    with translation.override("en"):  # a worker's own language
        for kind in PATIENT_KINDS:
            n = Notification.objects.create(case=case, kind=kind, recipient=case.email, dedupe_key=f"{kind}:{case.pk}")
            assert notification_send(notification_id=n.pk)
        for kind in [*PATIENT_KINDS, "patient_consult_reminder"]:  # the last: the default text
            t = Notification.objects.create(
                case=case, kind=kind, channel="text", recipient=case.phone, dedupe_key=f"text:{kind}:{case.pk}"
            )
            assert notification_send(notification_id=t.pk)
    for message in mail.outbox:
        walk.add(f"email {message.subject}", message.subject + "\n" + message.body, html=False)
        assert status_link(case).split("/")[-2].split(":")[0] in message.body
    texts = sorted((tmp_path / "sms").rglob("*"))
    assert len([p for p in texts if p.is_file()]) == 4
    for path in texts:
        if path.is_file():
            walk.add(f"text {path.name}", path.read_text(), html=False)
    assert len(mail.outbox) == 3
    # "Your result is ready ... See it here": "Véalas" (them, feminine) said of "su resultado".
    [result] = [m for m in mail.outbox if "resultado" in m.subject]
    assert "Véala" not in result.body


def test_no_msgid_is_written_with_an_escape_xgettext_cannot_read():
    """xgettext reads "\\u201c" in Python source as those six characters: the
    catalogue's msgid then never matches the text the code asks for, and the
    patient reads English (the status page's answer box did, issue 23)."""
    escaped = [e.msgid for e in catalogue() if "\\u" in e.msgid or "\\x" in e.msgid]
    assert not escaped, escaped


def test_the_nets_catch_english():
    """The checks above would pass on an empty catalogue: show they find English."""
    assert len(catalogue()) > 500
    assert catalogue_english("Nos pidió: Please give a year between 1980 and 2026.")
    assert catalogue_english("Su resultado. See it here (you will need your date of birth):")
    assert english_words("ZIP de imágenes DICOM received 3 de marzo") == ["received"]
    assert not catalogue_english(visible_text('<p lang="es">Tenemos su solicitud. <a href="/x">Ver</a></p>'))
