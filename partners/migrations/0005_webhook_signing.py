"""Standard Webhooks signing (issue 28): new endpoints sign by the standard;
the endpoints that exist keep the clinic's first scheme until their partner
switches (their receivers check X-Clinic-Signature today, and their secret is
no standard ``whsec_<base64>`` key; docs/partners.md, "Moving to Standard
Webhooks")."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("partners", "0004_fhir_documents")]

    operations = [
        # Added with the old scheme as its default, so every existing row gets it ...
        migrations.AddField(
            model_name="webhookendpoint",
            name="signing",
            field=models.CharField(
                choices=[("standard", "Standard Webhooks"), ("clinic_v1", "Old clinic scheme (X-Clinic-Signature)")],
                default="clinic_v1",
                help_text="How deliveries are signed. Switching to Standard Webhooks gives the endpoint a new secret.",
                max_length=12,
            ),
        ),
        # ... then new endpoints default to the standard.
        migrations.AlterField(
            model_name="webhookendpoint",
            name="signing",
            field=models.CharField(
                choices=[("standard", "Standard Webhooks"), ("clinic_v1", "Old clinic scheme (X-Clinic-Signature)")],
                default="standard",
                help_text="How deliveries are signed. Switching to Standard Webhooks gives the endpoint a new secret.",
                max_length=12,
            ),
        ),
        migrations.AddField(
            model_name="webhookendpoint",
            name="previous_secret",
            field=models.CharField(blank=True, editable=False, max_length=64),
        ),
        migrations.AddField(
            model_name="webhookendpoint",
            name="previous_secret_until",
            field=models.DateTimeField(blank=True, editable=False, null=True, verbose_name="old secret signs until"),
        ),
    ]
