"""The dashboard, the CSV export, the case list's filters and search, the
query counts that keep both fast as cases grow, and the routing-rule dry run."""

import csv
import io
from datetime import timedelta

import pytest
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from clinic.models import AuditEntry
from intake.admin.selectors import dashboard_for
from intake.models import CaseEvent, ReviewRequest, RoutingRule, StaffQueue
from intake.transitions import Status

from .test_admin_support import changelist_url, make_case

# The list is a read recorded in the audit trail (clinic.admin_audit): savepoint,
# the chain's head, insert, release, and on PostgreSQL the append's advisory lock.
AUDIT_APPEND_QUERIES = 5 if connection.vendor == "postgresql" else 4
# session, user, 2 permission look-ups, 2 filter choice lists, count, page, 2 action-bar choices
LIST_QUERIES = 10 + AUDIT_APPEND_QUERIES
DASHBOARD_QUERIES = 9  # session, user, 2 permission look-ups, 5 aggregates


def many_cases(staff, n):
    for i in range(n):
        make_case(
            staff.queue_a,
            status=[Status.TRIAGE, Status.AWAITING_MRI, Status.IN_REVIEW, Status.CANDIDATE][i % 4],
            assigned_to=staff.coord_a if i % 2 else staff.clinician,
            sla_due_at=timezone.now() + timedelta(hours=(i % 5) - 2),
            first_contact_at=timezone.now() - timedelta(hours=1),
            decided_at=timezone.now() if i % 4 == 3 else None,
            mri_received_at=timezone.now() if i % 3 else None,
        )


@pytest.mark.parametrize("n", [10, 200])
def test_case_list_issues_a_constant_number_of_queries(client, staff, django_assert_num_queries, n):
    many_cases(staff, n)
    client.force_login(staff.coord_a)
    client.get(changelist_url())  # warm the session write of the idle-timeout middleware
    with django_assert_num_queries(LIST_QUERIES):
        response = client.get(changelist_url(), {"all": ""})
    assert len(response.context["cl"].result_list) == n
    html = response.content.decode()
    assert html.count('class="sla-badge') == n


@pytest.mark.parametrize("n", [10, 200])
def test_filtered_case_list_is_constant_too(client, staff, django_assert_num_queries, n):
    many_cases(staff, n)
    client.force_login(staff.coord_a)
    client.get(changelist_url())
    params = {"all": "", "status": "open", "overdue": "no", "region": "lower_back", "mri": "received", "mine": "yes"}
    with django_assert_num_queries(LIST_QUERIES):
        client.get(changelist_url(), params)


@pytest.mark.parametrize("n", [10, 200])
def test_dashboard_issues_a_constant_number_of_queries(client, staff, django_assert_num_queries, n):
    many_cases(staff, n)
    client.force_login(staff.coord_a)
    client.get(reverse("admin:intake_dashboard"))
    with django_assert_num_queries(DASHBOARD_QUERIES):
        response = client.get(reverse("admin:intake_dashboard"))
    assert response.context["board"].funnel[0].count == n


def test_dashboard_numbers(staff):
    now = timezone.now()
    a = make_case(
        staff.queue_a,
        created_at=now - timedelta(days=2),
        first_contact_at=now - timedelta(days=2) + timedelta(hours=2),
        decided_at=now - timedelta(days=1),
        mri_received_at=now - timedelta(days=1, hours=12),
        status=Status.CANDIDATE,
    )
    CaseEvent.objects.create(
        case=a, kind=CaseEvent.Kind.STATUS, from_status="in_review", to_status="candidate", summary="x"
    )
    make_case(
        staff.queue_a, created_at=now - timedelta(days=3), first_contact_at=now - timedelta(days=3) + timedelta(hours=4)
    )
    make_case(
        staff.queue_a, created_at=now - timedelta(days=1), first_contact_at=now - timedelta(days=1) + timedelta(hours=6)
    )
    make_case(staff.queue_a, sla_due_at=now - timedelta(hours=1))  # overdue, waiting longest? no: newest
    oldest = make_case(staff.queue_b, created_at=now - timedelta(days=40), sla_due_at=now - timedelta(days=39))
    make_case(staff.queue_b, created_at=now - timedelta(days=45), status=Status.CLOSED, sla_stopped=True)

    board = dashboard_for(staff.superuser, days=30, now=now)
    assert board.median_first_contact == timedelta(hours=4)  # of 2, 4 and 6 hours
    assert board.first_contact_sample == 3
    assert board.median_decision == timedelta(days=1)
    assert [(s.label, s.count) for s in board.funnel] == [
        ("Submitted", 4),
        ("MRI received", 1),
        ("Decided", 1),
        ("Candidate", 1),
        ("Consult scheduled", 0),
    ]
    assert board.totals["overdue"] == 2
    by_name = {q["name"]: q for q in board.queues}
    assert by_name["Queue A"]["open"] == 4 - 1 + 1  # three triage and one candidate (open)
    assert by_name["Queue B"]["overdue"] == 1
    assert board.oldest[0]["reference"] == oldest.reference

    # Scoped: coord_b sees queue B only.
    scoped = dashboard_for(staff.coord_b, days=30, now=now)
    assert [q["name"] for q in scoped.queues] == ["Queue B"]
    assert scoped.funnel[0].count == 0


