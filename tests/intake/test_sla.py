"""The SLA clock (intake/sla.py, the one owner): business time, due times,
pause and resume, queue moves, escalation, the badge, the patient's promised
date and the "waiting on the clinic" list. Holidays and closure days are in
test_clinic_time.py."""

from datetime import datetime, timedelta
from unittest import mock
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from clinic.models import AuditEntry
from intake import sla
from intake.models import CaseEvent, Notification, ReviewRequest, StaffQueue
from intake.selectors import patient_stage, promised_by
from intake.services.lifecycle import case_move_queue, case_transition, cases_escalate_overdue
from intake.transitions import OPEN, Status
from tests.factories import CaseFactory, UserFactory

pytestmark = pytest.mark.django_db  # the clock reads the clinic's closure days

CHICAGO = ZoneInfo("America/Chicago")
HOUR = timedelta(hours=1)


def at(*args):
    return datetime(*args, tzinfo=CHICAGO)


class frozen:
    """Freeze the services' clock (intake.clock, the database's) and Django's
    timezone.now; the machine's clock is left alone."""

    def __init__(self, moment):
        self.moment = moment

    def __enter__(self):
        self.patches = [
            mock.patch("django.utils.timezone.now", return_value=self.moment),
            mock.patch("intake.clock.now", return_value=self.moment),
        ]
        for p in self.patches:
            p.start()

    def __exit__(self, *exc):
        for p in self.patches:
            p.stop()


# --- Business time -------------------------------------------------------------------------
def test_sla_counts_business_hours_and_urgent_round_the_clock():
    friday_4pm = at(2026, 11, 20, 16, 0)
    assert sla.add_business_time(friday_4pm, timedelta(hours=24)) == at(2026, 11, 25, 13, 0)
    assert sla.add_business_time(at(2026, 11, 21, 10, 0), timedelta(hours=1)) == at(2026, 11, 23, 9, 0)  # Saturday
    assert sla.add_business_time(friday_4pm, timedelta(hours=1), around_the_clock=True) == at(2026, 11, 20, 17, 0)
    assert sla.business_time_between(friday_4pm, at(2026, 11, 23, 10, 0)) == timedelta(hours=3)


def test_due_at_counts_the_queues_hours_round_the_clock_only_for_urgent_queues(seeded):
    friday_4pm = at(2026, 11, 20, 16, 0)
    assert sla.due_at(seeded["general"], friday_4pm) == at(2026, 11, 25, 13, 0)  # 24 business hours
    assert sla.due_at(seeded["urgent"], friday_4pm) == at(2026, 11, 20, 17, 0)  # 1 h, evenings too


# --- Pause, resume, escalation --------------------------------------------------------------
def test_sla_escalation_with_a_frozen_clock_and_the_pause(seeded):
    supervisor = UserFactory(groups=["Supervisor"])
    queue = seeded["general"]  # 24 business hours
    created = at(2026, 11, 20, 16, 0)  # Friday
    case = CaseFactory(queue=queue, status="triage", created_at=created, sla_due_at=at(2026, 11, 25, 13, 0))

    # Waiting on the imaging centre from Monday 9:00 to Tuesday 9:00 pauses the clock for 9 business hours.
    with frozen(at(2026, 11, 23, 9, 0)):
        case_transition(case_id=case.pk, to_status="awaiting_mri")
    assert cases_escalate_overdue(now=at(2026, 11, 26, 12, 0)) == 0  # paused: never overdue
    with frozen(at(2026, 11, 24, 9, 0)):
        case_transition(case_id=case.pk, to_status="mri_received", note="Films seen at the centre.")
    case.refresh_from_db()
    # Wednesday 13:00 + 9 business hours, skipping Thanksgiving (Thursday 26 November)
    assert case.sla_due_at == at(2026, 11, 27, 13, 0)
    assert cases_escalate_overdue(now=at(2026, 11, 27, 12, 59)) == 0
    assert cases_escalate_overdue(now=at(2026, 11, 27, 13, 1)) == 1
    assert cases_escalate_overdue(now=at(2026, 11, 27, 15, 0)) == 0  # once per breach
    notes = Notification.objects.filter(case=case, kind="supervisor_overdue")
    assert list(notes.values_list("recipient", flat=True)) == [supervisor.email]
    assert CaseEvent.objects.filter(case=case, kind="escalated").count() == 1


