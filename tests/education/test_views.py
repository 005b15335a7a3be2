"""The public pages: every page renders with the safety note and the call to
action; unpublished content is hidden everywhere."""

import re

import pytest
from django.urls import reverse

from education.models import Condition, Routine, Stretch
from education.selectors import routine_stretches
from education.services import content_set_published
from intake.choices import RedFlag

pytestmark = pytest.mark.django_db


def all_public_urls():
    urls = [reverse("education:library")]
    urls += [s.get_absolute_url() for s in Stretch.objects.all()]
    urls += [c.get_absolute_url() for c in Condition.objects.all()]
    for routine in Routine.objects.all():
        urls.append(routine.get_absolute_url())
        count = len(routine_stretches(routine))
        urls += [reverse("education:routine_guided", args=[routine.slug, n]) for n in range(1, count + 1)]
        urls.append(reverse("education:routine_done", args=[routine.slug]))
    return urls


def assert_safety_note(html):
    assert 'data-testid="safety-note"' in html
    assert "Speak with your doctor before starting" in html
    assert "never bounce" in html
    assert "stop short of pain" in html
    assert "Stop and get care if you think you are hurt" in html
    assert f'href="{reverse("urgent_advice")}"' in html
    for flag in RedFlag:
        assert str(flag.label) in html
    assert "(emergency: go now)" in html


def test_seed_has_the_promised_content(content):
    assert Stretch.objects.published().count() >= 12
    for region in range(1, 6):
        assert Stretch.objects.filter(region=region).count() >= 2
    assert set(Condition.objects.values_list("slug", flat=True)) >= {
        "sciatica",
        "neck-pain",
        "bulging-disc",
        "herniated-disc",
        "arthritis-of-the-spine",
    }
    assert Routine.objects.published().count() == 3


def test_every_page_renders_with_safety_note_review_and_cta(client, content):
    urls = all_public_urls()
    assert len(urls) > 30
    for url in urls:
        response = client.get(url)
        assert response.status_code == 200, url
        html = response.content.decode()
        assert_safety_note(html)
        # The call to action records the page that led to the request.
        assert f'href="{reverse("intake:start")}?from={url}"' in html, url
        assert '<link rel="canonical" href="http://testserver' + url + '"' in html, url
        assert re.search(r'<meta name="description" content="[^"]{20,}">', html), url


def test_each_content_page_shows_its_clinical_review(client, content):
    for obj in [*Stretch.objects.all(), *Condition.objects.all(), *Routine.objects.all()]:
        html = client.get(obj.get_absolute_url()).content.decode()
        assert "Clinically reviewed by Spine team (PT, DPT) on" in html, obj
        assert 'datetime="2026-11-16"' in html


def test_library_lists_regions_in_spine_order(client, content):
    html = client.get(reverse("education:library")).content.decode()
    headings = re.findall(r'<h3 id="([a-z-]+)" class="h4">', html)
    assert headings == ["neck", "upper-back", "mid-back", "lower-back", "hips-and-legs"]
    assert html.index("Chin tuck") < html.index("Seated twist") < html.index("Figure-four stretch")


def test_library_query_count_does_not_grow_with_content(client, content, django_assert_max_num_queries):
    with django_assert_max_num_queries(4):
        assert client.get(reverse("education:library")).status_code == 200


def test_stretch_page_shows_hold_breathing_and_steps(client, content):
    stretch = Stretch.objects.get(slug="side-neck-stretch")
    html = client.get(stretch.get_absolute_url()).content.decode()
    assert "<h1" in html and stretch.name in html
    assert "Hold for <strong>30 seconds</strong>, 2 times on each side" in html
    assert stretch.breathing_cue in html
    assert "<ol>" in html  # the Markdown steps were rendered
    assert "<title>Side neck stretch: a gentle neck stretch" in html


def test_cta_path_is_stored_by_the_intake(client, content):
    url = Stretch.objects.get(slug="chin-tuck").get_absolute_url()
    html = client.get(url).content.decode()
    href = re.search(r'href="([^"]+)" *>Request a free MRI review', html) or re.search(
        r'data-testid="mri-review-cta" href="([^"]+)"', html
    )
    response = client.get(href.group(1).replace("&amp;", "&"))
    assert response.status_code == 200
    assert client.session["intake_source_page"] == url


