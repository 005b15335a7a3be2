"""Service-level clocks in the clinic's business hours.

Routine queues count only business hours (settings.INTAKE_BUSINESS_HOURS on
INTAKE_BUSINESS_DAYS, in INTAKE_CLINIC_TIME_ZONE), skipping public holidays
(the ``holidays`` package for INTAKE_HOLIDAY_COUNTRY and
INTAKE_HOLIDAY_SUBDIVISION, with its weekday observances such as 3 July 2026
for Independence Day) and the closure days supervisors add in the admin
(clinic.models.ClosureDay). Urgent queues count every hour.

Each computation reads the closure days once (one query, never one per day);
the holidays are pure and cached per year. Tests freeze the clock by passing
the moments in.
"""

from datetime import date, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

from django.conf import settings


def _window(day_local: datetime):
    start_h, end_h = settings.INTAKE_BUSINESS_HOURS
    start = day_local.replace(hour=start_h, minute=0, second=0, microsecond=0)
    end = day_local.replace(hour=end_h, minute=0, second=0, microsecond=0)
    return start, end


def _tz():
    return ZoneInfo(settings.INTAKE_CLINIC_TIME_ZONE)


@lru_cache(maxsize=64)
def _public_holidays(country: str, subdivision: str, year: int) -> frozenset[date]:
    if not country:
        return frozenset()
    import holidays  # ~60 ms to import; only processes that compute an SLA pay it

    return frozenset(holidays.country_holidays(country, subdiv=subdivision or None, years=year))


def public_holidays(year: int) -> frozenset[date]:
    """The public holidays the clinic closes for in ``year`` (observed dates included)."""
    return _public_holidays(settings.INTAKE_HOLIDAY_COUNTRY, settings.INTAKE_HOLIDAY_SUBDIVISION, year)


class ClosedDays:
    """The days the SLA clock stands still, for one computation from ``since``
    (to ``until``, if given): public holidays and closure days, the latter
    fetched in one query here. Weekends are the business-day setting's job."""

    def __init__(self, since: date, until: date | None = None):
        from clinic.models import ClosureDay

        closures = ClosureDay.objects.filter(date__gte=since)
        if until is not None:
            closures = closures.filter(date__lte=until)
        self.closures = frozenset(closures.values_list("date", flat=True))

    def __contains__(self, day: date) -> bool:
        return day in self.closures or day in public_holidays(day.year)


def _is_open(day_local: datetime, closed: ClosedDays) -> bool:
    return day_local.weekday() in settings.INTAKE_BUSINESS_DAYS and day_local.date() not in closed


def _next_midnight(cursor: datetime, tz: ZoneInfo) -> datetime:
    # Wall-clock arithmetic on the date stays right across DST changes.
    nxt = (cursor + timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
    return nxt.replace(tzinfo=tz)


def add_business_time(start: datetime, delta: timedelta, *, around_the_clock: bool = False) -> datetime:
    """The moment ``delta`` of working time after ``start``."""
    if around_the_clock:
        return start + delta
    tz = _tz()
    cursor = start.astimezone(tz)
    closed = ClosedDays(since=cursor.date())
    remaining = delta
    for _ in range(3660):  # bounded: at most ten years of days
        if _is_open(cursor, closed):
            open_at, close_at = _window(cursor)
            if cursor < open_at:
                cursor = open_at
            if cursor < close_at:
                available = close_at - cursor
                if remaining <= available:
                    return (cursor + remaining).astimezone(start.tzinfo)
                remaining -= available
        cursor = _next_midnight(cursor, tz)
    raise ValueError("SLA too long to compute")


def business_time_between(a: datetime, b: datetime, *, around_the_clock: bool = False) -> timedelta:
    """Working time elapsed from ``a`` to ``b`` (zero if ``b`` is not later)."""
    if b <= a:
        return timedelta(0)
    if around_the_clock:
        return b - a
    tz = _tz()
    total = timedelta(0)
    cursor = a.astimezone(tz)
    end = b.astimezone(tz)
    closed = ClosedDays(since=cursor.date(), until=end.date())
    while cursor < end:
        if _is_open(cursor, closed):
            open_at, close_at = _window(cursor)
            lo, hi = max(cursor, open_at), min(end, close_at)
            if hi > lo:
                total += hi - lo
        cursor = _next_midnight(cursor, tz)
    return total
