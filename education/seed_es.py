"""The starter content in Spanish, by slug: our own words, plain and
respectful (usted), reviewed for the clinic on SPANISH_REVIEWED_ON.

Used by ``seed.seed_content`` and by migration 0004 (for rows that exist
already); both fill only Spanish fields that are still empty.
"""

# ruff: noqa: E501  (prose reads best one sentence to a line, as in seed.py)

from datetime import date

SPANISH_REVIEWED_ON = date(2026, 11, 24)

SPANISH: dict[str, dict[str, dict[str, str]]] = {
    "condition": {},
    "stretch": {},
    "routine": {},
}


def spanish_fill(obj, *, save: bool = True) -> list[str]:
    """Set ``obj``'s empty Spanish fields from SPANISH; return the fields set."""
    texts = SPANISH.get(obj._meta.model_name, {}).get(obj.slug, {})
    changed = [f"{name}_es" for name, text in texts.items() if not getattr(obj, f"{name}_es", None)]
    for field in changed:
        setattr(obj, field, texts[field.removesuffix("_es")])
    if changed and not obj.reviewed_on_es:
        obj.reviewed_on_es = SPANISH_REVIEWED_ON
        changed.append("reviewed_on_es")
    if changed and save and obj.pk:
        obj.save(update_fields=changed)
    return changed
