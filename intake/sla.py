"""Service-level clocks in the clinic's business hours.

Routine queues count only business hours (settings.INTAKE_BUSINESS_HOURS on
INTAKE_BUSINESS_DAYS, in INTAKE_CLINIC_TIME_ZONE); urgent queues count every
hour. Pure functions of their arguments, so tests can freeze the clock.
"""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings


def _window(day_local: datetime):
    start_h, end_h = settings.INTAKE_BUSINESS_HOURS
    start = day_local.replace(hour=start_h, minute=0, second=0, microsecond=0)
    end = day_local.replace(hour=end_h, minute=0, second=0, microsecond=0)
    return start, end


def _tz():
    return ZoneInfo(settings.INTAKE_CLINIC_TIME_ZONE)


def add_business_time(start: datetime, delta: timedelta, *, around_the_clock: bool = False) -> datetime:
    """The moment ``delta`` of working time after ``start``."""
    if around_the_clock:
        return start + delta
    tz = _tz()
    cursor = start.astimezone(tz)
    remaining = delta
    for _ in range(3660):  # bounded: at most ten years of days
        if cursor.weekday() in settings.INTAKE_BUSINESS_DAYS:
            open_at, close_at = _window(cursor)
            if cursor < open_at:
                cursor = open_at
            if cursor < close_at:
                available = close_at - cursor
                if remaining <= available:
                    return (cursor + remaining).astimezone(start.tzinfo)
                remaining -= available
        # next day's opening (wall-clock arithmetic stays right across DST)
        nxt = (cursor + timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
        cursor = nxt.replace(tzinfo=tz)
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
    while cursor < end:
        if cursor.weekday() in settings.INTAKE_BUSINESS_DAYS:
            open_at, close_at = _window(cursor)
            lo, hi = max(cursor, open_at), min(end, close_at)
            if hi > lo:
                total += hi - lo
        cursor = (cursor + timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
    return total
