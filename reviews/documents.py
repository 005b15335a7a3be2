"""The patient's documents, made from the review (never from internal notes):
the result letter and the clinical summary as PDF (WeasyPrint), and the
consult as an iCalendar file (RFC 5545, written by hand: one event).

``letter_context`` is the one source of what the letter says, for the status
page (reviews.templatetags) and the PDF alike: the consult's date, time (the
clinic's zone, named) and place, the signer as StaffProfile names them, the
clinic's address. ``consult_shown`` is the consult as every patient-facing
place words it (the status page's box, the letter, the result message).

Rendering fetches nothing from the network: the fetcher below serves only
files under the project's own ``static/`` folder and refuses anything else.
Fonts are the system's DejaVu (fonts-dejavu-core), found by fontconfig, not
fetched.
"""

from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import unquote, urlsplit

from django.conf import settings
from django.template.loader import render_to_string
from django.utils import formats, timezone, translation
from django.utils.translation import gettext

from clinic.models import staff_shown
from clinic.templatetags.clinic_time import clinic_zone, clinic_zone_name
from intake.models import ReviewRequest
from intake.transitions import Status

from .models import Consult, ReviewVersion
from .selectors import consult_current


def _project_static() -> Path:
    return (Path(settings.BASE_DIR) / "static").resolve()


def _fetcher():
    from weasyprint.urls import URLFetcher

    class ProjectOnlyFetcher(URLFetcher):
        """Serves file:// URLs inside the project's static folder; refuses the rest."""

        def fetch(self, url, headers=None):
            parts = urlsplit(url)
            if parts.scheme != "file":
                raise ValueError("Only the project's own files are used in documents.")
            path = Path(unquote(parts.path)).resolve()
            if not path.is_relative_to(_project_static()):
                raise ValueError("Only the project's own files are used in documents.")
            return super().fetch(path.as_uri(), headers)

    return ProjectOnlyFetcher(allowed_protocols={"file"}, fail_on_errors=False)


def render_pdf(template: str, context: dict) -> bytes:
    from weasyprint import HTML

    html = render_to_string(template, context)
    return HTML(string=html, base_url=_project_static().as_uri() + "/", url_fetcher=_fetcher()).write_pdf()


# --- What the patient reads -------------------------------------------------------
def patient_date(moment) -> str:
    """A day as patients read it, in the clinic's zone and the active language's
    one date format (DATE_FORMAT: "7 December 2026", "7 de diciembre de 2026")."""
    if isinstance(moment, datetime):
        moment = moment.astimezone(clinic_zone())
    return formats.date_format(moment, "DATE_FORMAT")


def consult_place_lines(consult: Consult) -> list[str]:
    """Where an in-person consult is, as lines. A place that names only a room
    ("2nd floor, Room 4") is at the clinic: the clinic's address follows it.
    A place that already holds the address's first part is shown as typed."""
    place = consult.place.strip()
    if not place:
        return []
    address = settings.INTAKE_CLINIC_ADDRESS.strip()
    street = address.split(",")[0].strip().lower()
    if street and street not in place.lower():
        return [place, address]
    return [place]


def consult_shown(consult: Consult | None) -> dict | None:
    """The consult in words: weekday and date, time, the clinic's zone named,
    the place as lines, the video link, and the clinician as StaffProfile names
    them. Formatted in the active language (callers render in the case's)."""
    if consult is None:
        return None
    local = consult.starts_at.astimezone(clinic_zone())
    return {
        "date": f"{formats.date_format(local, 'l')} {formats.date_format(local, 'DATE_FORMAT')}",
        "time": formats.date_format(local, "g:i a"),
        "zone": clinic_zone_name(local),
        "minutes": consult.duration_minutes,
        "place_lines": consult_place_lines(consult),
        "video_url": consult.video_url,
        "clinician": staff_shown(consult.clinician),
    }


def booked_consult(case: ReviewRequest | None) -> Consult | None:
    """The consult to show the patient: the latest booking while the case is
    "consult scheduled" (a consult held or cancelled is no longer news)."""
    if case is None or case.status != Status.CONSULT_SCHEDULED or case.purged_at is not None:
        return None
    return consult_current(case.pk)


