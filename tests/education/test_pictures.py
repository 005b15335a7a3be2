"""Issue 18: a picture for every stretch, scannable cards, a printable routine,
and staff uploads re-encoded without their metadata."""

import io
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from PIL import Image

from education import seed
from education.illustrations import DESCRIPTIONS, DRAWINGS_DIR
from education.models import Routine, Stretch
from education.services import illustration_reencode

pytestmark = pytest.mark.django_db


@pytest.fixture
def library(db):
    seed.seed_content()
    return Stretch.objects.published()


def test_every_published_stretch_has_a_picture_and_a_description(library):
    assert library.count() == len(seed.STRETCHES) >= 15
    for stretch in library:
        assert stretch.picture_url, stretch.slug
        assert len(stretch.illustration_alt) > 40, stretch.slug
        assert (DRAWINGS_DIR / f"{stretch.slug}.svg").is_file()


def test_the_drawings_are_plain_pictures():
    """No script, style, text, link or foreign reference: nothing to run or fetch."""
    for path in DRAWINGS_DIR.glob("*.svg"):
        svg = path.read_text()
        assert svg.startswith('<svg xmlns="http://www.w3.org/2000/svg"')
        for forbidden in ("<script", "<style", "<text", "href", "<foreignObject", "url(", "on"):
            pattern = rf"\s{forbidden}[a-z]+=" if forbidden == "on" else re.escape(forbidden)
            assert not re.search(pattern, svg), (path.name, forbidden)
    assert {p.stem for p in DRAWINGS_DIR.glob("*.svg")} == set(DESCRIPTIONS)


def test_the_library_shows_cards_with_picture_region_and_hold(client, library):
    page = client.get(reverse("education:library")).content.decode()
    cards = page.count('data-testid="library-stretch"')
    assert cards == library.count()
    assert page.count('data-testid="stretch-picture"') == cards
    assert page.count('loading="lazy"') == cards  # below the fold, fetched as the reader scrolls
    chin = Stretch.objects.get(slug="chin-tuck")
    assert f'alt="{chin.illustration_alt}"' in page
    assert "Neck · hold 20 seconds" in page


def test_the_guided_mode_shows_the_picture_beside_the_timer(client, library):
    routine = Routine.objects.get(slug="neck-and-shoulders")
    page = client.get(reverse("education:routine_guided", args=[routine.slug, 1])).content.decode()
    pair = page[page.index('class="guided-pair"') :]
    assert pair.index('data-testid="stretch-picture"') < pair.index("hold-timer")
    assert "Right: the position to hold." in page


def test_the_printable_routine_has_every_stretch_with_its_hold_breathing_and_the_safety_note(client, library):
    routine = Routine.objects.get(slug="whole-spine")
    detail = client.get(routine.get_absolute_url()).content.decode()
    url = reverse("education:routine_print", args=[routine.slug])
    assert url in detail
    page = client.get(url).content.decode()
    steps = list(routine.stretches.all())
    assert page.count('data-testid="stretch-picture"') == len(steps)
    for stretch in steps:
        assert stretch.breathing_cue in page
        assert f"Hold {stretch.hold_seconds} seconds" in page
    assert "Speak with your doctor" in page and "never bounce" in page


def test_an_uploaded_picture_is_redrawn_without_its_metadata():
    photo = Image.new("RGB", (3000, 2000), "orange")
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"  # camera make
    exif[0x9003] = "2026:11:20 07:15:00"  # when it was taken
    raw = io.BytesIO()
    photo.save(raw, format="JPEG", exif=exif.tobytes(), comment=b"kitchen, 12 Elm St")
    assert b"PhoneMaker" in raw.getvalue()
    out = illustration_reencode(uploaded=SimpleUploadedFile("IMG_0042.jpg", raw.getvalue()), slug="chin-tuck")
    data = out.read()
    assert out.name.startswith("chin-tuck-") and out.name.endswith(".webp")
    assert b"PhoneMaker" not in data and b"2026:11:20" not in data and b"Elm St" not in data
    with Image.open(io.BytesIO(data)) as again:
        assert again.format == "WEBP"
        assert max(again.size) == 1600
        assert not again.getexif()


def test_the_admin_stores_the_redrawn_picture(admin_client, library, settings, tmp_path):
    stretch = Stretch.objects.get(slug="neck-turn")
    raw = io.BytesIO()
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"
    Image.new("RGB", (50, 40), "blue").save(raw, format="JPEG", exif=exif.tobytes())
    url = reverse("admin:education_stretch_change", args=[stretch.pk])
    form = client_form(admin_client, url)
    form.update(illustration=SimpleUploadedFile("IMG_1.jpg", raw.getvalue(), content_type="image/jpeg"))
    response = admin_client.post(url, form)
    assert response.status_code == 302, response.content.decode()[:3000]
    stretch.refresh_from_db()
    assert stretch.illustration.name.endswith(".webp")
    assert b"PhoneMaker" not in stretch.illustration.read()
    assert stretch.picture_url == stretch.illustration.url


def client_form(client, url):
    """The change form's current values, as a browser would send them back."""
    response = client.get(url)
    form = response.context["adminform"].form
    data = {}
    for name, field in form.fields.items():
        value = form.initial.get(name, field.initial)
        if name == "illustration":
            continue
        if isinstance(value, list):
            data[name] = [getattr(v, "pk", v) for v in value]
        elif value is None:
            data[name] = ""
        elif isinstance(value, bool):
            if value:
                data[name] = "on"
        else:
            data[name] = getattr(value, "pk", value)
    return data


def test_seeding_works_before_collectstatic_under_production_storage(settings, tmp_path):
    """A new deployment runs seed_demo before collectstatic: the manifest is
    empty then, and the seed must not need it (found by the load run)."""
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.ManifestStaticFilesStorage"},
    }
    settings.STATIC_ROOT = tmp_path / "static-empty"
    from django.contrib.staticfiles.storage import staticfiles_storage

    with pytest.raises(ValueError, match="Missing staticfiles manifest"):
        staticfiles_storage.url("education/stretches/chin-tuck.svg")  # what broke the seed
    seed.seed_content()
    stretch = Stretch.objects.get(slug="chin-tuck")
    assert stretch.picture_url == "/static/education/stretches/chin-tuck.svg"
