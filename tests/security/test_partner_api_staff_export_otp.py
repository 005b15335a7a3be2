"""Third review, informational: the staff "FHIR export" button sat outside the
admin site (``staff_member_required``), with no second-factor check of its
own. Now it is behind the admin site's gate: with INTAKE_REQUIRE_OTP a staff
user who has not passed the second factor is sent to the admin sign-in and
gets no Bundle, and nothing is exported or audited as an export."""

import pytest
from django.contrib.auth.models import Group
from django_otp import login as otp_login
from django_otp.plugins.otp_totp.models import TOTPDevice

from clinic.models import AuditEntry
from intake.models import ReviewRequest
from tests.factories import UserFactory
from tests.partners.conftest import REFERRAL, auth, make_key, make_partner

pytestmark = pytest.mark.django_db


@pytest.fixture
def case_and_supervisor(client, seeded, settings):
    settings.INTAKE_REQUIRE_OTP = True
    key = make_key(make_partner("Northside Family Practice"))[1]
    ref = client.post("/api/v1/referrals/", REFERRAL, content_type="application/json", **auth(key)).json()["reference"]
    supervisor = UserFactory(is_staff=True)
    supervisor.groups.add(Group.objects.get(name="Supervisor"))
    return ReviewRequest.objects.get(reference=ref), supervisor


def test_a_staff_user_without_a_verified_second_factor_is_refused(client, case_and_supervisor):
    case, supervisor = case_and_supervisor
    TOTPDevice.objects.create(user=supervisor, name="phone", confirmed=True)
    client.force_login(supervisor)  # password passed, second factor not
    response = client.get(f"/api/v1/staff/cases/{case.pk}/fhir")
    assert response.status_code == 302 and response["Location"].startswith("/admin/login/")
    assert b"Bundle" not in response.content
    assert not AuditEntry.objects.filter(action=AuditEntry.Action.EXPORT, actor=supervisor).exists()


def test_with_the_second_factor_the_export_works(client, case_and_supervisor, rf):
    case, supervisor = case_and_supervisor
    device = TOTPDevice.objects.create(user=supervisor, name="phone", confirmed=True)
    client.force_login(supervisor)
    # Mark the session as verified, as the admin's OTP sign-in form does.
    request = rf.get("/")
    request.session = client.session
    request.user = supervisor
    otp_login(request, device)
    request.session.save()
    response = client.get(f"/api/v1/staff/cases/{case.pk}/fhir")
    assert response.status_code == 200 and b'"Bundle"' in response.content
    assert AuditEntry.objects.filter(action=AuditEntry.Action.EXPORT, actor=supervisor).count() == 1
