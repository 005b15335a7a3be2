"""Which of the clinic's own fields exist in each language (django-modeltranslation,
as education/translation.py): a staff member's name and credentials as the
patient's letter prints them ("MD, spine surgeon" / "MD, cirujana de columna").
An empty Spanish field falls back to the English one."""

from modeltranslation.translator import TranslationOptions, register

from .models import StaffProfile


@register(StaffProfile)
class StaffProfileTranslation(TranslationOptions):
    fields = ("display_name", "credentials")
