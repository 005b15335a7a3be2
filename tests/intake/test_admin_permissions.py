"""Who may do what in the staff admin: a matrix of users against every page.

Case X is in queue A. coord_a and clinician_a work queue A, coord_b works
queue B, the supervisor sees every queue ("view all cases") and exports, only
the clinician (and the superuser) records decisions.
"""

import pytest
from django.urls import reverse

from clinic.models import AuditEntry
from intake.models import CaseEvent, ReviewRequest, RoutingRule
from intake.transitions import Status

from .test_admin_support import (
    add_pdf,
    change_url,
    changelist_url,
    file_url,
    follow_messages,
    make_case,
    transition_url,
)

USERS = ["anonymous", "coord_a", "coord_b", "clinician", "supervisor", "superuser"]
SEES_QUEUE_A = {"coord_a", "clinician", "supervisor", "superuser"}
DECIDES = {"clinician", "superuser"}
EXPORTS = {"supervisor", "superuser"}


def login(client, staff, who):
    if who != "anonymous":
        client.force_login(getattr(staff, who))


def assert_login_redirect(response):
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("admin:login"))


@pytest.mark.parametrize("who", USERS)
def test_case_list_shows_only_cases_of_the_users_queues(client, staff, who):
    in_a = make_case(staff.queue_a)
    in_b = make_case(staff.queue_b)
    login(client, staff, who)
    response = client.get(changelist_url())
    if who == "anonymous":
        assert_login_redirect(response)
        return
    assert response.status_code == 200
    shown = {c.reference for c in response.context["cl"].result_list}
    assert (in_a.reference in shown) == (who in SEES_QUEUE_A)
    assert (in_b.reference in shown) == (who in {"coord_b", "supervisor", "superuser"})


@pytest.mark.parametrize("who", USERS)
def test_search_is_scoped_too(client, staff, who):
    case = make_case(staff.queue_a)
    login(client, staff, who)
    response = client.get(changelist_url(), {"q": case.reference})
    if who == "anonymous":
        assert_login_redirect(response)
        return
    found = [c.reference for c in response.context["cl"].result_list]
    assert found == ([case.reference] if who in SEES_QUEUE_A else [])


@pytest.mark.parametrize("who", USERS)
def test_case_page(client, staff, who):
    case = make_case(staff.queue_a)
    login(client, staff, who)
    before = AuditEntry.objects.filter(action=AuditEntry.Action.VIEW_CASE).count()
    response = client.get(change_url(case))
    views = AuditEntry.objects.filter(action=AuditEntry.Action.VIEW_CASE)
    if who == "anonymous":
        assert_login_redirect(response)
        assert views.count() == before
    elif who in SEES_QUEUE_A:
        assert response.status_code == 200
        assert views.count() == before + 1
        entry = views.first()
        assert entry.object_ref == case.reference and entry.actor == getattr(staff, who)
    else:
        assert response.status_code == 404
        assert views.count() == before


@pytest.mark.parametrize("who", USERS)
def test_file_download(client, staff, who):
    case = make_case(staff.queue_a)
    f = add_pdf(case)
    login(client, staff, who)
    response = client.get(file_url(case, f))
    accesses = CaseEvent.objects.filter(case=case, kind=CaseEvent.Kind.FILE_ACCESS)
    downloads = AuditEntry.objects.filter(action=AuditEntry.Action.DOWNLOAD_FILE, object_ref=case.reference)
    if who == "anonymous":
        assert_login_redirect(response)
    elif who in SEES_QUEUE_A:
        assert response.status_code == 200
        assert b"".join(response.streaming_content).startswith(b"%PDF-1.4")
        assert response["Content-Disposition"].startswith("attachment;")
        assert "knee-scan" not in response["Content-Disposition"]  # a neutral name
        assert response["X-Content-Type-Options"] == "nosniff"
        assert "no-store" in response["Cache-Control"]
        assert accesses.count() == 1 and accesses.get().actor == getattr(staff, who)
        assert downloads.count() == 1
        return
    else:
        assert response.status_code == 404
    assert accesses.count() == 0
    assert downloads.count() == 0


def test_a_file_of_another_case_is_not_served_through_a_visible_case(client, staff):
    mine = make_case(staff.queue_a)
    theirs = make_case(staff.queue_b)
    f = add_pdf(theirs)
    client.force_login(staff.coord_a)
    assert client.get(file_url(mine, f)).status_code == 404
    assert not CaseEvent.objects.filter(kind=CaseEvent.Kind.FILE_ACCESS).exists()


