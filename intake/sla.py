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
from django.db.models import Q
from django.utils import timezone

from .transitions import OPEN, SETTLED, WAITING


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


# --- The case's clock: the one owner of every SLA rule ------------------------------------
# Routing, status changes, queue moves, escalation, the admin's badge and
# filters, the dashboard and the patient's promised date all ask here; none
# of them computes a due time or reads the pause fields on its own (issue 13:
# the rule was in six places, and a paused case moved between queues came out
# due a week late).


def due_at(queue, start: datetime) -> datetime:
    """When a case that entered ``queue`` at ``start`` must be answered."""
    return add_business_time(start, timedelta(hours=queue.sla_hours), around_the_clock=queue.is_urgent)


def _around_the_clock(case) -> bool:
    return bool(case.queue and case.queue.is_urgent)


def on_status_change(case, old: str, new: str, now: datetime) -> None:
    """Pause the clock while waiting on others, resume it (the due time moves
    by the working time paused), stop it once settled, restart it on reopening.
    Changes the case in memory; the caller saves it."""
    around = _around_the_clock(case)
    if new in SETTLED:
        case.sla_stopped = True
        case.sla_paused_at = None
        return
    if new in WAITING and old not in WAITING:
        case.sla_paused_at = now
    elif new not in WAITING and case.sla_paused_at is not None:
        paused = business_time_between(case.sla_paused_at, now, around_the_clock=around)
        if case.sla_due_at is not None:
            case.sla_due_at = add_business_time(case.sla_due_at, paused, around_the_clock=around)
        case.sla_paused_at = None
        case.escalated_at = None
    if case.sla_stopped and case.queue is not None:
        # Reopened: a fresh clock from now.
        case.sla_stopped = False
        case.escalated_at = None
        case.sla_due_at = due_at(case.queue, now)


def on_queue_move(case, queue, now: datetime) -> None:
    """A fresh clock in ``queue`` from ``now``. A case still waiting on the
    patient or an imaging centre stays paused, counted from the move: the time
    paused before it belonged to the old clock, which the move discards.
    (Keeping the old pause start added the whole earlier pause to the fresh
    due time on resuming: paused 3 Nov, moved 9 Nov, due 17 Nov, not 11 Nov.)"""
    case.sla_due_at = due_at(queue, now)
    case.escalated_at = None
    if case.sla_paused_at is not None:
        case.sla_paused_at = now


def is_overdue(case, now: datetime) -> bool:
    """The row-level twin of ``overdue_q`` (escalation re-checks under the lock)."""
    return bool(
        case.sla_due_at is not None and case.sla_due_at < now and case.sla_paused_at is None and not case.sla_stopped
    )


def overdue_q(now: datetime):
    """Past the due time, clock running. ``ReviewRequest.objects.overdue()``;
    the partial index case_sla_due (sla_stopped = false) serves it."""
    return Q(sla_due_at__lt=now, sla_paused_at__isnull=True, sla_stopped=False)


def waiting_on_clinic_q():
    """Open, and the clinic's move: neither paused (waiting on the patient or an
    imaging centre) nor stopped. ``ReviewRequest.objects.waiting_on_clinic()``."""
    return Q(status__in=OPEN, sla_stopped=False, sla_paused_at__isnull=True)


# --- The badge ------------------------------------------------------------------------------
DUE_SOON = timedelta(hours=4)


class State:
    ON_TIME = "on_time"
    DUE_SOON = "due_soon"
    OVERDUE = "overdue"
    PAUSED = "paused"
    STOPPED = "stopped"
    NONE = "none"

    LABELS = {
        ON_TIME: "On time",
        DUE_SOON: "Due soon",
        OVERDUE: "Overdue",
        PAUSED: "Paused",
        STOPPED: "Done",
        NONE: "Not routed",
    }


def due_soon_window(queue) -> timedelta:
    """A quarter of the queue's SLA, at most four hours (15 min for a 1 h queue)."""
    if queue is None:
        return DUE_SOON
    return min(DUE_SOON, timedelta(hours=queue.sla_hours) / 4)


def state(case, now: datetime | None = None) -> str:
    """On time, due soon or overdue; paused while waiting on others, stopped once settled.

    Uses only the case row and its (select_related) queue: safe per list row.
    ``now`` defaults to this process's clock, not the database's: a display
    per row must not cost a query per row.
    """
    now = now or timezone.now()
    if case.sla_stopped:
        return State.STOPPED
    if case.sla_paused_at is not None:
        return State.PAUSED
    if case.sla_due_at is None:
        return State.NONE
    if is_overdue(case, now):
        return State.OVERDUE
    if case.sla_due_at - now <= due_soon_window(case.queue):
        return State.DUE_SOON
    return State.ON_TIME
