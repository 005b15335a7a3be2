"""Issue 23 point 5: staff are named to patients by a StaffProfile (name and
credentials, per language), which supervisors keep in the admin and
seed_demo fills in for the demo clinician; without one, the account's full
name, never the sign-in name."""

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.urls import reverse
from django.utils import translation

from clinic.models import AuditEntry, StaffProfile, staff_shown
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_seed_demo_gives_the_demo_clinician_a_profile_in_both_languages_and_keeps_edits():
    call_command("seed_demo")
    clinician = get_user_model().objects.get(username="clinician")
    with translation.override("en"):
        assert staff_shown(clinician) == {"name": "Dr Ana Ruiz", "credentials": "MD, spine surgeon"}
    with translation.override("es"):
        assert staff_shown(clinician) == {"name": "Dra. Ana Ruiz", "credentials": "MD, cirujana de columna"}

    StaffProfile.objects.filter(user=clinician).update(credentials_en="MD, orthopaedic spine surgeon")
    call_command("seed_demo")  # run again: the edit stays
    with translation.override("en"):
        assert staff_shown(clinician)["credentials"] == "MD, orthopaedic spine surgeon"
    assert StaffProfile.objects.count() == 1


def test_without_a_profile_the_full_name_or_nothing_never_the_username():
    user = UserFactory(username="jdoe", first_name="", last_name="")
    assert staff_shown(user) == {"name": "", "credentials": ""}
    user.first_name, user.last_name = "Jo", "Doe"
    assert staff_shown(user) == {"name": "Jo Doe", "credentials": ""}


def test_a_supervisor_edits_a_profile_in_the_admin_and_it_is_audited(client, seeded):
    call_command("seed_demo")  # the Supervisor group's profile permissions
    supervisor = get_user_model().objects.get(username="supervisor")
    clinician = get_user_model().objects.get(username="clinician")
    profile = StaffProfile.objects.get(user=clinician)
    client.force_login(supervisor)

    url = reverse("admin:clinic_staffprofile_change", args=[profile.pk])
    page = client.get(url)
    assert page.status_code == 200 and "Dra. Ana Ruiz" in page.content.decode()
    response = client.post(
        url,
        {
            "user": clinician.pk,
            "display_name_en": "Dr Ana Ruiz",
            "display_name_es": "Dra. Ana Ruiz",
            "credentials_en": "MD, FAAOS, spine surgeon",
            "credentials_es": "MD, FAAOS, cirujana de columna",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    profile.refresh_from_db()
    assert profile.credentials_en == "MD, FAAOS, spine surgeon"
    assert AuditEntry.objects.filter(object_type="staffprofile", object_ref=str(profile.pk)).exists()


def test_a_coordinator_cannot_change_profiles(client, seeded):
    call_command("seed_demo")
    client.force_login(get_user_model().objects.get(username="coordinator"))
    profile = StaffProfile.objects.get()
    assert client.get(reverse("admin:clinic_staffprofile_change", args=[profile.pk])).status_code == 403