@pytest.mark.parametrize("who", USERS)
def test_triage_transition(client, staff, who):
    case = make_case(staff.queue_a, status=Status.TRIAGE)
    login(client, staff, who)
    response = client.post(transition_url(case), {"to_status": Status.AWAITING_MRI, "version": case.version})
    case.refresh_from_db()
    if who == "anonymous":
        assert_login_redirect(response)
    elif who in SEES_QUEUE_A:
        assert response.status_code == 302
        assert case.status == Status.AWAITING_MRI
        event = CaseEvent.objects.get(case=case, kind=CaseEvent.Kind.STATUS)
        assert (event.from_status, event.to_status, event.actor) == ("triage", "awaiting_mri", getattr(staff, who))
        return
    else:
        assert response.status_code == 404
    assert case.status == Status.TRIAGE
    assert not CaseEvent.objects.filter(case=case, kind=CaseEvent.Kind.STATUS).exists()


@pytest.mark.parametrize("who", USERS)
def test_decision(client, staff, who):
    case = make_case(staff.queue_a, status=Status.IN_REVIEW)
    login(client, staff, who)
    data = {
        "to_status": Status.CANDIDATE,
        "version": case.version,
        "reason_category": "procedure_candidate",
        "note": "L4-5 findings fit.",
    }
    response = client.post(transition_url(case), data)
    case.refresh_from_db()
    if who == "anonymous":
        assert_login_redirect(response)
    elif who == "coord_b":
        assert response.status_code == 404
    elif who in DECIDES:
        assert case.status == Status.CANDIDATE
        assert case.decision_reason == "procedure_candidate" and case.decided_at is not None
        return
    else:
        assert any("Only clinicians" in m for m in follow_messages(client, response))
    assert case.status == Status.IN_REVIEW
    assert not CaseEvent.objects.filter(case=case, kind=CaseEvent.Kind.STATUS).exists()


@pytest.mark.parametrize("who", USERS)
def test_decision_buttons_are_shown_only_to_clinicians(client, staff, who):
    case = make_case(staff.queue_a, status=Status.IN_REVIEW)
    login(client, staff, who)
    response = client.get(change_url(case))
    if who not in SEES_QUEUE_A:
        return
    html = response.content.decode()
    assert ('id="decide-candidate"' in html) == (who in DECIDES)
    assert ('name="reason_category"' in html) == (who in DECIDES)
    # Everyone who triages gets the non-decision moves.
    assert 'id="to-awaiting_mri"' in html


@pytest.mark.parametrize("who", USERS)
def test_export(client, staff, who):
    case = make_case(staff.queue_a)
    login(client, staff, who)
    response = client.post(reverse("admin:intake_reviewrequest_export"))
    if who == "anonymous":
        assert_login_redirect(response)
        return
    if who in EXPORTS:
        assert response.status_code == 200
        assert case.reference in b"".join(response.streaming_content).decode()
    else:
        assert response.status_code == 403
        assert not CaseEvent.objects.filter(kind=CaseEvent.Kind.EXPORTED).exists()
        # Nor is the action offered on the list.
        listing = client.get(changelist_url())
        actions = dict(listing.context["action_form"].fields["action"].choices)
        assert "export_csv" not in actions


@pytest.mark.parametrize("who", USERS)
def test_dashboard_is_for_staff_and_scoped(client, staff, who):
    make_case(staff.queue_a)
    login(client, staff, who)
    response = client.get(reverse("admin:intake_dashboard"))
    if who == "anonymous":
        assert_login_redirect(response)
        return
    assert response.status_code == 200
    board = response.context["board"]
    assert board.totals["open"] == (1 if who in SEES_QUEUE_A else 0)


def test_dashboard_is_linked_from_the_admin_index(client, staff):
    client.force_login(staff.coord_a)
    assert reverse("admin:intake_dashboard") in client.get(reverse("admin:index")).content.decode()


@pytest.mark.parametrize("who", ["coord_a", "supervisor", "superuser"])
def test_nobody_adds_or_deletes_cases_and_answers_are_read_only(client, staff, who):
    case = make_case(staff.queue_a)
    login(client, staff, who)
    assert client.get(reverse("admin:intake_reviewrequest_add")).status_code == 403
    assert client.post(reverse("admin:intake_reviewrequest_delete", args=[case.pk]), {"post": "yes"}).status_code in (
        403,
        404,
    )
    # A crafted POST of the change form changes nothing.
    response = client.post(change_url(case), {"first_name": "Changed", "severity": "1"})
    assert response.status_code == 403
    case.refresh_from_db()
    assert case.first_name == "Pat" and case.severity == 6
    assert ReviewRequest.objects.filter(pk=case.pk).exists()
    page = client.get(change_url(case))
    assert 'name="first_name"' not in page.content.decode()
    assert 'name="_save"' not in page.content.decode()
    actions = dict(page.context["action_form"].fields["action"].choices) if page.context.get("action_form") else {}
    assert "delete_selected" not in actions