def test_dashboard_page_has_an_svg_chart_and_no_health_data(client, staff):
    case = make_case(staff.queue_a, first_name="Zebulon", last_name="Quixote", diagnosis_other="rare thing")
    client.force_login(staff.supervisor)
    html = client.get(reverse("admin:intake_dashboard"), {"days": 90}).content.decode()
    assert "<svg" in html and 'class="funnel-bar"' in html
    assert case.reference in html  # the oldest-waiting list links by reference
    for private in ("Zebulon", "Quixote", "rare thing", case.email, case.phone, "Herniated"):
        assert private not in html
    assert "<script>" not in html and 'style="' not in html


# --- Filters, search and orderings ------------------------------------------------------
def listed(client, **params):
    response = client.get(changelist_url(), params)
    assert response.status_code == 200, response.status_code
    return [c.reference for c in response.context["cl"].result_list]


def test_filters(client, staff):
    now = timezone.now()
    overdue = make_case(staff.queue_a, sla_due_at=now - timedelta(hours=1))
    urgent_neck = make_case(staff.queue_a, is_urgent=True, regions=["neck"], source="doctor")
    mine = make_case(staff.queue_a, assigned_to=staff.coord_a, mri_received_at=now, status=Status.MRI_RECEIVED)
    closed = make_case(staff.queue_a, status=Status.CLOSED, sla_stopped=True, mri_status="none")
    other_queue = make_case(staff.queue_b)
    client.force_login(staff.supervisor)
    assert listed(client, overdue="yes") == [overdue.reference]
    assert overdue.reference not in listed(client, overdue="no")
    assert listed(client, urgent="yes") == [urgent_neck.reference]
    assert listed(client, region="neck") == [urgent_neck.reference]
    assert listed(client, source="doctor") == [urgent_neck.reference]
    assert listed(client, mri="received") == [mine.reference]
    assert listed(client, mri="none") == [closed.reference]
    assert closed.reference not in listed(client, status="open")
    assert listed(client, status="closed") == [closed.reference]
    assert listed(client, queue__id__exact=staff.queue_b.pk) == [other_queue.reference]
    assert listed(client, assigned_to__id__exact=staff.coord_a.pk) == [mine.reference]
    client.force_login(staff.coord_a)
    assert listed(client, mine="yes") == [mine.reference]


def test_orderings_newest_first_and_oldest_waiting(client, staff):
    now = timezone.now()
    old = make_case(staff.queue_a, created_at=now - timedelta(days=5))
    middle = make_case(staff.queue_a, created_at=now - timedelta(days=3))
    new = make_case(staff.queue_a, created_at=now - timedelta(days=1))
    make_case(staff.queue_a, created_at=now - timedelta(days=9), status=Status.AWAITING_MRI, sla_paused_at=now)
    client.force_login(staff.coord_a)
    assert listed(client)[:3] == [new.reference, middle.reference, old.reference]
    # Waiting on us (not paused, not settled), oldest first.
    assert listed(client, view="waiting") == [old.reference, middle.reference, new.reference]


def test_search_by_reference_name_email_and_phone(client, staff):
    case = make_case(
        staff.queue_a, first_name="Dana", last_name="Okafor", email="dana@example.com", phone="+13125550199"
    )
    make_case(staff.queue_a, first_name="Other", last_name="Person")
    client.force_login(staff.coord_a)
    for term in (case.reference, case.reference.lower(), case.reference[3:], "okaf", "Dana", "dana okafor", "Okafor, Dana",
                 "DANA@example.com", "(312) 555-0199", "312 555 0199"):  # fmt: skip
        assert listed(client, q=term) == [case.reference], term
    assert listed(client, q="nobody") == []


# --- CSV export ---------------------------------------------------------------------------
EXPECTED_HEADER = [
    "reference", "created", "status", "queue", "assignee", "sla_due", "urgent", "mri_status", "mri_received", "source",
    "time_zone",
]  # fmt: skip


def parse_csv(response):
    return list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))


