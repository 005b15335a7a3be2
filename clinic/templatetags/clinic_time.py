"""Times as people read them: in the clinic's zone, with the zone's name.

``{% load clinic_time %}`` then ``{{ moment|clinic_time }}`` gives "Tuesday
1 December 2026, 1:00 p.m. Central"; ``{{ moment|clinic_time:"staff" }}`` gives
"2026-12-01 13:00 Central", and any ``date`` filter format works too
(``{{ moment|clinic_time:"D j M H:i" }}`` gives "Tue 1 Dec 13:00 Central").
``{% clinic_zone_name %}`` is the name alone, for headings.

Python callers (the CSV export, admin columns) use ``format_clinic_time`` and
``clinic_zone_name`` from here, so there is one way to say a time.

The conversion is explicit (INTAKE_CLINIC_TIME_ZONE), not the active time
zone, so a worker or a request that activated another zone still tells the
patient the clinic's time. Month, day and zone names follow the active
language.
"""

from datetime import datetime
from zoneinfo import ZoneInfo

from django import template
from django.conf import settings
from django.utils import formats, timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

register = template.Library()

PATIENT_FORMAT = "l j F Y, g:i a"  # Tuesday 1 December 2026, 1:00 p.m.
STAFF_FORMAT = "Y-m-d H:i"  # 2026-12-01 13:00
NAMED_FORMATS = {"patient": PATIENT_FORMAT, "staff": STAFF_FORMAT}

# Names people in the US say; the IANA zone's abbreviation (CST, CDT) flips
# twice a year and means little to a patient.
ZONE_NAMES = {
    "America/New_York": _("Eastern"),
    "America/Detroit": _("Eastern"),
    "America/Indiana/Indianapolis": _("Eastern"),
    "America/Chicago": _("Central"),
    "America/Denver": _("Mountain"),
    "America/Boise": _("Mountain"),
    "America/Phoenix": _("Mountain (Arizona)"),
    "America/Los_Angeles": _("Pacific"),
    "America/Anchorage": _("Alaska"),
    "Pacific/Honolulu": _("Hawaii"),
}


def clinic_zone() -> ZoneInfo:
    return ZoneInfo(settings.INTAKE_CLINIC_TIME_ZONE)


def clinic_zone_name(moment: datetime | None = None) -> str:
    """ "Central" for America/Chicago; otherwise the zone's abbreviation at
    ``moment`` (now if not given), e.g. "GMT" or "BST" for Europe/London."""
    name = ZONE_NAMES.get(settings.INTAKE_CLINIC_TIME_ZONE)
    if name is not None:
        return str(name)
    return (moment or timezone.now()).astimezone(clinic_zone()).tzname() or settings.INTAKE_CLINIC_TIME_ZONE


def format_clinic_time(moment: datetime | None, fmt: str = PATIENT_FORMAT) -> str:
    """``moment`` in the clinic's zone, formatted (a ``date`` filter format, or
    "patient" or "staff"), followed by the zone's name. An empty string for
    None, so templates can chain ``|default``."""
    if moment is None or moment == "":
        return ""
    fmt = NAMED_FORMATS.get(fmt, fmt)
    if fmt == PATIENT_FORMAT:
        # Word order differs by language ("1 de diciembre de 2026"): the
        # catalogue holds each language's format.
        fmt = gettext("l j F Y, g:i a")
    if timezone.is_naive(moment):
        # Naive datetimes are never stored (USE_TZ); treat one as the clinic's wall clock.
        local = moment.replace(tzinfo=clinic_zone())
    else:
        local = moment.astimezone(clinic_zone())
    return f"{formats.date_format(local, fmt)} {clinic_zone_name(local)}"


@register.filter(name="clinic_time")
def clinic_time_filter(value, arg=None):
    try:
        return format_clinic_time(value, arg or PATIENT_FORMAT)
    except (AttributeError, TypeError, ValueError):
        return ""  # as the date filter does with a value it cannot format


@register.simple_tag(name="clinic_zone_name")
def clinic_zone_name_tag(full=False):
    """``{% clinic_zone_name %}`` gives "Central"; with ``full=True``,
    "Central (America/Chicago)"."""
    name = clinic_zone_name()
    return f"{name} ({settings.INTAKE_CLINIC_TIME_ZONE})" if full else name
