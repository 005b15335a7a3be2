"""The status page's forms, and the staff's form to ask the patient (the case
page's panel: patientloop.admin and its template tag): they validate; the
views hand cleaned data to services."""

from crispy_forms.helper import FormHelper
from django import forms
from django.utils.translation import gettext_lazy as _

from intake.choices import ContactMethod

from .models import PatientRequest


def _helper() -> FormHelper:
    helper = FormHelper()
    helper.form_tag = False
    helper.disable_csrf = True  # the template's form carries the token
    return helper


class AnswerForm(forms.Form):
    answer = forms.CharField(
        label=_("Your answer"),
        required=False,
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 5}),
        # Files have their own box on the page (the template links to it): they
        # reach us on their own, before or after the answer, in any order.
        help_text=_("Only our clinical team reads it."),
    )

    def __init__(self, *args, prefix_id: int | None = None, **kwargs):
        super().__init__(*args, prefix=f"r{prefix_id}" if prefix_id else None, **kwargs)
        self.helper = _helper()


class ContactPreferencesForm(forms.Form):
    consent_email = forms.BooleanField(label=_("You may email me"), required=False)
    consent_text = forms.BooleanField(label=_("You may send me text messages"), required=False)
    consent_phone = forms.BooleanField(label=_("You may phone me"), required=False)
    contact_method = forms.ChoiceField(
        label=_("The way I prefer"),
        choices=[
            (ContactMethod.PHONE, _("Phone call")),
            (ContactMethod.TEXT, _("Text message")),
            (ContactMethod.EMAIL, _("Email")),
        ],
        widget=forms.RadioSelect,
    )

    def __init__(self, *args, case=None, **kwargs):
        super().__init__(*args, **kwargs)
        if case is not None:
            # Only the ways the clinic has an address for (issue 23: many patients give no email).
            if not case.email:
                del self.fields["consent_email"]
            if not case.phone:
                del self.fields["consent_text"], self.fields["consent_phone"]
            kept = {"email": "consent_email", "text": "consent_text", "phone": "consent_phone"}
            method = self.fields["contact_method"]
            method.choices = [(v, label) for v, label in method.choices if kept[v] in self.fields]
        self.helper = _helper()

    def clean(self):
        data = super().clean()
        for name in ("consent_email", "consent_text", "consent_phone"):
            data.setdefault(name, False)  # a way not offered is not allowed
        return data


class WithdrawForm(forms.Form):
    confirm = forms.BooleanField(
        label=_("Yes, withdraw my request. I understand the clinic will stop working on it."),
        error_messages={"required": _("Please tick the box to confirm, or go back to your request.")},
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = _helper()


# --- Staff: the case page's panel (the template tag) posts to the admin's ask view ---
TRIAGE_PERM = "intake.change_reviewrequest"


class AskForm(forms.Form):
    kind = forms.ChoiceField(label="Ask for", choices=PatientRequest.Kind.choices)
    questions = forms.CharField(
        label="Questions for the patient",
        widget=forms.Textarea(attrs={"rows": 4, "cols": 60}),
        max_length=4000,
        help_text="Shown on the patient's status page after their date-of-birth check; never emailed or texted.",
    )
