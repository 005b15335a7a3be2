"""The case page's lifecycle: buttons for the allowed moves only, one service
call per change, decisions with reason and note, optimistic concurrency, notes,
the merged timeline, and bulk actions that loop over the same services."""

from datetime import timedelta

import pytest
from django.contrib import admin
from django.urls import reverse
from django.utils import timezone

from intake.models import CaseEvent, Notification
from intake.services.errors import IllegalTransition, ServiceError
from intake.services.lifecycle import case_transition
from intake.transitions import DECISIONS, TRANSITIONS, Status, allowed_next

from .test_admin_support import (
    change_url,
    changelist_url,
    follow_messages,
    make_case,
    transition_url,
)

PAIRS = [(a, b) for a in Status.values for b in Status.values]
DECISION_DATA = {"reason_category": "conservative_care", "note": "Conservative care plan first."}


def status_events(case):
    return CaseEvent.objects.filter(case=case, kind=CaseEvent.Kind.STATUS)


@pytest.mark.parametrize(("from_status", "to_status"), PAIRS)
def test_every_transition_through_the_page_and_the_service(client, staff, from_status, to_status):
    allowed = to_status in TRANSITIONS[from_status]
    extra = DECISION_DATA if to_status in DECISIONS else {}
    if to_status == Status.MRI_RECEIVED:
        extra = {"note": "Films seen at the imaging centre."}  # no file on these cases

    # Through the page's POST, as a clinician (who may also decide).
    case = make_case(staff.queue_a, status=from_status)
    client.force_login(staff.clinician)
    response = client.post(transition_url(case), {"to_status": to_status, "version": case.version, **extra})
    assert response.status_code == 302
    case.refresh_from_db()
    if allowed:
        assert case.status == to_status
        assert case.version == 2
        event = status_events(case).get()
        assert (event.from_status, event.to_status, event.actor) == (from_status, to_status, staff.clinician)
    else:
        assert case.status == from_status and case.version == 1
        assert not status_events(case).exists()
        assert any("cannot move" in m for m in follow_messages(client, response))

    # Through the service directly: the same table decides.
    other = make_case(staff.queue_a, status=from_status)
    if allowed:
        moved = case_transition(
            case_id=other.pk,
            to_status=to_status,
            actor=staff.clinician,
            note=extra.get("note", ""),
            reason_category=extra.get("reason_category", ""),
        )
        assert moved.status == to_status
        assert status_events(other).count() == 1
    else:
        with pytest.raises(IllegalTransition):
            case_transition(case_id=other.pk, to_status=to_status, actor=staff.clinician)
        assert not status_events(other).exists()


@pytest.mark.parametrize("status", Status.values)
def test_the_page_offers_exactly_the_allowed_next_states(client, staff, status):
    case = make_case(staff.queue_a, status=status)
    client.force_login(staff.clinician)
    html = client.get(change_url(case)).content.decode()
    for target in Status.values:
        offered = f'id="to-{target}"' in html or f'id="decide-{target}"' in html
        assert offered == (target in allowed_next(status)), target
    # Every form carries the version the page was drawn from.
    if allowed_next(status):
        assert f'name="version" value="{case.version}"' in html


def test_a_decision_needs_a_reason_and_a_note_on_the_page_and_in_the_service(client, staff):
    case = make_case(staff.queue_a, status=Status.IN_REVIEW)
    client.force_login(staff.clinician)
    response = client.post(transition_url(case), {"to_status": "not_candidate", "version": 1, "note": " "})
    messages = follow_messages(client, response)
    assert any("reason category" in m for m in messages) and any("note" in m for m in messages)
    case.refresh_from_db()
    assert case.status == Status.IN_REVIEW and not status_events(case).exists()
    with pytest.raises(ServiceError, match="reason category and a note"):
        case_transition(case_id=case.pk, to_status="not_candidate", actor=staff.clinician, note="ok")
    response = client.post(transition_url(case), {"to_status": "not_candidate", "version": 1, **DECISION_DATA})
    case.refresh_from_db()
    assert case.status == Status.NOT_CANDIDATE and case.decision_reason == "conservative_care"
    event = status_events(case).get()
    assert event.reason_category == "conservative_care" and event.body == DECISION_DATA["note"]


def test_two_staff_acting_at_once_cannot_both_succeed(client, staff):
    case = make_case(staff.queue_a, status=Status.TRIAGE)
    seen = case.version
    first, second = client, client.__class__()
    first.force_login(staff.coord_a)
    second.force_login(staff.clinician)
    r1 = first.post(transition_url(case), {"to_status": "awaiting_mri", "version": seen})
    r2 = second.post(transition_url(case), {"to_status": "no_response", "version": seen})
    assert any("is now" in m for m in follow_messages(first, r1))
    conflict = follow_messages(second, r2)
    assert any("changed by someone else" in m for m in conflict), conflict
    case.refresh_from_db()
    assert case.status == Status.AWAITING_MRI
    assert status_events(case).count() == 1


