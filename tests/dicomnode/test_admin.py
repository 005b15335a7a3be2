"""The unmatched list's dismiss action (no Orthanc needed)."""

from django.contrib.auth.models import Permission
from django.urls import reverse

from clinic.models import AuditEntry
from dicomnode.models import ReceivedStudy
from tests.factories import UserFactory

S = ReceivedStudy.State
URL = "admin:dicomnode_receivedstudy_changelist"


def _study(n, state):
    return ReceivedStudy.objects.create(
        orthanc_id=f"{n:08x}-00000000-00000000-00000000-00000000", state=state, patient_name="BELL^MAX"
    )


def _user(*codenames):
    user = UserFactory()
    user.user_permissions.add(*Permission.objects.filter(codename__in=codenames))
    return user


def test_a_coordinator_dismisses_an_unmatched_study_audited_and_it_leaves_the_list(db, client):
    unmatched, attached = _study(1, S.UNMATCHED), _study(2, S.ATTACHED)
    url = reverse(URL)
    post = {"action": "dismiss", "_selected_action": [unmatched.pk, attached.pk]}

    client.force_login(_user("view_receivedstudy"))
    client.post(url, post)
    unmatched.refresh_from_db()
    assert unmatched.state == S.UNMATCHED  # viewing is not deciding

    coordinator = _user("view_receivedstudy", "match_receivedstudy")
    client.force_login(coordinator)
    page = client.post(url + "?state=all", post, follow=True).content.decode()
    unmatched.refresh_from_db()
    attached.refresh_from_db()
    assert (unmatched.state, attached.state) == (S.DISMISSED, S.ATTACHED)  # an attached study cannot be
    assert f"Study #{attached.pk}: Received study #{attached.pk} cannot go from attached to dismissed." in page
    assert AuditEntry.objects.filter(
        actor=coordinator, object_type="received_study", object_ref=str(unmatched.pk), summary__contains="dismissed"
    ).exists()
    assert list(client.get(url).context["cl"].result_list) == []
    assert [r.pk for r in client.get(url, {"state": "dismissed"}).context["cl"].result_list] == [unmatched.pk]
