"""Editing in the admin: spine order in the inline, publishing actions, previews."""

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.urls import reverse

from education.models import Condition, Routine, RoutineStep, Stretch

pytestmark = pytest.mark.django_db


@pytest.fixture
def supervisor(seeded, content):
    user = get_user_model().objects.create_user("sup", password="x-long-password-1", is_staff=True)
    user.groups.add(Group.objects.get(name="Supervisor"))
    return user


@pytest.fixture
def coordinator(seeded):
    user = get_user_model().objects.create_user("coord", password="x-long-password-1", is_staff=True)
    user.groups.add(Group.objects.get(name="Coordinator"))
    return user


def routine_post(stretches, **extra):
    data = {
        # One field per language (education/translation.py); Spanish may stay empty.
        "name_en": "Admin routine",
        "slug": "admin-routine",
        "summary_en": "Made in the admin.",
        "description_en": "",
        "reviewed_by_en": "Spine team (PT, DPT)",
        "reviewed_on_en": "2026-11-20",
        "steps-TOTAL_FORMS": str(len(stretches)),
        "steps-INITIAL_FORMS": "0",
        "steps-MIN_NUM_FORMS": "0",
        "steps-MAX_NUM_FORMS": "1000",
    }
    for i, (order, stretch) in enumerate(stretches):
        data[f"steps-{i}-order"] = str(order)
        data[f"steps-{i}-stretch"] = str(stretch.pk)
    data.update(extra)
    return data


def test_admin_refuses_a_routine_out_of_spine_order_naming_the_stretch(client, supervisor):
    client.force_login(supervisor)
    neck = Stretch.objects.get(slug="chin-tuck")
    hips = Stretch.objects.get(slug="figure-four-stretch")
    response = client.post(reverse("admin:education_routine_add"), routine_post([(10, hips), (20, neck)]))
    assert response.status_code == 200
    html = response.content.decode()
    assert "“Chin tuck”" in html and "out of place" in html
    assert not Routine.objects.filter(slug="admin-routine").exists()


def test_admin_orders_by_the_order_field_not_by_row(client, supervisor):
    client.force_login(supervisor)
    neck = Stretch.objects.get(slug="chin-tuck")
    hips = Stretch.objects.get(slug="figure-four-stretch")
    response = client.post(reverse("admin:education_routine_add"), routine_post([(20, hips), (10, neck)]))
    assert response.status_code == 302
    routine = Routine.objects.get(slug="admin-routine")
    assert [s.stretch for s in RoutineStep.objects.filter(routine=routine).order_by("order")] == [neck, hips]


def test_admin_publishing_a_routine_with_unpublished_stretches_keeps_it_a_draft(client, supervisor):
    client.force_login(supervisor)
    neck = Stretch.objects.get(slug="chin-tuck")
    Stretch.objects.filter(pk=neck.pk).update(is_published=False)
    response = client.post(
        reverse("admin:education_routine_add"), routine_post([(10, neck)], is_published="on"), follow=True
    )
    assert "Saved, but not published: Publish these stretches first: Chin tuck." in response.content.decode()
    assert Routine.objects.get(slug="admin-routine").is_published is False


def test_publish_and_unpublish_actions(client, supervisor):
    client.force_login(supervisor)
    stretch = Stretch.objects.get(slug="chin-tuck")
    url = reverse("admin:education_stretch_changelist")
    client.post(url, {"action": "unpublish", "_selected_action": [stretch.pk]})
    stretch.refresh_from_db()
    assert stretch.is_published is False
    assert client.get(stretch.get_absolute_url()).status_code == 404

    client.post(url, {"action": "publish", "_selected_action": [stretch.pk]})
    stretch.refresh_from_db()
    assert stretch.is_published is True


def test_publish_action_refuses_unreviewed_content(client, supervisor):
    client.force_login(supervisor)
    condition = Condition.objects.get(slug="sciatica")
    Condition.objects.filter(pk=condition.pk).update(is_published=False, reviewed_by="")
    url = reverse("admin:education_condition_changelist")
    response = client.post(url, {"action": "publish", "_selected_action": [condition.pk]}, follow=True)
    assert "Not published: Sciatica: Add the clinical reviewer" in response.content.decode()
    condition.refresh_from_db()
    assert condition.is_published is False


def test_changelists_filter_and_search(client, supervisor):
    client.force_login(supervisor)
    url = reverse("admin:education_stretch_changelist")
    html = client.get(url, {"region__exact": "1", "is_published__exact": "1"}).content.decode()
    assert "Chin tuck" in html and "Figure-four stretch" not in html
    html = client.get(url, {"q": "hamstring"}).content.decode()
    assert "Towel hamstring stretch" in html and "Chin tuck" not in html


def test_admin_view_on_site_points_drafts_to_the_preview(client, supervisor):
    client.force_login(supervisor)
    stretch = Stretch.objects.get(slug="chin-tuck")
    Stretch.objects.filter(pk=stretch.pk).update(is_published=False)
    html = client.get(reverse("admin:education_stretch_change", args=[stretch.pk])).content.decode()
    assert stretch.get_preview_url() in html


def test_preview_shows_drafts_to_supervisors(client, supervisor):
    routine = Routine.objects.get(slug="whole-spine")
    Routine.objects.filter(pk=routine.pk).update(is_published=False)
    client.force_login(supervisor)
    response = client.get(routine.get_preview_url())
    assert response.status_code == 200
    assert response["X-Robots-Tag"] == "noindex, nofollow"
    assert "no-store" in response["Cache-Control"] or "no-cache" in response["Cache-Control"]
    html = response.content.decode()
    assert "not published" in html
    guided = reverse("education:preview_guided", args=[routine.pk, 1])
    assert guided in html
    assert client.get(guided).status_code == 200
    for kind, obj in [("stretch", Stretch.objects.first()), ("condition", Condition.objects.first())]:
        assert client.get(reverse("education:preview", args=[kind, obj.pk])).status_code == 200


def test_preview_is_closed_to_anonymous_visitors_and_staff_without_permission(client, coordinator, content):
    stretch = Stretch.objects.get(slug="chin-tuck")
    response = client.get(stretch.get_preview_url())
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("admin:login"))
    client.force_login(coordinator)
    assert client.get(stretch.get_preview_url()).status_code == 403
    assert client.get(reverse("education:preview", args=["user", 1])).status_code == 404


def test_admin_pages_render_for_supervisors(client, supervisor):
    client.force_login(supervisor)
    routine = Routine.objects.get(slug="whole-spine")
    for url in [
        reverse("admin:education_stretch_add"),
        reverse("admin:education_condition_add"),
        reverse("admin:education_routine_add"),
        reverse("admin:education_routine_change", args=[routine.pk]),
        reverse("admin:education_routine_changelist"),
        reverse("admin:education_condition_changelist"),
    ]:
        assert client.get(url).status_code == 200, url
    html = client.get(reverse("admin:education_routine_change", args=[routine.pk])).content.decode()
    assert 'name="steps-6-order"' in html  # the seven steps, each with its order field
