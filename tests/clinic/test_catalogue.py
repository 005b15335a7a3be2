"""The committed Spanish catalogue: complete, not fuzzy, placeholders intact,
and its compiled .mo up to date (a stale .mo would show English or old text)."""

import re
from pathlib import Path

import polib
import pytest
from django.conf import settings

LOCALE = Path(settings.BASE_DIR) / "locale" / "es" / "LC_MESSAGES"
CATALOGUES = sorted(LOCALE.glob("*.po"))
PLACEHOLDER = re.compile(r"%\([a-z_]+\)[sd]|\{[a-z_]+\}")


def _ids(path):
    return [pytest.param(p, id=p.name) for p in path]


def test_there_is_a_spanish_catalogue():
    assert (LOCALE / "django.po").exists()
    assert (LOCALE / "django.mo").exists()


@pytest.mark.parametrize("po_path", _ids(CATALOGUES))
def test_every_message_is_translated_and_none_is_fuzzy(po_path):
    po = polib.pofile(str(po_path))
    assert not po.metadata_is_fuzzy, "the header is marked fuzzy"
    untranslated = [e.msgid for e in po.untranslated_entries()]
    fuzzy = [e.msgid for e in po.fuzzy_entries()]
    assert not untranslated, f"{len(untranslated)} untranslated, e.g. {untranslated[:5]}"
    assert not fuzzy, f"{len(fuzzy)} fuzzy, e.g. {fuzzy[:5]}"


@pytest.mark.parametrize("po_path", _ids(CATALOGUES))
def test_translations_keep_every_placeholder(po_path):
    wrong = []
    for entry in polib.pofile(str(po_path)):
        if entry.obsolete:
            continue
        if entry.msgid_plural:
            pairs = [(entry.msgid_plural if i else entry.msgid, s) for i, s in entry.msgstr_plural.items()]
        else:
            pairs = [(entry.msgid, entry.msgstr)]
        for english, spanish in pairs:
            if sorted(set(PLACEHOLDER.findall(english))) != sorted(set(PLACEHOLDER.findall(spanish))):
                wrong.append(english)
    assert not wrong, wrong[:5]


def _catalogue(mo) -> dict:
    return {(e.msgctxt, e.msgid): (e.msgstr, tuple(sorted(e.msgstr_plural.items()))) for e in mo if e.msgid}


@pytest.mark.parametrize("po_path", _ids(CATALOGUES))
def test_the_committed_mo_matches_its_po(po_path, tmp_path):
    fresh = tmp_path / po_path.with_suffix(".mo").name
    polib.pofile(str(po_path)).save_as_mofile(str(fresh))
    committed = po_path.with_suffix(".mo")
    assert committed.exists(), f"{committed.name} is missing: run make messages-compile"
    assert _catalogue(polib.mofile(str(committed))) == _catalogue(polib.mofile(str(fresh))), (
        f"{committed.name} is older than {po_path.name}: run manage.py compilemessages"
    )


def test_the_catalogue_is_what_django_uses():
    from django.utils import translation

    with translation.override("es"):
        assert translation.gettext("Continue") == "Continuar"
        assert translation.gettext("This page is not translated yet; it is shown in English.") == (
            "Esta página aún no está traducida; se muestra en inglés."
        )