def test_escalation_writes_an_audit_entry(seeded):
    case = CaseFactory(queue=seeded["general"], status="triage", sla_due_at=at(2026, 11, 23, 9, 0))
    assert cases_escalate_overdue(now=at(2026, 11, 23, 10, 0)) == 1
    entry = AuditEntry.objects.get(object_type="case", object_ref=case.reference)
    assert entry.actor is None and entry.actor_label == "system"
    assert "SLA" in entry.summary


def test_a_settled_case_stops_the_clock_and_reopening_starts_a_fresh_one(seeded):
    case = CaseFactory(queue=seeded["general"], status="triage", sla_due_at=at(2026, 11, 2, 9, 0))
    with frozen(at(2026, 11, 4, 10, 0)):
        case_transition(case_id=case.pk, to_status="duplicate")
    case.refresh_from_db()
    assert case.sla_stopped and case.sla_paused_at is None
    assert not ReviewRequest.objects.overdue(at(2026, 11, 30, 9, 0)).filter(pk=case.pk).exists()
    with frozen(at(2026, 11, 9, 10, 0)):  # Monday
        case_transition(case_id=case.pk, to_status="triage")
    case.refresh_from_db()
    assert not case.sla_stopped
    assert case.sla_due_at == at(2026, 11, 12, 16, 0)  # 7 + 9 h, Veterans Day off, + 8 h


# --- A queue move (issue 13: paused 3 Nov, moved 9 Nov, came out due 17 Nov) ---------------------
@pytest.mark.parametrize(
    ("holidays", "due"),
    [
        # As reported, before the holiday calendar: a fresh 24 business hours from
        # Monday 10:00 is Wednesday 11 November 16:00, plus the hour paused after the move.
        ("", at(2026, 11, 11, 17, 0)),
        # Illinois' calendar: 11 November is Veterans Day, so Thursday.
        ("US", at(2026, 11, 12, 17, 0)),
    ],
)
def test_a_queue_move_while_paused_gives_a_fresh_clock_paused_from_the_move(seeded, settings, holidays, due):
    settings.INTAKE_HOLIDAY_COUNTRY = holidays
    case = CaseFactory(queue=seeded["imaging"], status="triage", sla_due_at=at(2026, 11, 3, 17, 0))
    with frozen(at(2026, 11, 3, 10, 0)):  # Tuesday 3 November: waiting on the imaging centre
        case_transition(case_id=case.pk, to_status="awaiting_mri")
    with frozen(at(2026, 11, 9, 10, 0)):  # Monday 9 November: moved, still waiting, the new queue's date asked for
        case_move_queue(case_id=case.pk, queue=seeded["general"], new_promise=True)
    case.refresh_from_db()
    assert case.sla_paused_at == at(2026, 11, 9, 10, 0)
    assert sla.state(case, at(2026, 11, 9, 10, 30)) == sla.State.PAUSED
    with frozen(at(2026, 11, 9, 11, 0)):  # an hour later the MRI arrives: the clock runs again
        case_transition(case_id=case.pk, to_status="mri_received", note="Films seen at the centre.")
    case.refresh_from_db()
    assert case.sla_paused_at is None
    assert case.sla_due_at == due  # not 17 November: the pause before the move is not added again


def test_a_queue_move_while_running_gives_a_fresh_clock_from_the_move(seeded):
    case = CaseFactory(queue=seeded["imaging"], status="triage", sla_due_at=at(2026, 11, 2, 9, 0))
    with frozen(at(2026, 11, 16, 10, 0)):  # Monday, long overdue in the old queue
        case_move_queue(case_id=case.pk, queue=seeded["urgent"])
    case.refresh_from_db()
    assert case.sla_due_at == at(2026, 11, 16, 11, 0)  # the urgent queue's hour
    assert case.sla_paused_at is None and case.escalated_at is None


