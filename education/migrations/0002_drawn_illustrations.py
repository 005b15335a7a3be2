"""Describe the library's drawings on stretches seeded before they existed.

Only an empty description is filled: a description staff wrote stays.
"""

from django.db import migrations


def describe(apps, schema_editor):
    from education.illustrations import DESCRIPTIONS

    Stretch = apps.get_model("education", "Stretch")
    for slug, text in DESCRIPTIONS.items():
        Stretch.objects.filter(slug=slug, illustration_alt="").update(illustration_alt=text)


class Migration(migrations.Migration):
    dependencies = [("education", "0001_initial")]

    operations = [migrations.RunPython(describe, migrations.RunPython.noop)]
