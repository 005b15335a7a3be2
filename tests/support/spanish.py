"""Finding English in what a Spanish-speaking patient reads.

Two nets, for the tests that render patient pages and messages in Spanish:

- ``catalogue_english(text)``: every msgid of the Spanish catalogue whose
  Spanish differs, found in ``text`` (placeholders match whatever was put in
  them, tags in a msgid match the rendered tags or nothing): a string that was
  marked for translation but reached the page untranslated (a gettext left
  out of a context, an f-string around a translated word, a template that
  lost its ``{% load i18n %}``);
- ``english_words(text)``: common English words that Spanish never uses ("the",
  "your", "please"...): a string that was never marked at all, so the
  catalogue cannot know it.

``spanish_found(entry, text)`` is the other way round: the entry's Spanish is
in ``text``, so a test can show that it really rendered a message.
"""

import functools
import html as html_lib
import re
from dataclasses import dataclass
from pathlib import Path

import polib
from django.conf import settings

PO = Path(settings.BASE_DIR) / "locale" / "es" / "LC_MESSAGES" / "django.po"
PLACEHOLDER = re.compile(r"%\([a-z_]+\)[sd]|%[sd]|\{[a-z_]*\}")
TAG = re.compile(r"<[^>]*>")
# Words of English that no Spanish sentence uses; whole words, any case.
ENGLISH_WORDS = re.compile(
    r"\b(the|your|you|please|and|with|our|we|this|will|here|of|for|has|have|was|were|what|when|which|"
    r"received|uploaded|request|result|letter|asked)\b",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Entry:
    msgid: str
    msgstr: str
    context: str | None
    where: tuple[str, ...]  # the source files that use it

    def __str__(self):
        return f"{self.msgid!r} ({', '.join(self.where[:2])})"


def _pattern(text: str) -> re.Pattern | None:
    """A regex for a catalogue text as it reads once rendered and stripped of tags."""
    text = TAG.sub(" ", html_lib.unescape(text))
    parts = PLACEHOLDER.split(text)
    literal = [" ".join(p.split()) for p in parts]
    if not any(re.search(r"[A-Za-z]{2}", p) for p in literal):
        return None  # nothing but placeholders and punctuation: nothing to recognise
    body = r".{0,200}?".join(r"\s*".join(re.escape(w) for w in p.split(" ")) if p else "" for p in literal)
    start = r"(?<![\w])" if re.match(r"\w", literal[0] or "") else ""
    end = r"(?![\w])" if re.search(r"\w$", literal[-1] or "") else ""
    return re.compile(start + body + end)


@functools.cache
def catalogue() -> tuple[Entry, ...]:
    """The translated entries whose Spanish differs from their English."""
    entries = []
    for e in polib.pofile(str(PO)):
        if e.obsolete or not e.translated():
            continue
        where = tuple(sorted({path for path, _line in e.occurrences}))
        pairs = [(e.msgid, e.msgstr)]
        if e.msgid_plural:
            forms = [e.msgstr_plural[k] for k in sorted(e.msgstr_plural)]
            pairs = [(e.msgid, forms[0]), (e.msgid_plural, forms[-1])]
        for english, spanish in pairs:
            if english != spanish:
                entries.append(Entry(english, spanish, e.msgctxt, where))
    return tuple(entries)


@functools.cache
def _english_patterns() -> tuple[tuple[Entry, re.Pattern], ...]:
    out = []
    for entry in catalogue():
        pattern = _pattern(entry.msgid)
        # A msgid that is also a word of some Spanish text ("No", "Total") cannot be told apart.
        if pattern is not None and not _spanish_word(entry.msgid):
            out.append((entry, pattern))
    return tuple(out)


@functools.cache
def _spanish_vocabulary() -> frozenset[str]:
    words = set()
    for entry in catalogue():
        words.update(w.lower() for w in re.findall(r"\w+", TAG.sub(" ", entry.msgstr)))
    return frozenset(words)


def _spanish_word(msgid: str) -> bool:
    """A one-word msgid that is also a Spanish word of the catalogue ("Local", "General")."""
    words = re.findall(r"\w+", msgid)
    return len(words) == 1 and words[0].lower() in _spanish_vocabulary()


def visible_text(html: str) -> str:
    """What a reader sees or hears of a page: its text, and the attributes read
    aloud or shown (aria-label, title, placeholder, alt, the description)."""
    html = re.sub(r"<(script|style)\b.*?</\1>", " ", html, flags=re.S | re.I)
    said = re.findall(r'\s(?:aria-label|title|placeholder|alt|content)="([^"]*)"', html)
    text = TAG.sub(" ", html) + " " + " ".join(said)
    return " ".join(html_lib.unescape(text).split())


def catalogue_english(text: str) -> list[str]:
    """Each catalogue msgid (whose Spanish differs) found in ``text``."""
    text = " ".join(text.split())
    return [str(entry) for entry, pattern in _english_patterns() if pattern.search(text)]


def english_words(text: str, allowed: tuple[str, ...] = ()) -> list[str]:
    """Common English words in ``text``, once ``allowed`` strings (the test's
    own names and addresses) are taken out."""
    for value in allowed:
        text = text.replace(value, " ")
    text = re.sub(r"https?://\S+|\S+@\S+", " ", text)  # addresses are not words
    return sorted({m.group(0) for m in ENGLISH_WORDS.finditer(text)})


def spanish_found(entry: Entry, text: str) -> bool:
    pattern = _pattern(entry.msgstr)
    return pattern is None or bool(pattern.search(" ".join(text.split())))


def entries_from(*sources: str) -> list[Entry]:
    """The catalogue entries used by these source files (as the .po names them)."""
    return [e for e in catalogue() if any(w in sources for w in e.where)]