def letter_context(case: ReviewRequest, version: ReviewVersion) -> dict:
    """Everything reviews/_letter_body.html reads, for the page and the PDF."""
    return {
        "case": case,
        "review": version,
        "clinic_name": settings.INTAKE_CLINIC_NAME,
        "clinic_phone": settings.INTAKE_CLINIC_PHONE,
        "clinic_address": settings.INTAKE_CLINIC_ADDRESS,
        "has_mri": case.mri_expected or case.mri_received_at is not None,
        "consult": consult_shown(booked_consult(case)),
        "signer": staff_shown(version.author),
        "written_on": patient_date(version.created_at),
    }


def document_context(case: ReviewRequest, version: ReviewVersion) -> dict:
    return {
        **letter_context(case, version),
        "findings": list(version.findings.all()),
        "made_on": timezone.localdate(),
        # <html lang> of the PDF: the language it is rendered in (below).
        "LANGUAGE_CODE": translation.get_language() or settings.LANGUAGE_CODE,
    }


def letter_pdf(case: ReviewRequest, version: ReviewVersion, *, language: str | None = None) -> bytes:
    """The patient's letter, in ``language``: the status page passes the
    language its pages speak (intake.status_links.case_page_language: the
    case's, unless the patient switched); anyone else (the FHIR export) gets
    the case's own language. Never the language of whoever asks."""
    with translation.override(language or case.language):
        return render_pdf("reviews/pdf/letter.html", document_context(case, version))


def summary_pdf(case: ReviewRequest, version: ReviewVersion) -> bytes:
    """The clinical summary for the patient's own doctor, always in the
    clinic's language (INTAKE_CLINICAL_SUMMARY_LANGUAGE), whatever the patient
    or the page reads in."""
    with translation.override(settings.INTAKE_CLINICAL_SUMMARY_LANGUAGE):
        return render_pdf("reviews/pdf/summary.html", document_context(case, version))


# --- iCalendar -----------------------------------------------------------------
def _ics_text(value: str) -> str:
    """RFC 5545 3.3.11: escape backslash, semicolon, comma and newlines."""
    return (
        value.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,").replace("\r\n", "\\n").replace("\n", "\\n")
    )


def _fold(line: str) -> str:
    """RFC 5545 3.1: lines longer than 75 octets are folded (CRLF + space)."""
    data = line.encode()
    if len(data) <= 75:
        return line
    parts, start = [], 0
    while start < len(data):
        width = 75 if start == 0 else 74
        end = min(start + width, len(data))
        while end < len(data) and (data[end] & 0xC0) == 0x80:
            end -= 1  # never split a UTF-8 character
        parts.append(data[start:end].decode())
        start = end
    return "\r\n ".join(parts)


def _utc(dt) -> str:
    return dt.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def consult_ics(consult: Consult) -> str:
    """One VEVENT. The summary names the clinic and the visit, not a diagnosis."""
    summary = gettext("Consultation at %(clinic)s") % {"clinic": settings.INTAKE_CLINIC_NAME}
    description = gettext(
        "Your consultation about your review. Bring a list of your medicines. To change the time, call %(phone)s."
    ) % {"phone": settings.INTAKE_CLINIC_PHONE}
    location = ", ".join(consult_place_lines(consult)) or consult.video_url
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        "PRODID:-//Spine clinic//Consults//EN",
        "CALSCALE:GREGORIAN",
        "METHOD:PUBLISH",
        "BEGIN:VEVENT",
        f"UID:{consult.uid}@consults",
        f"DTSTAMP:{_utc(consult.created_at)}",
        f"DTSTART:{_utc(consult.starts_at)}",
        f"DTEND:{_utc(consult.starts_at + timedelta(minutes=consult.duration_minutes))}",
        f"SUMMARY:{_ics_text(summary)}",
        f"DESCRIPTION:{_ics_text(description)}",
        f"LOCATION:{_ics_text(location)}",
    ]
    if consult.video_url:
        lines.append(f"URL:{consult.video_url}")
    lines += [
        "BEGIN:VALARM",
        "ACTION:DISPLAY",
        f"DESCRIPTION:{_ics_text(summary)}",
        "TRIGGER:-P1D",
        "END:VALARM",
        "END:VEVENT",
        "END:VCALENDAR",
    ]
    return "\r\n".join(_fold(line) for line in lines) + "\r\n"
