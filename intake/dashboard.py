"""Reads for the staff dashboard and the SLA badge. No writes, no health data.

Everything is scoped by ``ReviewRequest.objects.visible_to(user)`` and
aggregated in the database, so the dashboard costs a fixed number of queries
however many cases there are. Medians are taken in Python over one
``values_list`` of timestamps bounded to the window (portable to SQLite;
PostgreSQL's ``percentile_cont`` would save shipping the rows).
"""

from dataclasses import dataclass
from datetime import timedelta
from statistics import median

from django.db.models import Count, Q
from django.utils import timezone

from .transitions import OPEN, Status
from .models import CaseEvent, ReviewRequest

WINDOW_DAYS = (30, 90, 365)
DUE_SOON = timedelta(hours=4)


# --- SLA badge --------------------------------------------------------------
class Sla:
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


def sla_state(case: ReviewRequest, now=None) -> str:
    """On time, due soon or overdue; paused while waiting on others, stopped once settled.

    Uses only the case row and its (select_related) queue: safe per list row.
    """
    now = now or timezone.now()
    if case.sla_stopped:
        return Sla.STOPPED
    if case.sla_paused_at is not None:
        return Sla.PAUSED
    if case.sla_due_at is None:
        return Sla.NONE
    if case.sla_due_at < now:
        return Sla.OVERDUE
    if case.sla_due_at - now <= due_soon_window(case.queue):
        return Sla.DUE_SOON
    return Sla.ON_TIME


# --- Dashboard --------------------------------------------------------------
@dataclass
class FunnelStep:
    label: str
    count: int
    percent: float  # of the first step


@dataclass
class Dashboard:
    days: int
    statuses: list[tuple[str, str]]  # (value, label) of the columns shown
    queues: list[dict]  # {"name", "counts": [..], "open", "overdue"}
    totals: dict
    oldest: list[dict]  # reference, queue, status, created_at: no names, no answers
    median_first_contact: timedelta | None
    median_decision: timedelta | None
    first_contact_sample: int
    decision_sample: int
    funnel: list[FunnelStep]


def _median(pairs) -> tuple[timedelta | None, int]:
    durations = [end - start for start, end in pairs if start and end and end >= start]
    return (median(durations) if durations else None), len(durations)


