"""Which content fields exist in each language (django-modeltranslation).

Each field below gets a column per language (``name_en``, ``name_es`` …) in
the same table; ``name`` reads the active language's and falls back to
English when that is empty, field by field, so a page is never blank. The
clinical review date is per language too: the Spanish text is reviewed on
its own day. Why modeltranslation rather than parler: README, "Languages".
"""

from modeltranslation.translator import TranslationOptions, register

from .models import Condition, Routine, Stretch

COMMON = ("name", "summary", "reviewed_by", "reviewed_on")


@register(Condition)
class ConditionTranslation(TranslationOptions):
    fields = (*COMMON, "body")


@register(Stretch)
class StretchTranslation(TranslationOptions):
    fields = (*COMMON, "helps", "steps", "breathing_cue", "cautions", "illustration_alt")


@register(Routine)
class RoutineTranslation(TranslationOptions):
    fields = (*COMMON, "description")


# The fields a reader needs in their language; if any is empty the page says
# it is showing the English text (education.models.Content.translation_missing).
MAIN_FIELDS = {
    Condition: ("name", "summary", "body"),
    Stretch: ("name", "summary", "helps", "steps"),
    Routine: ("name", "summary"),
}
