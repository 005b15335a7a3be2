# Issue 22 (7c): the FHIR export's letter, rendered once per review version and kept encrypted.

import django.db.models.deletion
import django.utils.timezone
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("partners", "0002_webhookdelivery_cancelled"),
    ]

    operations = [
        migrations.CreateModel(
            name="FhirLetter",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("review_version", models.PositiveBigIntegerField()),
                ("stored_name", models.CharField(max_length=100)),
                ("sha256", models.CharField(max_length=64)),
                ("created_at", models.DateTimeField(default=django.utils.timezone.now)),
                (
                    "case",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.CASCADE, related_name="+", to="intake.reviewrequest"
                    ),
                ),
            ],
        ),
    ]