def test_a_get_never_changes_a_case(client, staff):
    case = make_case(staff.queue_a)
    client.force_login(staff.coord_a)
    response = client.get(transition_url(case), {"to_status": "awaiting_mri", "version": 1})
    assert response.status_code == 405
    case.refresh_from_db()
    assert case.status == Status.TRIAGE


def test_assign_and_move_from_the_case_page(client, staff):
    case = make_case(staff.queue_a)
    client.force_login(staff.coord_a)
    url = reverse("admin:intake_reviewrequest_assign", args=[case.pk])
    client.post(url, {"assign_to_me": "1", "version": case.version})
    case.refresh_from_db()
    assert case.assigned_to == staff.coord_a
    assert CaseEvent.objects.filter(case=case, kind=CaseEvent.Kind.ASSIGNED, actor=staff.coord_a).count() == 1
    # Someone outside the queue: the service refuses, the page says why.
    response = client.post(url, {"user": staff.coord_b.pk, "version": case.version})
    assert any("not a member" in m for m in follow_messages(client, response))
    case.refresh_from_db()
    assert case.assigned_to == staff.coord_a
    # Moving to queue B takes it out of coord_a's sight: back to the list.
    response = client.post(
        reverse("admin:intake_reviewrequest_move", args=[case.pk]), {"queue": staff.queue_b.pk, "version": case.version}
    )
    assert response["Location"] == changelist_url()
    case.refresh_from_db()
    assert case.queue == staff.queue_b
    assert CaseEvent.objects.filter(case=case, kind=CaseEvent.Kind.MOVED).count() == 1


def test_notes_are_added_shown_and_cannot_be_edited_or_deleted(client, staff):
    case = make_case(staff.queue_a)
    client.force_login(staff.coord_a)
    client.post(reverse("admin:intake_reviewrequest_note", args=[case.pk]), {"body": "Called, left a voicemail."})
    note = CaseEvent.objects.get(case=case, kind=CaseEvent.Kind.NOTE)
    assert note.body == "Called, left a voicemail." and note.actor == staff.coord_a
    html = client.get(change_url(case)).content.decode()
    assert "Called, left a voicemail." in html
    # No admin for events: no edit or delete page exists for a note.
    assert CaseEvent not in admin.site._registry
    assert client.post(reverse("admin:intake_reviewrequest_note", args=[case.pk]), {"body": "  "}).status_code == 302
    assert CaseEvent.objects.filter(case=case, kind=CaseEvent.Kind.NOTE).count() == 1


def test_timeline_merges_events_and_notifications_by_time(client, staff):
    case = make_case(staff.queue_a)
    t0 = timezone.now() - timedelta(hours=3)
    CaseEvent.objects.create(case=case, kind=CaseEvent.Kind.ROUTED, summary="Routed to Queue A", created_at=t0)
    Notification.objects.create(
        case=case,
        kind=Notification.Kind.PATIENT_CONFIRMATION,
        dedupe_key=f"c:{case.pk}",
        recipient="pat@example.com",
        created_at=t0 + timedelta(hours=1),
    )
    CaseEvent.objects.create(
        case=case, kind=CaseEvent.Kind.NOTE, summary="Note added", body="second", created_at=t0 + timedelta(hours=2)
    )
    client.force_login(staff.coord_a)
    response = client.get(change_url(case))
    kinds = [item["kind"] for item in response.context["timeline"]]
    assert kinds == ["Routed", "Email", "Note"]
    html = response.content.decode()
    assert html.index("Routed to Queue A") < html.index("Patient told: request received") < html.index("second")
    assert "pat@example.com" not in html.split('id="timeline"')[1]  # no addresses in the timeline


# --- Bulk actions ------------------------------------------------------------------
def bulk(client, action, cases, **extra):
    data = {"action": action, "index": 0, "_selected_action": [c.pk for c in cases], **extra}
    return client.post(changelist_url(), data)


def test_bulk_assign_to_me_goes_through_the_service(client, staff):
    a1, a2 = make_case(staff.queue_a), make_case(staff.queue_a)
    mine = make_case(staff.queue_a, assigned_to=staff.coord_a)
    client.force_login(staff.coord_a)
    messages = follow_messages(client, bulk(client, "assign_to_me", [a1, a2, mine]))
    assert any("2 case(s) assigned to you" in m and "1 already so" in m for m in messages), messages
    for case in (a1, a2):
        case.refresh_from_db()
        assert case.assigned_to == staff.coord_a and case.version == 2
        assert CaseEvent.objects.filter(case=case, kind=CaseEvent.Kind.ASSIGNED, actor=staff.coord_a).count() == 1
    assert not CaseEvent.objects.filter(case=mine).exists()