@pytest.mark.parametrize(
    ("who", "can_edit"),
    [("coord_a", False), ("clinician", False), ("supervisor", True), ("superuser", True)],
)
def test_only_supervisors_edit_queues_and_rules(client, staff, who, can_edit):
    login(client, staff, who)
    rule_url = reverse("admin:intake_routingrule_change", args=[RoutingRule.objects.first().pk])
    queue_url = reverse("admin:intake_staffqueue_change", args=[staff.queue_a.pk])
    for url in (rule_url, queue_url):
        response = client.get(url)
        assert response.status_code == 200  # everyone may look
        assert ('name="_save"' in response.content.decode()) == can_edit
    assert (client.get(reverse("admin:intake_routingrule_add")).status_code == 200) == can_edit


@pytest.mark.parametrize(
    ("who", "status"),
    [("anonymous", 302), ("coord_a", 403), ("clinician", 403), ("supervisor", 200), ("superuser", 200)],
)
def test_audit_trail_is_for_supervisors_and_read_only(client, staff, who, status):
    from clinic.models import audit_record

    entry = audit_record(action=AuditEntry.Action.LOGIN, summary="Signed in", object_ref="MR-TEST22")
    login(client, staff, who)
    listing = client.get(reverse("admin:clinic_auditentry_changelist"))
    assert listing.status_code == status
    if status == 200:
        assert entry.object_ref in listing.content.decode()
        found = client.get(reverse("admin:clinic_auditentry_changelist"), {"q": "MR-TEST22"})
        assert [e.pk for e in found.context["cl"].result_list] == [entry.pk]
        assert client.get(reverse("admin:clinic_auditentry_add")).status_code == 403
        page = client.get(reverse("admin:clinic_auditentry_change", args=[entry.pk]))
        assert 'name="_save"' not in page.content.decode()
        assert (
            client.post(reverse("admin:clinic_auditentry_delete", args=[entry.pk]), {"post": "yes"}).status_code == 403
        )


# Every POST from the case page goes through intake.admin.views.case_form_post:
# scope, then the triage permission, then the form, then one service call.
CASE_POSTS = {
    "transition": lambda staff, case: {"to_status": Status.AWAITING_MRI, "version": case.version},
    "assign": lambda staff, case: {"user": staff.coord_a.pk, "version": case.version},
    "move": lambda staff, case: {"queue": staff.queue_b.pk, "version": case.version},
    "note": lambda staff, case: {"body": "Called, left a voicemail."},
    "contact": lambda staff, case: {"method": "phone", "note": "", "version": case.version},
}


def case_post_url(name, case):
    return reverse(f"admin:intake_reviewrequest_{name}", args=[case.pk])


def view_only_staff(queue):
    """Sees the queue's cases (a member, with the view permission) but may not triage."""
    from django.contrib.auth.models import Permission

    from tests.factories import MembershipFactory, UserFactory

    user = UserFactory(username=f"viewer_{queue.slug}")
    user.user_permissions.add(Permission.objects.get(content_type__app_label="intake", codename="view_reviewrequest"))
    MembershipFactory(queue=queue, user=user)
    return user


@pytest.mark.parametrize("name", CASE_POSTS)
def test_case_page_posts_are_scoped_then_need_triage(client, staff, name):
    case = make_case(staff.queue_a)
    data = CASE_POSTS[name](staff, case)
    url = case_post_url(name, case)
    before = (case.version, staff.queue_a, None, case.events.count())
    refused = [
        (staff.coord_b, 404),  # another queue's case: as if it did not exist
        (view_only_staff(staff.queue_b), 404),  # the scope is checked before the permission
        (view_only_staff(staff.queue_a), 403),  # sees the case, may not change it
    ]
    for user, status in refused:
        client.force_login(user)
        assert client.post(url, data).status_code == status, user
    case.refresh_from_db()
    assert (case.version, case.queue, case.assigned_to, case.events.count()) == before
    # The same POST by someone who works queue A is carried out: the data is valid.
    client.force_login(staff.coord_a)
    assert client.post(url, data).status_code == 302
    assert case.events.count() > before[-1]


@pytest.mark.parametrize("name", CASE_POSTS)
def test_an_invalid_case_page_post_calls_nothing_and_says_why(client, staff, name):
    case = make_case(staff.queue_a)
    before = (case.version, case.events.count())
    client.force_login(staff.coord_a)
    response = client.post(case_post_url(name, case), {})
    assert response["Location"] == change_url(case)
    assert [m for m in follow_messages(client, response) if m.startswith("Not saved: ")]
    case.refresh_from_db()
    assert (case.version, case.events.count()) == before
