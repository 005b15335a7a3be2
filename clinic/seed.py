"""The clinic app's part of seed_demo: who may edit staff profiles, and the
demo clinician's profile (the name and credentials a result letter is signed
with). Idempotent, as the rest of the seed: a profile a supervisor edited is
left as it is."""

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission

# Supervisors keep staff profiles (clinic.admin.StaffProfileAdmin).
PROFILE_PERMS = {"Supervisor": ["view_staffprofile", "add_staffprofile", "change_staffprofile"]}

# username: (display name, credentials) in English, then Spanish.
DEMO_PROFILES = {
    "clinician": {
        "display_name_en": "Dr Ana Ruiz",
        "display_name_es": "Dra. Ana Ruiz",
        "credentials_en": "MD, spine surgeon",
        "credentials_es": "MD, cirujana de columna",
    },
}


def seed_profile_permissions() -> None:
    for group_name, codenames in PROFILE_PERMS.items():
        group, _ = Group.objects.get_or_create(name=group_name)
        group.permissions.add(*Permission.objects.filter(content_type__app_label="clinic", codename__in=codenames))


def seed_demo_profiles() -> None:
    from .models import StaffProfile

    users = get_user_model().objects.filter(username__in=DEMO_PROFILES)
    for user in users:
        StaffProfile.objects.get_or_create(user=user, defaults=DEMO_PROFILES[user.username])
