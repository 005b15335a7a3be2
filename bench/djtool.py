"""Django-side helpers of the bench and the load test, run in a subprocess with
the environment of the project (or of the baseline for ``bare-*``). Each
command prints one JSON line last.

    python bench/djtool.py <command> [args]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import time
from datetime import timedelta
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path[:0] = [str(BENCH), str(BENCH.parent)]

import django  # noqa: E402

django.setup()


def emit(data: dict) -> None:
    print(json.dumps(data, default=str), flush=True)


def pct(values, p):
    values = sorted(values)
    if not values:
        return None
    k = (len(values) - 1) * p / 100
    lo, hi = int(k), min(int(k) + 1, len(values) - 1)
    return round(values[lo] + (values[hi] - values[lo]) * (k - lo), 2)


# --- Counts --------------------------------------------------------------------------
def cmd_max_case_id(args):
    from intake.models import ReviewRequest

    emit({"max_id": ReviewRequest.objects.order_by("-pk").values_list("pk", flat=True).first() or 0})


def cmd_count_cases(args):
    from intake.models import ReviewRequest

    qs = ReviewRequest.objects.filter(pk__gt=args.after)
    emit({"cases": qs.count(), "routed": qs.filter(routed_at__isnull=False).count()})


def cmd_superuser(args):
    """A superuser with a confirmed TOTP device (production requires a second factor)."""
    from django.contrib.auth import get_user_model
    from django_otp.plugins.otp_totp.models import TOTPDevice

    User = get_user_model()
    user, _ = User.objects.get_or_create(
        username="bench-admin", defaults={"is_staff": True, "is_superuser": True, "email": "bench@example.com"}
    )
    TOTPDevice.objects.get_or_create(user=user, name="bench", defaults={"confirmed": True})
    emit({"user": user.pk})


# --- Routing latency and throughput ----------------------------------------------------
def cmd_route_latency(args):
    """submit -> routed for the cases after ``--after``: created_at -> routed_at
    (when route_case started routing) and created_at -> updated_at (the routed
    case saved, near the end of the routing transaction)."""
    from intake.models import ReviewRequest

    rows = list(ReviewRequest.objects.filter(pk__gt=args.after).values_list("created_at", "routed_at", "updated_at"))
    routed = [(r - c).total_seconds() * 1000 for c, r, _ in rows if r is not None]
    saved = [(u - c).total_seconds() * 1000 for c, r, u in rows if r is not None]
    emit(
        {
            "cases": len(rows),
            "routed": len(routed),
            "p50_ms": pct(routed, 50),
            "p95_ms": pct(routed, 95),
            "p99_ms": pct(routed, 99),
            "max_ms": round(max(routed), 2) if routed else None,
            "saved_p50_ms": pct(saved, 50),
            "saved_p95_ms": pct(saved, 95),
            "saved_p99_ms": pct(saved, 99),
        }
    )


def _no_enqueue():
    """Cases created here must not enqueue anything: the bench enqueues exactly
    the routing tasks it measures."""
    import intake.services.notifications as notifications
    import intake.services.submission as submission

    submission.enqueue_on_commit = lambda *a, **k: None
    notifications.notification_enqueue_on_commit = lambda **k: None


def _answers(rng, tag):
    from client import PAYLOADS, identity
    from django.utils.datastructures import MultiValueDict

    from intake.forms import STEP_FORMS, STEP_NAMES

    answers = {}
    ident = identity(rng, tag)
    merged = {}
    for name in STEP_NAMES:
        data = dict(PAYLOADS[name])
        if name == "contact":
            data.update(ident)
        form = STEP_FORMS[name](data=MultiValueDict({k: v if isinstance(v, list) else [v] for k, v in data.items()}),
                                draft=merged)  # fmt: skip
        if not form.is_valid():
            raise SystemExit(f"step {name} invalid: {form.errors.as_json()}")
        merged.update(form.answers())
        answers.update(form.answers())
    return answers


def cmd_make_cases(args):
    """N complete cases through the real service (review_request_submit), then
    N route_case messages through the real enqueue path (dispatch.enqueue_now)."""
    from intake.models import ReviewRequest
    from intake.services.dispatch import enqueue_now
    from intake.services.submission import review_request_submit
    from intake.tasks import route_case

    _no_enqueue()
    rng = random.Random(args.seed)
    base = _answers(rng, f"tmpl{args.seed}")
    ids = []
    nonce = f"{os.getpid()}{int(time.time())}"
    for i in range(args.n):
        answers = dict(base)
        answers.update(
            email=f"route.{nonce}.{i}@example.com", phone=f"+1312{rng.randint(200, 299)}{rng.randint(0, 9999):04d}"
        )
        ids.append(review_request_submit(answers=answers, ip="127.0.0.1").pk)
    t0 = time.monotonic()
    if args.enqueue:
        for pk in ids:
            enqueue_now(route_case, pk)
    emit(
        {
            "ids": [ids[0], ids[-1]],
            "enqueue_s": round(time.monotonic() - t0, 3),
            "total": ReviewRequest.objects.count(),
        }
    )


def cmd_submit_steady(args):
    """Complete requests through the real service (review_request_submit: one
    transaction, outbox row, confirmation, route_case and send_notification
    enqueued after commit) at a steady rate, open loop, from this one process."""
    from intake.services.submission import review_request_submit

    rng = random.Random(args.seed)
    base = _answers(rng, f"steady{args.seed}")
    nonce = f"{os.getpid()}{int(time.time())}"
    n = int(args.rate * args.seconds)
    lateness = []
    t0 = time.monotonic() + 0.1
    for i in range(n):
        target = t0 + i / args.rate
        delay = target - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        lateness.append((time.monotonic() - target) * 1000)
        answers = dict(base)
        answers.update(
            email=f"steady.{nonce}.{i}@example.com",
            phone=f"+1312{rng.randint(200, 299)}{rng.randint(0, 9999):04d}",
            date_of_birth=base["date_of_birth"].replace(year=rng.randint(1940, 1999)),
        )
        review_request_submit(answers=answers, ip="127.0.0.1")
    elapsed = time.monotonic() - t0
    emit({"submitted": n, "achieved_rate": round(n / elapsed, 1), "lateness_p99_ms": pct(lateness, 99)})


def cmd_route_throughput(args):
    from intake.models import ReviewRequest

    times = sorted(
        ReviewRequest.objects.filter(pk__gte=args.first, pk__lte=args.last, routed_at__isnull=False).values_list(
            "routed_at", flat=True
        )
    )
    n = args.last - args.first + 1
    span = (times[-1] - times[0]).total_seconds() if len(times) > 1 else None
    emit({"expected": n, "routed": len(times), "span_s": span, "per_s": (len(times) - 1) / span if span else None})


def cmd_bare_prepare(args):
    """One row per task, so every task's touch is kept: read one row, update it."""
    from baseline.celery_app import bare_task
    from baseline.models import BareRow

    BareRow.objects.all().delete()
    rows = BareRow.objects.bulk_create([BareRow() for _ in range(args.n)])
    for row in rows:
        bare_task.apply_async(args=(row.pk,), queue="bare", retry=False)
    emit({"enqueued": len(rows)})