def test_bulk_reassign_skips_and_reports_whom_the_service_refuses(client, staff):
    in_a = make_case(staff.queue_a)
    in_b = make_case(staff.queue_b)
    client.force_login(staff.supervisor)
    messages = follow_messages(client, bulk(client, "reassign", [in_a, in_b], assignee=staff.coord_b.pk))
    text = " ".join(messages)
    assert "1 case(s) reassigned to coord_b" in text
    assert f"1 skipped: {in_a.reference}: coord_b is not a member of Queue A" in text
    in_a.refresh_from_db()
    in_b.refresh_from_db()
    assert in_a.assigned_to is None and in_b.assigned_to == staff.coord_b


def test_bulk_reassign_without_a_target_changes_nothing(client, staff):
    case = make_case(staff.queue_a)
    client.force_login(staff.supervisor)
    messages = follow_messages(client, bulk(client, "reassign", [case]))
    assert any("Nothing was changed" in m for m in messages)
    assert not CaseEvent.objects.exists()


def test_bulk_mark_no_response_skips_illegal_moves_and_writes_events(client, staff):
    open_case = make_case(staff.queue_a, status=Status.TRIAGE)
    closed = make_case(staff.queue_a, status=Status.CLOSED)
    client.force_login(staff.coord_a)
    messages = follow_messages(client, bulk(client, "mark_no_response", [open_case, closed]))
    text = " ".join(messages)
    assert "1 case(s) marked “No response”" in text
    assert f"{closed.reference}: {closed.reference} cannot move from Closed to No response" in text
    open_case.refresh_from_db()
    closed.refresh_from_db()
    assert open_case.status == Status.NO_RESPONSE and closed.status == Status.CLOSED
    event = status_events(open_case).get()
    assert (event.from_status, event.to_status, event.actor) == ("triage", "no_response", staff.coord_a)
    assert not status_events(closed).exists()


def test_bulk_move_to_queue_goes_through_the_service(client, staff):
    case = make_case(staff.queue_a, assigned_to=staff.coord_a)
    purged = make_case(staff.queue_a, purged_at=timezone.now())
    client.force_login(staff.supervisor)
    text = " ".join(
        follow_messages(client, bulk(client, "move_to_queue", [case, purged], target_queue=staff.queue_b.pk))
    )
    assert "1 case(s) moved to Queue B" in text and "purged" in text
    case.refresh_from_db()
    # The service's own effects: a fresh SLA, re-assigned within the new queue, an event.
    assert case.queue == staff.queue_b and case.assigned_to == staff.coord_b
    assert CaseEvent.objects.filter(case=case, kind=CaseEvent.Kind.MOVED, actor=staff.supervisor).count() == 1
    purged.refresh_from_db()
    assert purged.queue == staff.queue_a


def test_bulk_actions_cannot_reach_cases_outside_the_users_queues(client, staff):
    theirs = make_case(staff.queue_b)
    client.force_login(staff.coord_a)
    bulk(client, "mark_no_response", [theirs])
    theirs.refresh_from_db()
    assert theirs.status == Status.TRIAGE
    assert not CaseEvent.objects.filter(case=theirs).exists()


def test_bulk_decisions_are_refused():
    from intake.services.bulk import cases_bulk_transition

    with pytest.raises(ValueError, match="clinical decision"):
        cases_bulk_transition(case_ids=[], to_status=Status.CANDIDATE, actor=None)


def test_mri_received_needs_a_file_or_a_written_reason(staff):
    import secrets

    from intake.models import MriFile

    bare = make_case(staff.queue_a, status=Status.AWAITING_MRI)
    with pytest.raises(ServiceError, match="has no MRI file"):
        case_transition(case_id=bare.pk, to_status=Status.MRI_RECEIVED, actor=staff.clinician)
    bare.refresh_from_db()
    assert bare.status == Status.AWAITING_MRI and not status_events(bare).exists()
    moved = case_transition(
        case_id=bare.pk, to_status=Status.MRI_RECEIVED, actor=staff.clinician, note="Films seen at the centre."
    )
    assert moved.status == Status.MRI_RECEIVED
    with_file = make_case(staff.queue_a, status=Status.AWAITING_MRI)
    MriFile.objects.create(
        case=with_file, original_name="IM1", stored_name=secrets.token_hex(20), file_type="dicom", size=1,
        sha256="0" * 64,
    )  # fmt: skip
    assert case_transition(case_id=with_file.pk, to_status=Status.MRI_RECEIVED).status == Status.MRI_RECEIVED
