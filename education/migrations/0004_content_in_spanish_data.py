"""Existing content gets its English columns from the original ones, and the
seeded items their Spanish text (by slug, only where the Spanish is empty, so
a supervisor's edits are never overwritten)."""

from django.db import migrations
from django.db.models import F

FIELDS = {
    "condition": ("name", "summary", "reviewed_on", "body"),
    "stretch": ("name", "summary", "reviewed_on", "helps", "steps", "breathing_cue", "cautions", "illustration_alt"),
    "routine": ("name", "summary", "reviewed_on", "description"),
}


def forwards(apps, schema_editor):
    from education.seed_es import SPANISH, SPANISH_REVIEWED_ON

    for model_name, fields in FIELDS.items():
        model = apps.get_model("education", model_name)
        for name in fields:
            model.objects.filter(**{f"{name}_en__isnull": True}).update(**{f"{name}_en": F(name)})
        for obj in model.objects.all():
            spanish = SPANISH.get(model_name, {}).get(obj.slug)
            if not spanish:
                continue
            changed = []
            for name, text in spanish.items():
                if not getattr(obj, f"{name}_es", None):
                    setattr(obj, f"{name}_es", text)
                    changed.append(f"{name}_es")
            if changed and not obj.reviewed_on_es:
                obj.reviewed_on_es = SPANISH_REVIEWED_ON
                changed.append("reviewed_on_es")
            if changed:
                obj.save(update_fields=changed)


class Migration(migrations.Migration):
    dependencies = [("education", "0003_content_in_spanish")]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