def cmd_bare_throughput(args):
    from baseline.models import BareRow

    times = sorted(BareRow.objects.filter(touched_at__isnull=False).values_list("touched_at", flat=True))
    span = (times[-1] - times[0]).total_seconds() if len(times) > 1 else None
    emit({"done": len(times), "span_s": span, "per_s": (len(times) - 1) / span if span else None})


# --- Admin at 10 and 100,000 cases -------------------------------------------------------
FIRST = "Ana Ben Carla Dev Eli Fay Gus Hana Ivan Jo Kim Lee Mia Ned Ola Pia Raj Sue Tom Uma Val Wes Yan Zoe".split()
LAST = "Adams Baker Chen Diaz Evans Fox Garcia Hill Ito Jones Khan Lopez Moore Nguyen Ortiz Patel Reed Shah".split()
STATUS_WEIGHTS = {
    "submitted": 1, "triage": 8, "awaiting_mri": 12, "mri_received": 6, "in_review": 9, "candidate": 7,
    "not_candidate": 16, "needs_more_info": 4, "consult_scheduled": 6, "closed": 20, "withdrawn": 4,
    "no_response": 5, "duplicate": 1, "urgent_advised": 1,
}  # fmt: skip
QUEUE_WEIGHTS = {
    "urgent": 3, "duplicate": 2, "imaging": 25, "mri-cervical": 15, "mri-thoracolumbar": 30,
    "conservative": 12, "general": 13,
}  # fmt: skip


