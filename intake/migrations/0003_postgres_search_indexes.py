"""Indexes only PostgreSQL can build: a GIN index for the region filter
(regions @> '["neck"]') and case-insensitive prefix indexes for name search
(UPPER(last_name) LIKE 'SMI%'). SQLite, the development default, skips them."""

from django.db import migrations

CREATE = [
    "CREATE INDEX IF NOT EXISTS case_regions_gin ON intake_reviewrequest USING gin (regions jsonb_path_ops)",
    "CREATE INDEX IF NOT EXISTS case_last_name_upper ON intake_reviewrequest (UPPER(last_name) varchar_pattern_ops)",
    "CREATE INDEX IF NOT EXISTS case_first_name_upper ON intake_reviewrequest (UPPER(first_name) varchar_pattern_ops)",
    "CREATE INDEX IF NOT EXISTS case_email_upper ON intake_reviewrequest (UPPER(email))",
]
DROP = [
    "DROP INDEX IF EXISTS case_regions_gin",
    "DROP INDEX IF EXISTS case_last_name_upper",
    "DROP INDEX IF EXISTS case_first_name_upper",
    "DROP INDEX IF EXISTS case_email_upper",
]


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for sql in CREATE:
            schema_editor.execute(sql)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for sql in DROP:
            schema_editor.execute(sql)


class Migration(migrations.Migration):
    dependencies = [("intake", "0002_case_indexes")]
    operations = [migrations.RunPython(forwards, backwards)]
