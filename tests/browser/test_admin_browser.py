"""Staff triage in a real browser: a coordinator signs in with the normal
admin login form, finds a new case, assigns it and moves it to "MRI received";
a clinician then records a decision; a supervisor looks over rules, queues and
the audit trail. No page may break the CSP or fetch from another origin."""

import re

import pytest
from playwright.sync_api import expect

from intake.models import CaseEvent, QueueMembership, ReviewRequest, RoutingRule
from intake.transitions import Status
from tests.factories import CaseFactory, UserFactory

pytestmark = pytest.mark.browser
PASSWORD = "pw-for-tests-123"  # UserFactory's


@pytest.fixture
def triage_setup(seeded_tx):
    queue = seeded_tx["mri-thoracolumbar"]
    coordinator = UserFactory(username="coord_browser", groups=["Coordinator"])
    clinician = UserFactory(username="clin_browser", groups=["Clinician"])
    UserFactory(username="super_browser", groups=["Supervisor"])
    for user in (coordinator, clinician):
        QueueMembership.objects.create(queue=queue, user=user)
    case = CaseFactory(queue=queue, status=Status.SUBMITTED, first_name="Robin", last_name="Browserton")
    return coordinator, clinician, case


def sign_in(page, base, username):
    page.goto(f"{base}/admin/login/?next=/admin/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    # The exact address: a pattern ending in /admin/ also matches the login
    # page's own address (?next=/admin/), so it would not wait for the sign-in.
    page.wait_for_url(f"{base}/admin/")


def sign_out(page):
    page.locator("#logout-form button").click()
    page.wait_for_url(re.compile(r"/admin/logout/$"))


def click_and_wait(page, selector):
    with page.expect_navigation():
        page.click(selector)


def test_coordinator_triages_and_clinician_decides(page, live_server, triage_setup):
    coordinator, clinician, case = triage_setup
    base = live_server.url

    # The coordinator finds the new case from the list and opens it.
    sign_in(page, base, coordinator.username)
    expect(page.locator("a[href='/admin/intake/dashboard/']").first).to_be_visible()
    page.goto(f"{base}/admin/intake/reviewrequest/?mine=unassigned")
    page.fill("#searchbar", "Browserton")
    click_and_wait(page, "#changelist-search input[type=submit]")
    page.get_by_role("link", name=case.reference).click()
    page.wait_for_url(re.compile(rf"/admin/intake/reviewrequest/{case.pk}/change/"))
    expect(page.locator("#case-status")).to_have_text("Submitted")
    # No decision for a coordinator, and no button for a move the table forbids.
    assert page.locator("#decide-candidate").count() == 0
    assert page.locator("#to-mri_received").count() == 0

    click_and_wait(page, "#assign-to-me")
    expect(page.locator("#case-assignee")).to_have_text(coordinator.username)
    click_and_wait(page, "#to-triage")
    expect(page.locator("#case-status")).to_have_text("Triage")
    # No file on this case: "MRI received" asks how it was received.
    page.fill("#mri-received-note", "Films seen at the imaging centre.")
    click_and_wait(page, "#to-mri_received")
    expect(page.locator("#case-status")).to_have_text("MRI received")
    expect(page.locator(".messagelist .success").last).to_contain_text("MRI received")
    sign_out(page)

    # The clinician takes it into review and records a decision with a reason and a note.
    sign_in(page, base, clinician.username)
    page.goto(f"{base}/admin/intake/reviewrequest/{case.pk}/change/")
    click_and_wait(page, "#to-in_review")
    expect(page.locator("#case-status")).to_have_text("In review")
    page.select_option("#id_reason_category", "procedure_candidate")
    page.fill("#id_note", "Findings fit a procedure we offer; call to book.")
    click_and_wait(page, "#decide-candidate")
    expect(page.locator("#case-status")).to_have_text("Candidate")
    expect(page.locator("#timeline")).to_contain_text("Findings fit a procedure we offer; call to book.")

    # The dashboard renders for staff too.
    page.goto(f"{base}/admin/intake/dashboard/")
    expect(page.locator("svg.funnel-chart")).to_be_visible()

    sign_out(page)

    # A supervisor's pages: the rule form with its checkboxes, the dry run,
    # a queue with its members, the audit trail and the list's export button.
    sign_in(page, base, "super_browser")
    page.goto(f"{base}/admin/intake/routingrule/")
    page.get_by_role("link", name="Dry run on the last 100 cases").click()
    expect(page.locator("#dry-run-summary")).to_be_visible()
    page.goto(f"{base}/admin/intake/routingrule/{RoutingRule.objects.get(priority=40).pk}/change/")
    expect(page.locator("input[name=if_regions][value=neck]")).to_be_checked()
    page.goto(f"{base}/admin/intake/staffqueue/{case.queue_id}/change/")
    expect(page.locator("#memberships-group")).to_contain_text(coordinator.username)
    page.goto(f"{base}/admin/clinic/auditentry/")
    expect(page.locator("#result_list")).to_contain_text(case.reference)
    page.goto(f"{base}/admin/intake/reviewrequest/")
    expect(page.get_by_role("button", name="Export this list (CSV)")).to_be_visible()

    case.refresh_from_db()
    assert case.status == Status.CANDIDATE
    assert case.assigned_to == coordinator
    assert case.decision_reason == "procedure_candidate"
    moves = list(
        CaseEvent.objects.filter(case=case, kind=CaseEvent.Kind.STATUS)
        .order_by("created_at", "pk")
        .values_list("to_status", "actor__username")
    )
    assert moves == [
        ("triage", coordinator.username),
        ("mri_received", coordinator.username),
        ("in_review", clinician.username),
        ("candidate", clinician.username),
    ]
    assert ReviewRequest.objects.count() == 1
    assert page.watch.csp_violations == []
    assert page.watch.foreign_requests == []


def test_case_list_fits_1280_px_with_sla_and_urgent_visible(browser, live_server, triage_setup):
    """At 1280 px (a coordinator's laptop) the case list fits its box: the SLA
    column is on screen without scrolling, and urgent cases are marked on
    their row, not only in a column that might be scrolled away."""
    from .conftest import open_page

    coordinator, _, case = triage_setup
    queue = case.queue
    urgent = CaseFactory(
        queue=queue,
        status=Status.TRIAGE,
        is_urgent=True,
        first_name="Ursula",
        last_name="Urgentworth-Longname",
    )
    for i in range(5):
        CaseFactory(queue=queue, status=Status.TRIAGE, last_name=f"Routine-Patient-Name{i}")
    context, page = open_page(browser, live_server, width=1280, height=800)
    try:
        sign_in(page, live_server.url, coordinator.username)
        page.goto(f"{live_server.url}/admin/intake/reviewrequest/")
        table = page.locator("#result_list")
        expect(table).to_be_visible()
        box = page.locator("#changelist .results").bounding_box()
        table_box = table.bounding_box()
        # The table is no wider than its (scrolling) box, and the box fits the window.
        assert table_box["width"] <= box["width"] + 1, (table_box, box)
        assert box["x"] + box["width"] <= 1280
        sla_header = page.locator("#result_list thead th.column-sla")
        expect(sla_header).to_be_visible()
        sla_box = sla_header.bounding_box()
        assert sla_box["x"] + sla_box["width"] <= 1280
        # The urgent case's row is marked; a routine row is not.
        urgent_row = page.locator("#result_list tbody tr", has_text=urgent.reference)
        expect(urgent_row.locator(".urgent-flag")).to_be_visible()
        flag_box = urgent_row.locator(".urgent-flag").bounding_box()
        assert flag_box["x"] + flag_box["width"] <= 1280
        routine_row = page.locator("#result_list tbody tr", has_text=case.reference)
        assert routine_row.locator(".urgent-flag").count() == 0
        urgent_bg = urgent_row.evaluate("el => getComputedStyle(el).backgroundColor")
        routine_bg = routine_row.evaluate("el => getComputedStyle(el).backgroundColor")
        assert urgent_bg != routine_bg, (urgent_bg, routine_bg)
        assert page.watch.csp_violations == []
    finally:
        context.close()