def cmd_seed_cases(args):
    """Bulk-create cases (with their events, outbox rows and confirmation
    notifications) until ``--total`` cases exist: spread over a year, over the
    seeded queues, the statuses and a dozen staff members."""
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group
    from django.db import connection
    from django.utils import timezone

    from intake import choices
    from intake.models import CaseEvent, Notification, Outbox, QueueMembership, ReviewRequest, StaffQueue

    rng = random.Random(args.seed)
    User = get_user_model()
    staff = []
    for i in range(12):
        user, created = User.objects.get_or_create(
            username=f"bench-staff-{i}", defaults={"is_staff": True, "email": f"staff{i}@clinic.example"}
        )
        if created:
            group = Group.objects.filter(name=["Coordinator", "Clinician", "Supervisor"][i % 3]).first()
            if group:
                user.groups.add(group)
        staff.append(user)
    queues = {q.slug: q for q in StaffQueue.objects.all()}
    for i, user in enumerate(staff):
        for slug in list(queues)[i % len(queues) :: 3]:
            QueueMembership.objects.get_or_create(queue=queues[slug], user=user)
    existing = ReviewRequest.objects.count()
    todo = max(0, args.total - existing)
    now = timezone.now()
    statuses, sw = zip(*STATUS_WEIGHTS.items(), strict=True)
    slugs, qw = zip(*QUEUE_WEIGHTS.items(), strict=True)
    batch = 5000
    made = 0
    t0 = time.monotonic()
    while made < todo:
        cases = []
        for i in range(min(batch, todo - made)):
            n = existing + made + i
            created = now - timedelta(seconds=rng.random() ** 1.3 * 365 * 86400)
            status = rng.choices(statuses, sw)[0]
            queue = queues[rng.choices(slugs, qw)[0]]
            urgent = queue.slug == "urgent"
            mri = rng.choice(choices.MriStatus.values)
            cases.append(
                ReviewRequest(
                    reference=f"MR-B{n:07d}"[:12],
                    kind=choices.Kind.URGENT_CALLBACK if urgent and rng.random() < 0.5 else choices.Kind.REVIEW,
                    status=status,
                    created_at=created,
                    queue=queue,
                    routing_reason="Seeded for the bench",
                    routed_at=created + timedelta(seconds=rng.uniform(0.01, 2)),
                    assigned_to=rng.choice(staff) if rng.random() < 0.85 else None,
                    assigned_at=created + timedelta(seconds=2),
                    is_urgent=urgent,
                    red_flags=["weakness"] if urgent else [],
                    is_duplicate=queue.slug == "duplicate",
                    sla_due_at=created + timedelta(hours=queue.sla_hours * rng.uniform(1, 3)),
                    sla_stopped=status in ("closed", "withdrawn", "no_response", "duplicate", "not_candidate"),
                    first_contact_at=created + timedelta(hours=rng.uniform(1, 48)) if rng.random() < 0.7 else None,
                    first_name=rng.choice(FIRST),
                    last_name=rng.choice(LAST),
                    date_of_birth=created.date().replace(year=rng.randint(1940, 2000), day=1),
                    email=f"seed{n}@example.com",
                    phone=f"+1312{rng.randint(200, 299)}{rng.randint(0, 9999):04d}",
                    postal_code=f"{rng.randint(10000, 99999)}",
                    state="IL",
                    contact_method=rng.choice(choices.ContactMethod.values),
                    contact_time=rng.choice(choices.ContactTime.values),
                    regions=[rng.choice(choices.Region.values)],
                    side=rng.choice(choices.Side.values),
                    pain_duration=rng.choice(choices.PainDuration.values),
                    severity=rng.randint(1, 10),
                    radiating_pain=rng.random() < 0.5,
                    numbness=rng.random() < 0.3,
                    weakness=rng.random() < 0.2,
                    diagnoses=[rng.choice(choices.Diagnosis.values)],
                    treatments={"physical_therapy": "6w_3m"},
                    prior_surgery=rng.random() < 0.1,
                    mri_status=mri,
                    mri_region=rng.choice(choices.MriRegion.values) if mri != "none" else "",
                    source=rng.choice(choices.Source.values),
                    consent_privacy=True,
                    consent_email=True,
                    consent_version="2026-11-01",
                    consented_at=created,
                    purged_at=created + timedelta(days=365) if status == "closed" and rng.random() < 0.05 else None,
                )
            )
        ReviewRequest.objects.bulk_create(cases, batch_size=batch)
        events, boxes, notes = [], [], []
        for c in cases:
            events.append(CaseEvent(case=c, kind="submitted", to_status="submitted", summary="Request received",
                                    created_at=c.created_at))  # fmt: skip
            events.append(CaseEvent(case=c, kind="routed", from_status="submitted", to_status="triage",
                                    summary=f"Routed to {c.queue.name}.", created_at=c.routed_at))  # fmt: skip
            boxes.append(Outbox(case=c, state="done", created_at=c.created_at, done_at=c.routed_at))
            notes.append(Notification(case=c, kind="patient_confirmation", dedupe_key=f"patient_confirmation:{c.pk}:c",
                                      recipient=c.email, state="sent", created_at=c.created_at,
                                      sent_at=c.created_at))  # fmt: skip
        CaseEvent.objects.bulk_create(events, batch_size=batch)
        Outbox.objects.bulk_create(boxes, batch_size=batch)
        Notification.objects.bulk_create(notes, batch_size=batch)
        made += len(cases)
    with connection.cursor() as cur:
        cur.execute("ANALYZE")
    emit({"created": made, "total": ReviewRequest.objects.count(), "seconds": round(time.monotonic() - t0, 1)})


