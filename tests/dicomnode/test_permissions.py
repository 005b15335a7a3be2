"""Who sees the unmatched imaging list and may attach from it (seed_demo's groups)."""

from django.contrib.auth.models import Group


def test_coordinators_and_supervisors_see_and_attach_clinicians_do_not(seeded):
    def perms(group):
        return set(
            Group.objects.get(name=group)
            .permissions.filter(content_type__app_label="dicomnode")
            .values_list("codename", flat=True)
        )

    both = {"view_receivedstudy", "match_receivedstudy"}
    assert perms("Coordinator") == both
    assert perms("Supervisor") == both
    assert perms("Clinician") == set()
