"""The patient's documents, made from the review (never from internal notes):
the result letter and the clinical summary as PDF (WeasyPrint), and the
consult as an iCalendar file (RFC 5545, written by hand: one event).

Rendering fetches nothing from the network: the fetcher below serves only
files under the project's own ``static/`` folder and refuses anything else.
Fonts are the system's DejaVu (fonts-dejavu-core), found by fontconfig, not
fetched.
"""

from datetime import UTC, timedelta
from pathlib import Path
from urllib.parse import unquote, urlsplit

from django.conf import settings
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.translation import gettext

from intake.models import ReviewRequest

from .models import Consult, ReviewVersion


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


def document_context(case: ReviewRequest, version: ReviewVersion) -> dict:
    return {
        "case": case,
        "review": version,
        "findings": list(version.findings.all()),
        "clinic_name": settings.INTAKE_CLINIC_NAME,
        "clinic_phone": settings.INTAKE_CLINIC_PHONE,
        "has_mri": case.mri_expected or case.mri_received_at is not None,
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
    location = consult.place or consult.video_url
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