def cmd_admin_bench(args):
    """Median server time and query count of admin pages, with the test Client
    in this process (no network): a superuser with a verified second factor."""
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from django_otp import DEVICE_ID_SESSION_KEY
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from intake.models import ReviewRequest

    user = get_user_model().objects.get(username="bench-admin")
    device = TOTPDevice.objects.get(user=user, name="bench")
    client = Client(HTTP_HOST="127.0.0.1", raise_request_exception=False)
    client.force_login(user)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()
    out = {"cases": ReviewRequest.objects.count()}
    for name, url in args.pages:
        times, counts, statuses = [], [], []
        for i in range(args.warmup + args.runs):
            with CaptureQueriesContext(connection) as ctx:
                t0 = time.perf_counter()
                resp = client.get(url)
                elapsed = (time.perf_counter() - t0) * 1000
            statuses.append(resp.status_code)
            if i >= args.warmup:
                times.append(elapsed)
                counts.append(len(ctx.captured_queries))
        status = statuses[-1]
        out[name] = {
            "url": url,
            "status": status,
            "median_ms": round(statistics.median(times), 1) if status == 200 else None,
            "p90_ms": pct(times, 90) if status == 200 else None,
            "queries": statistics.mode(counts) if status == 200 else None,
            "queries_all": sorted(set(counts)),
            "final_url": resp.get("Location", ""),
        }
        if args.show_queries and status == 200:
            with CaptureQueriesContext(connection) as ctx:
                client.get(url)
            out[name]["sql"] = [(q["time"], q["sql"][: args.sql_chars]) for q in ctx.captured_queries]
    emit(out)


def cmd_walk_queries(args):
    """The queries of each step of one complete request (test Client, in process)."""
    from client import STEP_PATHS, identity, step_bodies
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    client = Client(HTTP_HOST="127.0.0.1", enforce_csrf_checks=False)
    out = {}
    for rnd in range(2):  # the first round warms caches up; the second is reported
        tag = f"wq{os.getpid()}{int(time.time())}.{rnd}"
        ident = identity(random.Random(tag), tag)
        for (name, path, data), _ in zip(step_bodies(ident), STEP_PATHS, strict=True):
            with CaptureQueriesContext(connection) as ctx:
                t0 = time.perf_counter()
                resp = client.post(path, data)
                ms = (time.perf_counter() - t0) * 1000
            out[name] = {
                "status": resp.status_code,
                "ms": round(ms, 2),
                "queries": len(ctx.captured_queries),
                "sql": [q["sql"][: args.sql_chars] for q in ctx.captured_queries],
            }
    emit(out)


