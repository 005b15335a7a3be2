"""The audit chain becomes keyed (HMAC-SHA256 under INTAKE_AUDIT_KEY).

Rows already written stay as they are, marked version 1 (plain SHA-256), and
stay verifiable: re-keying them would mean rewriting the append-only table.
verify_chain accepts version 1 only before the first keyed row, and the head
hashes exported from now on (clinic.audit_anchors) pin the old rows too.
Also: failed status-page answers counted in the database (FailedAttempt).
"""

import django.utils.timezone
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("clinic", "0003_closure_day"),
    ]

    operations = [
        # Existing rows: 1. The column default is dropped at once (Django adds
        # it, fills, drops), so no UPDATE runs: the append-only trigger is not hit.
        migrations.AddField(
            model_name="auditentry",
            name="version",
            field=models.PositiveSmallIntegerField(
                choices=[(1, "SHA-256 (unkeyed, before 2026-11)"), (2, "HMAC-SHA256 with INTAKE_AUDIT_KEY")], default=1
            ),
        ),
        migrations.AlterField(
            model_name="auditentry",
            name="version",
            field=models.PositiveSmallIntegerField(
                choices=[(1, "SHA-256 (unkeyed, before 2026-11)"), (2, "HMAC-SHA256 with INTAKE_AUDIT_KEY")], default=2
            ),
        ),
        migrations.AlterField(
            model_name="auditentry",
            name="action",
            field=models.CharField(
                choices=[
                    ("view_case", "Viewed a case"),
                    ("download_file", "Opened an MRI file"),
                    ("export", "Exported cases"),
                    ("change", "Changed a case"),
                    ("admin_change", "Changed settings data"),
                    ("purge", "Purged personal data"),
                    ("login", "Signed in"),
                    ("login_failed", "Failed sign-in"),
                    ("view_list", "Listed or searched cases"),
                    ("refused", "Refused access"),
                ],
                db_index=True,
                max_length=16,
            ),
        ),
        migrations.CreateModel(
            name="FailedAttempt",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("key", models.CharField(max_length=80)),
                ("created_at", models.DateTimeField(default=django.utils.timezone.now)),
            ],
            options={
                "indexes": [models.Index(fields=["key", "created_at"], name="clinic_fail_key_f7f2e7_idx")],
            },
        ),
    ]