def dashboard_for(user, *, days: int = 30, now=None) -> Dashboard:
    """The dashboard's numbers for the cases ``user`` may see. Four queries
    (plus the permission look-up of ``visible_to``), whatever the volume."""
    now = now or timezone.now()
    since = now - timedelta(days=days)
    visible = ReviewRequest.objects.visible_to(user).filter(purged_at__isnull=True)
    overdue = Q(sla_due_at__lt=now, sla_paused_at__isnull=True, sla_stopped=False)

    # 1. Cases per queue and status, with the overdue among them.
    rows = (
        visible.order_by()
        .values("queue_id", "queue__name", "status")
        .annotate(n=Count("pk"), overdue=Count("pk", filter=overdue))
    )
    by_queue: dict = {}
    seen_status = set()
    for row in rows:
        q = by_queue.setdefault(row["queue_id"], {"name": row["queue__name"] or "Not routed yet", "by_status": {}})
        q["by_status"][row["status"]] = row["n"]
        q["overdue"] = q.get("overdue", 0) + row["overdue"]
        seen_status.add(row["status"])
    # Columns: every open status, and any closed one that has cases.
    statuses = [(s.value, s.label) for s in Status if s in OPEN or s in seen_status]
    queues = []
    for q in sorted(by_queue.values(), key=lambda q: q["name"]):
        counts = [q["by_status"].get(s, 0) for s, _ in statuses]
        open_n = sum(n for s, n in q["by_status"].items() if s in OPEN)
        queues.append({"name": q["name"], "counts": counts, "open": open_n, "overdue": q.get("overdue", 0)})
    totals = {
        "counts": [sum(q["counts"][i] for q in queues) for i in range(len(statuses))],
        "open": sum(q["open"] for q in queues),
        "overdue": sum(q["overdue"] for q in queues),
    }

    # 2. The oldest still waiting on the clinic (not paused, not settled).
    oldest = list(
        visible.filter(status__in=OPEN, sla_stopped=False)
        .order_by("created_at")
        .values("pk", "reference", "queue__name", "status", "created_at", "sla_due_at")[:10]
    )
    for row in oldest:
        row["status_label"] = Status(row["status"]).label

    # 3. Durations over the window: medians in Python over bounded rows.
    recent = visible.filter(Q(first_contact_at__gte=since) | Q(decided_at__gte=since)).values_list(
        "created_at", "first_contact_at", "decided_at"
    )
    recent = list(recent)
    median_contact, n_contact = _median((c, f) for c, f, _ in recent if f and f >= since)
    median_decision, n_decision = _median((c, d) for c, _, d in recent if d and d >= since)

    # 4. The funnel of cases submitted in the window: one aggregate over the
    # cases, and one over the few events that mark a candidate or a consult
    # (starting from those events is far cheaper than asking every case
    # whether it has one: 44 ms -> a few ms at 100,000 cases).
    window = visible.filter(created_at__gte=since)
    f = window.aggregate(
        submitted=Count("pk"),
        mri=Count("pk", filter=Q(mri_received_at__isnull=False)),
        decided=Count("pk", filter=Q(decided_at__isnull=False)),
    )
    reached = (
        CaseEvent.objects.filter(to_status__in=[Status.CANDIDATE, Status.CONSULT_SCHEDULED], case__in=window)
        .order_by()
        .values("to_status")
        .annotate(n=Count("case_id", distinct=True))
    )
    by_status = {row["to_status"]: row["n"] for row in reached}
    f["candidate"] = by_status.get(Status.CANDIDATE, 0)
    f["consult"] = by_status.get(Status.CONSULT_SCHEDULED, 0)
    top = f["submitted"] or 0
    funnel = [
        FunnelStep(label, f[key] or 0, round(100 * (f[key] or 0) / top, 1) if top else 0.0)
        for key, label in (
            ("submitted", "Submitted"),
            ("mri", "MRI received"),
            ("decided", "Decided"),
            ("candidate", "Candidate"),
            ("consult", "Consult scheduled"),
        )
    ]
    return Dashboard(
        days=days,
        statuses=statuses,
        queues=queues,
        totals=totals,
        oldest=oldest,
        median_first_contact=median_contact,
        median_decision=median_decision,
        first_contact_sample=n_contact,
        decision_sample=n_decision,
        funnel=funnel,
    )


# --- Funnel chart (server-side SVG, no JavaScript) ---------------------------
@dataclass
class Bar:
    label: str
    count: int
    percent: float
    y: int
    width: float
    value_x: float


def funnel_bars(funnel: list[FunnelStep], *, width: int = 420, bar_height: int = 28, gap: int = 10) -> dict:
    """Geometry for a horizontal bar chart drawn as inline SVG by the template."""
    label_width = 150
    top = max((s.count for s in funnel), default=0)
    bars = []
    for i, step in enumerate(funnel):
        w = round((width * step.count / top) if top else 0, 1)
        bars.append(Bar(step.label, step.count, step.percent, i * (bar_height + gap), w, label_width + w + 6))
    return {
        "bars": bars,
        "label_x": label_width - 8,
        "bar_x": label_width,
        "bar_height": bar_height,
        "text_y": bar_height // 2 + 5,
        "width": label_width + width + 120,
        "height": len(funnel) * (bar_height + gap),
    }


def duration_words(value: timedelta | None) -> str:
    """ "2 d 3 h", "3 h 20 min", "12 min": short enough for a dashboard cell."""
    if value is None:
        return "—"
    minutes = int(value.total_seconds() // 60)
    days, rest = divmod(minutes, 24 * 60)
    hours, minutes = divmod(rest, 60)
    if days:
        return f"{days} d {hours} h"
    if hours:
        return f"{hours} h {minutes} min"
    return f"{minutes} min"