def cmd_route_queries(args):
    """The queries of one route_case and one send_notification (run in process)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from intake.models import Notification, ReviewRequest
    from intake.services.submission import review_request_submit
    from intake.tasks import route_case, send_notification

    _no_enqueue()
    rng = random.Random(f"rq{os.getpid()}{time.time()}")
    answers = _answers(rng, f"rq{os.getpid()}{int(time.time())}")
    out = {}
    for _round in ("warm", "measured"):
        case = review_request_submit(answers={**answers, "email": f"rq{rng.random()}@example.com"}, ip="127.0.0.1")
        note = Notification.objects.filter(case=case).first()
        with CaptureQueriesContext(connection) as ctx:
            route_case.run(case.pk)
        with CaptureQueriesContext(connection) as ctx2:
            send_notification.run(note.pk)
        out = {
            "route_case": [q["sql"][: args.sql_chars] for q in ctx.captured_queries],
            "send_notification": [q["sql"][: args.sql_chars] for q in ctx2.captured_queries],
            "queue": ReviewRequest.objects.get(pk=case.pk).queue.name,
        }
    emit(out)


# --- Load test report -------------------------------------------------------------------
def cmd_loadtest_report(args):
    from django.db import connection

    from intake.models import CaseEvent, Notification, Outbox, ReviewRequest

    cases = ReviewRequest.objects.all()
    with connection.cursor() as cur:
        cur.execute(
            "SELECT n, count(*) FROM (SELECT c.id, count(e.id) AS n FROM intake_reviewrequest c "
            "LEFT JOIN intake_caseevent e ON e.case_id = c.id AND e.kind = 'routed' GROUP BY c.id) t GROUP BY n"
        )
        routed_hist = dict(cur.fetchall())
        cur.execute(
            "SELECT count(*) FROM (SELECT case_id, kind, recipient FROM intake_notification WHERE state = 'sent' "
            "GROUP BY case_id, kind, recipient HAVING count(*) > 1) t"
        )
        dup_notifications = cur.fetchone()[0]
    latencies = [
        (r - c).total_seconds() for c, r in cases.filter(routed_at__isnull=False).values_list("created_at", "routed_at")
    ]
    emit(
        {
            "cases": cases.count(),
            "routed_at_set": cases.filter(routed_at__isnull=False).count(),
            "routed_once": routed_hist.get(1, 0),
            "routed_never": routed_hist.get(0, 0),
            "routed_twice_or_more": sum(v for k, v in routed_hist.items() if k >= 2),
            "routed_events": CaseEvent.objects.filter(kind="routed").count(),
            "outbox": {s: Outbox.objects.filter(state=s).count() for s in ("pending", "done", "failed")},
            "outbox_max_deliveries": max(Outbox.objects.values_list("deliveries", flat=True), default=0),
            "outbox_reenqueued": Outbox.objects.filter(enqueue_count__gt=0).count(),
            "notifications": {
                s: Notification.objects.filter(state=s).count() for s in ("pending", "sending", "sent", "failed")
            },
            "notifications_by_kind": {
                k: Notification.objects.filter(kind=k).count()
                for k in Notification.objects.values_list("kind", flat=True).distinct()
            },
            "notification_duplicate_requests": sum(Notification.objects.values_list("duplicate_requests", flat=True)),
            "notifications_sent_duplicated": dup_notifications,
            "slowest_route_s": round(max(latencies), 3) if latencies else None,
            "route_p50_s": pct(latencies, 50),
            "route_p99_s": pct(latencies, 99),
            # What a run that failed to route a case needs to say why: its outbox row.
            "unrouted": [
                {
                    "case": box.case_id,
                    "state": box.state,
                    "deliveries": box.deliveries,
                    "enqueue_count": box.enqueue_count,
                    "created_s_ago": _ago(box.created_at),
                    "enqueued_s_ago": _ago(box.enqueued_at),
                    "last_delivery_s_ago": _ago(box.last_delivery_at),
                    "last_error": box.last_error,
                }
                for box in Outbox.objects.filter(case__routed_at__isnull=True)[:20]
            ],
        }
    )


def _ago(when):
    from django.utils import timezone

    return None if when is None else round((timezone.now() - when).total_seconds(), 1)


def main():
    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers(dest="cmd", required=True)
    sub.add_parser("max-case-id")
    p = sub.add_parser("count-cases")
    p.add_argument("--after", type=int, default=0)
    sub.add_parser("superuser")
    p = sub.add_parser("route-latency")
    p.add_argument("--after", type=int, default=0)
    p = sub.add_parser("make-cases")
    p.add_argument("n", type=int)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--enqueue", action="store_true")
    p = sub.add_parser("submit-steady")
    p.add_argument("--rate", type=float, default=50)
    p.add_argument("--seconds", type=float, default=30)
    p.add_argument("--seed", type=int, default=3)
    p = sub.add_parser("route-throughput")
    p.add_argument("first", type=int)
    p.add_argument("last", type=int)
    p = sub.add_parser("bare-prepare")
    p.add_argument("n", type=int)
    sub.add_parser("bare-throughput")
    p = sub.add_parser("seed-cases")
    p.add_argument("total", type=int)
    p.add_argument("--seed", type=int, default=7)
    p = sub.add_parser("admin-bench")
    p.add_argument("--page", action="append", default=[], help="name=url")
    p.add_argument("--runs", type=int, default=15)
    p.add_argument("--warmup", type=int, default=3)
    p.add_argument("--show-queries", action="store_true")
    p.add_argument("--sql-chars", type=int, default=400)
    sub.add_parser("loadtest-report")
    p = sub.add_parser("route-queries")
    p.add_argument("--sql-chars", type=int, default=140)
    p = sub.add_parser("walk-queries")
    p.add_argument("--sql-chars", type=int, default=160)
    args = parser.parse_args()
    if args.cmd == "admin-bench":
        args.pages = [tuple(p.split("=", 1)) for p in args.page]
    globals()["cmd_" + args.cmd.replace("-", "_")](args)


if __name__ == "__main__":
    main()