def test_export_action_writes_no_clinical_text_and_is_recorded(client, staff):
    a = make_case(staff.queue_a, assigned_to=staff.coord_a, diagnosis_other="secret diagnosis", last_name="Privateson")
    b = make_case(staff.queue_b, is_urgent=True)
    make_case(staff.queue_b)  # not selected
    client.force_login(staff.supervisor)
    response = client.post(changelist_url(), {"action": "export_csv", "index": 0, "_selected_action": [a.pk, b.pk]})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert response["Content-Disposition"].startswith("attachment;")
    rows = parse_csv(response)
    assert rows[0] == EXPECTED_HEADER
    assert sorted(r[0] for r in rows[1:]) == sorted([a.reference, b.reference])
    body = "\n".join(",".join(r) for r in rows)
    for private in ("secret diagnosis", "Privateson", a.email, a.phone, "Herniated", "lower_back"):
        assert private not in body
    row_a = next(r for r in rows if r[0] == a.reference)
    assert row_a[2:5] == ["Triage", "Queue A", "coord_a"]
    # Recorded: one event per exported case (bulk), one audit entry listing them.
    events = CaseEvent.objects.filter(kind=CaseEvent.Kind.EXPORTED)
    assert sorted(events.values_list("case_id", flat=True)) == sorted([a.pk, b.pk])
    assert all(e.actor == staff.supervisor for e in events)
    entry = AuditEntry.objects.get(action=AuditEntry.Action.EXPORT)
    assert a.reference in entry.summary and b.reference in entry.summary and entry.actor == staff.supervisor


def test_export_button_exports_the_filtered_list(client, staff):
    urgent = make_case(staff.queue_a, is_urgent=True)
    make_case(staff.queue_a)
    client.force_login(staff.supervisor)
    listing = client.get(changelist_url(), {"urgent": "yes"}).content.decode()
    assert 'action="/admin/intake/reviewrequest/export/?urgent=yes"' in listing
    response = client.post(reverse("admin:intake_reviewrequest_export") + "?urgent=yes")
    rows = parse_csv(response)
    assert [r[0] for r in rows[1:]] == [urgent.reference]
    assert CaseEvent.objects.filter(kind=CaseEvent.Kind.EXPORTED).count() == 1


def test_export_defuses_spreadsheet_formulas(client, staff):
    queue = StaffQueue.objects.create(name="=HYPERLINK(1)", slug="formula", sla_hours=4)
    make_case(queue)
    client.force_login(staff.superuser)
    rows = parse_csv(client.post(reverse("admin:intake_reviewrequest_export")))
    assert rows[1][3] == "'=HYPERLINK(1)"