def test_guided_mode_walks_the_routine_in_order(client, content):
    routine = Routine.objects.get(slug="neck-and-shoulders")
    stretches = routine_stretches(routine)
    first = client.get(reverse("education:routine_guided", args=[routine.slug, 1])).content.decode()
    assert "Stretch 1 of 5" in first
    assert f'data-hold-seconds="{stretches[0].hold_seconds}"' in first
    assert 'aria-live="polite"' in first
    assert 'href="' + reverse("education:routine_guided", args=[routine.slug, 2]) + '" rel="next"' in first
    assert 'src="/static/js/routine.js" defer' in first
    last = client.get(reverse("education:routine_guided", args=[routine.slug, 5])).content.decode()
    assert 'href="' + reverse("education:routine_done", args=[routine.slug]) + '"' in last
    assert 'href="' + reverse("education:routine_guided", args=[routine.slug, 4]) + '" rel="prev"' in last
    assert client.get(reverse("education:routine_guided", args=[routine.slug, 6])).status_code == 404
    assert client.get(reverse("education:routine_guided", args=[routine.slug, 0])).status_code == 404


def test_pages_have_no_inline_script_or_style(client, content):
    # The CSP allows neither; an inline one would silently not run.
    for url in all_public_urls()[:12]:
        html = client.get(url).content.decode()
        assert "style=" not in html, url
        assert not re.search(r"<script(?![^>]*\bsrc=)", html), url


# --- Unpublished content -------------------------------------------------------


@pytest.fixture
def hidden(content):
    stretch = Stretch.objects.get(slug="chin-tuck")
    condition = Condition.objects.get(slug="sciatica")
    routine = Routine.objects.get(slug="lower-back-and-sciatica")
    for obj in (stretch, condition, routine):
        content_set_published(obj=obj, published=False)
    return stretch, condition, routine


def test_unpublished_content_is_404_for_anonymous_visitors(client, hidden):
    stretch, condition, routine = hidden
    for url in [
        stretch.get_absolute_url(),
        condition.get_absolute_url(),
        routine.get_absolute_url(),
        reverse("education:routine_guided", args=[routine.slug, 1]),
        reverse("education:routine_done", args=[routine.slug]),
    ]:
        assert client.get(url).status_code == 404, url


def test_unpublished_content_is_listed_nowhere(client, hidden, content):
    stretch, condition, routine = hidden
    visible = [u for u in all_public_urls() if client.get(u).status_code == 200]
    assert len(visible) > 20
    for url in visible:
        html = client.get(url).content.decode()
        for obj in hidden:
            assert obj.get_absolute_url() not in html, (url, obj)
            assert f">{obj.name}<" not in html, (url, obj)


def test_unpublished_stretch_is_skipped_in_a_published_routine(client, hidden):
    routine = Routine.objects.get(slug="neck-and-shoulders")
    html = client.get(reverse("education:routine_guided", args=[routine.slug, 1])).content.decode()
    assert "Chin tuck" not in html
    assert "Stretch 1 of 4" in html


def test_unpublished_content_is_absent_from_the_sitemap(client, hidden):
    xml = client.get("/sitemap.xml").content.decode()
    for obj in hidden:
        assert obj.get_absolute_url() not in xml
    assert Stretch.objects.get(slug="side-neck-stretch").get_absolute_url() in xml


def test_sitemap_lists_home_library_and_published_content(client, content):
    response = client.get("/sitemap.xml")
    assert response.status_code == 200
    xml = response.content.decode()
    assert "<loc>http://testserver/</loc>" in xml
    assert "<loc>http://testserver/stretching/</loc>" in xml
    for obj in [*Stretch.objects.all(), *Condition.objects.all(), *Routine.objects.all()]:
        assert f"<loc>http://testserver{obj.get_absolute_url()}</loc>" in xml
    assert "/guided/" not in xml
    assert "/preview/" not in xml


def test_editor_markup_is_sanitised_on_the_page(client, content):
    stretch = Stretch.objects.get(slug="chin-tuck")
    Stretch.objects.filter(pk=stretch.pk).update(
        steps='1. Step <script>alert("s")</script>\n\n<img src=x onerror="alert(1)">\n\n[x](javascript:alert(2))'
    )
    html = client.get(stretch.get_absolute_url()).content.decode()
    assert "alert(" not in html
    assert "onerror" not in html
    assert "javascript:" not in html
