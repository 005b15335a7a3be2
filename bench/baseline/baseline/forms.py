from django import forms

from .models import Lead


class LeadForm(forms.ModelForm):
    class Meta:
        model = Lead
        fields = [
            "first_name", "last_name", "email", "phone", "address", "city", "state", "postal_code", "age",
            "contact_method", "contact_time", "region", "severity", "duration", "has_mri", "prior_surgery",
            "consent_email", "consent_privacy", "symptoms", "history", "notes",
        ]  # fmt: skip