# --- Routing rules: form and dry run -----------------------------------------------------
def test_rule_form_uses_checkboxes_and_saves_json_lists_with_an_audit_entry(client, staff):
    rule = RoutingRule.objects.get(priority=40)
    client.force_login(staff.supervisor)
    url = reverse("admin:intake_routingrule_change", args=[rule.pk])
    html = client.get(url).content.decode()
    assert 'type="checkbox" name="if_regions" value="neck"' in html
    assert 'type="checkbox" name="if_pain_durations" value="lt_6w"' in html
    data = {
        "priority": 40, "name": rule.name, "is_active": "on", "target_queue": rule.target_queue_id,
        "if_mri": rule.if_mri, "if_regions": ["upper_back", "neck"], "if_pain_durations": ["gt_12m"],
    }  # fmt: skip
    response = client.post(url, data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    rule.refresh_from_db()
    assert rule.if_regions == ["neck", "upper_back"] and rule.if_pain_durations == ["gt_12m"]
    entry = AuditEntry.objects.get(action=AuditEntry.Action.ADMIN_CHANGE)
    assert entry.object_type == "routingrule" and "if_regions" in entry.summary and entry.actor == staff.supervisor


def test_queue_and_membership_changes_are_audited(client, staff):
    client.force_login(staff.supervisor)
    url = reverse("admin:intake_staffqueue_change", args=[staff.queue_b.pk])
    page = client.get(url)
    assert page.status_code == 200 and "coord_b" in page.content.decode()
    membership = staff.queue_b.memberships.get()
    data = {
        "name": "Queue B", "slug": "queue-b", "sla_hours": 12, "is_active": "on", "description": "",
        "memberships-TOTAL_FORMS": 2, "memberships-INITIAL_FORMS": 1, "memberships-MIN_NUM_FORMS": 0,
        "memberships-MAX_NUM_FORMS": 1000,
        "memberships-0-id": membership.pk, "memberships-0-queue": staff.queue_b.pk,
        "memberships-0-user": staff.coord_b.pk,
        "memberships-1-queue": staff.queue_b.pk, "memberships-1-user": staff.coord_a.pk, "memberships-1-is_active": "on",
    }  # fmt: skip
    response = client.post(url, data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    summaries = list(
        AuditEntry.objects.filter(action=AuditEntry.Action.ADMIN_CHANGE).values_list("summary", "object_type")
    )
    assert any(t == "staffqueue" and "sla_hours" in s for s, t in summaries), summaries
    assert any(t == "queuemembership" and s.startswith("Added") for s, t in summaries), summaries
    assert any(t == "queuemembership" and s.startswith("Changed") and "is_active" in s for s, t in summaries), summaries


def test_rule_deletion_is_audited(client, staff):
    rule = RoutingRule.objects.get(priority=70)
    client.force_login(staff.supervisor)
    client.post(reverse("admin:intake_routingrule_delete", args=[rule.pk]), {"post": "yes"})
    assert not RoutingRule.objects.filter(pk=rule.pk).exists()
    entry = AuditEntry.objects.get(action=AuditEntry.Action.ADMIN_CHANGE)
    assert entry.summary.startswith("Deleted") and entry.object_ref == str(rule.pk)


def test_dry_run_compares_without_writing(client, staff, seeded):
    neck = make_case(
        seeded["general"], regions=["neck"], mri_status="upload", mri_region="neck", mri_taken_on=timezone.localdate()
    )
    back = make_case(seeded["mri-thoracolumbar"], mri_taken_on=timezone.localdate())
    client.force_login(staff.supervisor)
    url = reverse("admin:intake_routingrule_dry_run")
    assert (
        reverse("admin:intake_routingrule_dry_run")
        in client.get(reverse("admin:intake_routingrule_changelist")).content.decode()
    )

    def snapshot():
        return (
            list(ReviewRequest.objects.order_by("pk").values_list("pk", "queue_id", "version", "status")),
            CaseEvent.objects.count(),
            AuditEntry.objects.count(),
            list(RoutingRule.objects.order_by("pk").values_list("pk", "updated_at")),
        )

    before = snapshot()
    response = client.get(url)
    assert snapshot() == before  # nothing written
    rows = {r["case"].reference: r for r in response.context["rows"]}
    assert rows[neck.reference]["moves"] and rows[neck.reference]["decision"].queue == seeded["mri-cervical"]
    assert not rows[back.reference]["moves"]
    assert response.context["changed"] == 1

    # Edit the rules: the back case would now go elsewhere.
    RoutingRule.objects.filter(priority=50).update(is_active=False)
    response = client.get(url)
    rows = {r["case"].reference: r for r in response.context["rows"]}
    assert rows[back.reference]["moves"] and rows[back.reference]["decision"].queue == seeded["general"]
    back.refresh_from_db()
    assert back.queue == seeded["mri-thoracolumbar"]


def test_dry_run_shows_only_visible_cases(client, staff):
    make_case(staff.queue_b)
    mine = make_case(staff.queue_a)
    client.force_login(staff.coord_a)
    response = client.get(reverse("admin:intake_routingrule_dry_run"))
    assert [r["case"].reference for r in response.context["rows"]] == [mine.reference]


def test_dry_run_with_unsaved_edits_from_the_rule_form(client, staff, seeded):
    back = make_case(seeded["mri-thoracolumbar"], mri_taken_on=timezone.localdate())
    rule = RoutingRule.objects.get(priority=50)
    client.force_login(staff.supervisor)
    form_page = client.get(reverse("admin:intake_routingrule_change", args=[rule.pk])).content.decode()
    dry_run = reverse("admin:intake_routingrule_dry_run") + f"?rule={rule.pk}"
    assert f'formaction="{dry_run}"' in form_page
    before = (list(RoutingRule.objects.values_list("pk", "target_queue_id", "updated_at")), AuditEntry.objects.count())
    data = {
        "priority": 50, "name": rule.name, "is_active": "on", "target_queue": seeded["general"].pk,
        "if_mri": rule.if_mri, "if_regions": rule.if_regions,
    }  # fmt: skip
    response = client.post(dry_run, data)
    assert response.status_code == 200
    rows = {r["case"].reference: r for r in response.context["rows"]}
    assert rows[back.reference]["moves"] and rows[back.reference]["decision"].queue == seeded["general"]
    assert "unsaved" in response.content.decode()
    assert (
        list(RoutingRule.objects.values_list("pk", "target_queue_id", "updated_at")),
        AuditEntry.objects.count(),
    ) == before
    # A coordinator may look but not try edits.
    client.force_login(staff.coord_a)
    assert client.post(dry_run, data).status_code == 403