# --- Which cases: overdue, waiting on the clinic --------------------------------------------
def _cases(queue, now):
    past = now - HOUR
    return {
        "running": CaseFactory(queue=queue, status=Status.TRIAGE, sla_due_at=now + HOUR),
        "overdue": CaseFactory(queue=queue, status=Status.IN_REVIEW, sla_due_at=past),
        "paused": CaseFactory(queue=queue, status=Status.AWAITING_MRI, sla_due_at=past, sla_paused_at=past),
        "stopped": CaseFactory(queue=queue, status=Status.CANDIDATE, sla_due_at=past, sla_stopped=True),
        "closed": CaseFactory(queue=queue, status=Status.CLOSED, sla_due_at=past, sla_stopped=True),
    }


def _names(cases, queryset):
    return {name for name, case in cases.items() if queryset.filter(pk=case.pk).exists()}


def test_overdue_and_waiting_on_clinic(seeded):
    now = timezone.now()
    cases = _cases(seeded["general"], now)
    assert _names(cases, ReviewRequest.objects.overdue(now)) == {"overdue"}
    assert _names(cases, ReviewRequest.objects.waiting_on_clinic()) == {"running", "overdue"}
    assert {name for name, c in cases.items() if sla.is_overdue(c, now)} == {"overdue"}


def test_the_admin_filter_uses_waiting_on_clinic(seeded):
    from intake.admin.filters import WaitingFilter

    cases = _cases(seeded["general"], timezone.now())
    waiting = WaitingFilter(None, {"view": ["waiting"]}, ReviewRequest, None)
    assert _names(cases, waiting.queryset(None, ReviewRequest.objects.all())) == {"running", "overdue"}


# --- The badge ------------------------------------------------------------------------------
def test_badge_states():
    now = timezone.now()
    queue = StaffQueue(name="q", sla_hours=24)
    for fields, expected in [
        ({"sla_due_at": now + timedelta(hours=10)}, sla.State.ON_TIME),
        ({"sla_due_at": now + timedelta(hours=3)}, sla.State.DUE_SOON),
        ({"sla_due_at": now - timedelta(minutes=1)}, sla.State.OVERDUE),
        ({"sla_due_at": now - HOUR, "sla_paused_at": now}, sla.State.PAUSED),
        ({"sla_due_at": now - HOUR, "sla_stopped": True}, sla.State.STOPPED),
        ({}, sla.State.NONE),
    ]:
        assert sla.state(ReviewRequest(queue=queue, **fields), now) == expected, fields
    urgent = StaffQueue(name="u", sla_hours=1, is_urgent=True)  # due soon: a quarter of 1 h
    assert sla.state(ReviewRequest(queue=urgent, sla_due_at=now + timedelta(minutes=20)), now) == sla.State.ON_TIME
    assert sla.state(ReviewRequest(queue=urgent, sla_due_at=now + timedelta(minutes=10)), now) == sla.State.DUE_SOON


# --- The patient's promised date ------------------------------------------------------------
def test_promised_by_is_the_routed_due_time(seeded):
    case = CaseFactory(queue=seeded["general"], status="triage", sla_due_at=at(2026, 12, 1, 13, 0))
    assert promised_by(case) == at(2026, 12, 1, 13, 0)


def test_promised_by_before_routing_is_what_the_rules_would_promise(seeded):
    # A back MRI on its way: the thoracic and lumbar review queue, 48 business hours.
    case = CaseFactory(created_at=at(2026, 11, 25, 16, 0))
    assert case.queue is None and case.sla_due_at is None
    # Wednesday 1 h, Thanksgiving, Friday 9 (10), Monday 9 (19), Tuesday 9 (28), Wednesday 9 (37), Thursday 9
    # (46), Friday 08:00 + 2 h.
    assert promised_by(case) == at(2026, 12, 4, 10, 0)
    assert promised_by(case) == sla.due_at(seeded["mri-thoracolumbar"], case.created_at)
    assert not ReviewRequest.objects.filter(pk=case.pk, sla_due_at__isnull=False).exists()  # read-only


def test_the_status_page_promises_nothing_once_settled(seeded):
    case = CaseFactory(queue=seeded["general"], status=Status.CANDIDATE, sla_due_at=at(2026, 12, 1, 13, 0))
    assert patient_stage(case)["promised"] is None
    case.status = Status.TRIAGE
    assert patient_stage(case)["promised"] == at(2026, 12, 1, 13, 0)
    assert Status.TRIAGE in OPEN
