"""Stretching content in Spanish: per-field fallback to English with a visible note."""

import pytest
from django.utils import translation

from education.models import Condition, Routine, Stretch
from education.seed import seed_content
from education.seed_es import SPANISH, spanish_fill

pytestmark = pytest.mark.django_db

NOTE = "Esta página aún no está traducida; se muestra en inglés."


def test_a_page_without_spanish_shows_the_english_with_a_note(client, make_stretch):
    stretch = make_stretch("Only english stretch")
    html = client.get(stretch.get_absolute_url() + "?lang=es").content.decode()
    assert "Only english stretch" in html  # never blank
    assert NOTE in html
    assert '<div lang="en">' in html


def test_a_page_with_spanish_shows_it_without_the_note(client, make_stretch):
    stretch = make_stretch("Bilingual stretch")
    stretch.name_es, stretch.summary_es = "Estiramiento bilingüe", "Resumen en español."
    stretch.helps_es, stretch.steps_es = "Ayuda con la rigidez.", "1. Siéntese derecho."
    stretch.save()
    html = client.get(stretch.get_absolute_url() + "?lang=es").content.decode()
    assert "Estiramiento bilingüe" in html and "Siéntese derecho" in html
    assert NOTE not in html
    english = client.get(stretch.get_absolute_url()).content.decode()
    assert "Bilingual stretch" in english and "Estiramiento bilingüe" not in english and NOTE not in english


def test_an_empty_spanish_field_falls_back_alone(make_stretch):
    stretch = make_stretch("Half translated")
    stretch.name_es = "Medio traducido"
    stretch.save()
    with translation.override("es"):
        assert stretch.name == "Medio traducido"
        assert stretch.steps == "1. Step."  # the English, not blank
        assert stretch.translation_missing
    with translation.override("en"):
        assert not stretch.translation_missing


def test_seeded_content_is_written_in_spanish_too():
    seed_content()
    for model in (Condition, Stretch, Routine):
        for obj in model.objects.all():
            assert obj.slug in SPANISH[model._meta.model_name], obj.slug
            assert obj.name_es and obj.summary_es and obj.reviewed_on_es and obj.reviewed_by_es, obj.slug
            with translation.override("es"):
                assert not obj.translation_missing, obj.slug
            assert obj.name_es != obj.name_en


def test_filling_spanish_never_overwrites_an_edit():
    seed_content()
    stretch = Stretch.objects.get(slug="chin-tuck")
    stretch.name_es = "Retracción de barbilla (editado)"
    stretch.save()
    assert "name_es" not in spanish_fill(stretch)
    stretch.refresh_from_db()
    assert stretch.name_es == "Retracción de barbilla (editado)"


def test_every_seeded_page_reads_in_spanish(client):
    from tests.intake.test_language import _english_phrases, _visible_text

    seed_content()
    english = _english_phrases()
    # English stretch text a Spanish reader must not see (it has a Spanish version).
    english |= {s.summary_en for s in Stretch.objects.all()} | {c.summary_en for c in Condition.objects.all()}
    client.post("/i18n/setlang/", {"language": "es", "next": "/"})
    pages = ["/", "/stretching/", "/privacy/", "/urgent-symptoms/", "/no-such-page/"]
    for model in (Condition, Stretch, Routine):
        pages += [obj.get_absolute_url() for obj in model.objects.all()]
    for path in pages:
        response = client.get(path)
        assert response.status_code in (200, 404), path
        text = _visible_text(response.content.decode())
        found = sorted(p for p in english if p in text)
        assert not found, (path, found[:5])
        assert NOTE not in text, path
        if "/stretches/" in path:
            assert "Revisado clínicamente por Equipo de columna" in text, path
