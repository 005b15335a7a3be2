"""The patient's forms, one per step. Every message is written for a patient.

Forms validate and render (crispy, Bootstrap 5); views route; services write.
"""

from datetime import date

import phonenumbers
from crispy_forms.helper import FormHelper
from crispy_forms.layout import HTML, Div, Fieldset, Layout
from django import forms
from django.conf import settings
from django.core.validators import RegexValidator
from django.utils.dates import MONTHS as MONTH_NAMES
from django.utils.translation import gettext_lazy as _

from . import choices

YES_NO = [("yes", _("Yes")), ("no", _("No"))]
REQUIRED_CHOICE = _("Please choose one of the options.")
REQUIRED_YES_NO = _("Please answer yes or no.")


def _helper(*layout) -> FormHelper:
    helper = FormHelper()
    helper.form_tag = False  # the page renders <form>, the CSRF token and buttons
    helper.disable_csrf = True
    if layout:
        helper.layout = Layout(*layout)
    return helper


def yes_no(label, help_text=""):
    return forms.ChoiceField(
        label=label,
        help_text=help_text,
        choices=YES_NO,
        widget=forms.RadioSelect,
        error_messages={"required": REQUIRED_YES_NO, "invalid_choice": REQUIRED_YES_NO},
    )


def radio(label, choices_, help_text="", required=True):
    return forms.ChoiceField(
        label=label,
        help_text=help_text,
        choices=choices_,
        widget=forms.RadioSelect,
        required=required,
        error_messages={"required": REQUIRED_CHOICE, "invalid_choice": REQUIRED_CHOICE},
    )


def checkboxes(label, choices_, required_message, help_text=""):
    return forms.MultipleChoiceField(
        label=label,
        help_text=help_text,
        choices=choices_,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": required_message, "invalid_choice": _("Please choose from the list.")},
    )


def _age_on(dob: date, today: date) -> int:
    return today.year - dob.year - ((today.month, today.day) < (dob.month, dob.day))


class StepForm(forms.Form):
    """A step of the request. ``draft`` holds the answers of earlier steps."""

    title = ""
    intro = ""

    def __init__(self, *args, draft=None, **kwargs):
        self.draft = draft or {}
        super().__init__(*args, **kwargs)

    def answers(self) -> dict:
        """What this step contributes to the case (model field -> value)."""
        return dict(self.cleaned_data)


class SafetyForm(StepForm):
    title = _("First, your safety")
    intro = _("Some symptoms need care today, not a review. Please answer each question about how you are right now.")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for flag in choices.RedFlag:
            self.fields[flag.value] = yes_no(flag.label)
        self.helper = _helper()

    def answers(self):
        return {"red_flags": self.red_flags()}

    def red_flags(self) -> list[str]:
        return [f.value for f in choices.RedFlag if self.cleaned_data.get(f.value) == "yes"]


phone_field_kwargs = dict(
    label=_("Phone number"),
    max_length=30,
    help_text=_("A US number we can reach you on, for example (555) 123-4567."),
    error_messages={"required": _("Please give a phone number so we can reach you.")},
    widget=forms.TextInput(attrs={"autocomplete": "tel", "inputmode": "tel"}),
)


def clean_phone_number(raw: str) -> str:
    try:
        number = phonenumbers.parse(raw, "US")
    except phonenumbers.NumberParseException:
        raise forms.ValidationError(_("This does not look like a phone number. Please check it, e.g. (555) 123-4567."))
    if not phonenumbers.is_valid_number(number):
        raise forms.ValidationError(
            _("This phone number is not complete or not in use. Please check the digits and the area code.")
        )
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


# Numbers a text can reach. US numbers are "fixed line or mobile" (the plan
# cannot tell them apart); toll-free, premium-rate and pager numbers cannot take a text.
TEXTABLE_TYPES = {
    phonenumbers.PhoneNumberType.MOBILE,
    phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE,
    phonenumbers.PhoneNumberType.VOIP,
    phonenumbers.PhoneNumberType.PERSONAL_NUMBER,
}


def can_take_texts(e164: str) -> bool:
    """Can this number (as clean_phone_number returns it) receive a text?"""
    try:
        return phonenumbers.number_type(phonenumbers.parse(e164, "US")) in TEXTABLE_TYPES
    except phonenumbers.NumberParseException:
        return False


NO_WAY_TO_REACH = _("Please give an email address or a phone number. Any one is enough for us to reach you.")
NEEDS_EMAIL = _("You chose email. Please give your email address here, or choose a text message or a call.")
NEEDS_MOBILE = _("You chose text messages. Please give your mobile number here, or choose another way.")
NEEDS_PHONE = _("You chose a phone call. Please give the number we should call, or choose another way.")
NOT_A_MOBILE = _(
    "This number cannot receive text messages (it is a toll-free or service number). "
    "Please give a mobile number, or choose a call or email."
)


def reach_errors(*, email: str, phone: str, contact_method: str) -> dict:
    """The one rule for how a patient can be reached (the form's step 2 and a
    partner's referral both ask it): any one of an email address, a mobile for
    texts or a phone for calls is enough, and the way chosen needs its detail.
    ``phone`` as clean_phone_number returns it. Returns field -> message."""
    if not email and not phone:
        errors = {"email": NO_WAY_TO_REACH, "phone": NO_WAY_TO_REACH}
        if contact_method:
            errors["contact_method"] = {"email": NEEDS_EMAIL, "text": NEEDS_MOBILE}.get(contact_method, NEEDS_PHONE)
        return errors
    if contact_method == choices.ContactMethod.EMAIL and not email:
        return {"email": NEEDS_EMAIL}
    if contact_method == choices.ContactMethod.TEXT:
        if not phone:
            return {"phone": NEEDS_MOBILE}
        if not can_take_texts(phone):
            return {"phone": NOT_A_MOBILE}
    if contact_method == choices.ContactMethod.PHONE and not phone:
        return {"phone": NEEDS_PHONE}
    return {}


def clean_dob(dob: date, today: date | None = None) -> date:
    today = today or date.today()
    if dob > today:
        raise forms.ValidationError(_("Your date of birth cannot be in the future."))
    if dob.year < today.year - 120:
        raise forms.ValidationError(_("Please check the year of your date of birth."))
    return dob


class ContactForm(StepForm):
    title = _("How to reach you")
    intro = _(
        "We use these details only to contact you about your review. An email address or a phone number: "
        "any one is enough."
    )

    first_name = forms.CharField(
        label=_("First name"),
        max_length=80,
        error_messages={"required": _("Please tell us your first name.")},
        widget=forms.TextInput(attrs={"autocomplete": "given-name"}),
    )
    last_name = forms.CharField(
        label=_("Last name"),
        max_length=80,
        error_messages={"required": _("Please tell us your last name.")},
        widget=forms.TextInput(attrs={"autocomplete": "family-name"}),
    )
    date_of_birth = forms.DateField(
        label=_("Date of birth"),
        help_text=_("You will need it to see your request's status."),
        error_messages={
            "required": _("Please give your date of birth."),
            "invalid": _("Please enter a full date, for example 1970-03-21."),
        },
        widget=forms.DateInput(attrs={"type": "date", "autocomplete": "bday"}, format="%Y-%m-%d"),
    )
    submitted_by_guardian = forms.BooleanField(
        label=_("I am the parent or legal guardian of the patient and I am filling this in for them."),
        required=False,
    )
    email = forms.EmailField(
        label=_("Email address"),
        max_length=254,
        required=False,
        help_text=_("Leave it empty if you have none: a phone number is enough."),
        error_messages={
            "invalid": _("This does not look like an email address. Please check it, e.g. name@example.com."),
        },
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )
    phone = forms.CharField(
        **{
            **phone_field_kwargs,
            "required": False,
            "help_text": _(
                "A US number, for example (555) 123-4567. Give a mobile number if you would like text messages."
            ),
        }
    )
    postal_code = forms.CharField(
        label=_("ZIP code"),
        max_length=10,
        validators=[RegexValidator(r"^\d{5}(-\d{4})?$", _("Please enter a 5-digit ZIP code, for example 60614."))],
        error_messages={"required": _("Please give your ZIP code.")},
        widget=forms.TextInput(attrs={"autocomplete": "postal-code", "inputmode": "numeric"}),
    )
    state = forms.ChoiceField(
        label=_("State"),
        choices=[("", _("Choose your state"))] + choices.US_STATES,
        error_messages={"required": _("Please choose your state."), "invalid_choice": _("Please choose your state.")},
    )
    contact_method = radio(_("How should we contact you?"), choices.ContactMethod.choices)
    contact_time = radio(_("When is a good time?"), choices.ContactTime.choices)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Ordered for the language the page is in, when the page is built.
        self.fields["state"].choices = [("", _("Choose your state")), *choices.us_states_by_name()]
        self.helper = _helper(
            Div("first_name", "last_name", css_class="row-cols-1"),
            "date_of_birth",
            "submitted_by_guardian",
            "email",
            "phone",
            Div(Div("postal_code", css_class="col-sm-5"), Div("state", css_class="col-sm-7"), css_class="row"),
            "contact_method",
            "contact_time",
        )

    def clean_first_name(self):
        return self.cleaned_data["first_name"].strip()

    def clean_last_name(self):
        return self.cleaned_data["last_name"].strip()

    def clean_email(self):
        email = self.cleaned_data["email"].strip().lower()
        if not email:
            return ""
        domain = email.rsplit("@", 1)[-1]
        if "." not in domain or domain.endswith(".") or len(domain.rsplit(".", 1)[-1]) < 2:
            raise forms.ValidationError(_("This email address is missing its ending, such as .com. Please check it."))
        return email

    def clean_phone(self):
        raw = self.cleaned_data["phone"].strip()
        return clean_phone_number(raw) if raw else ""

    def clean_date_of_birth(self):
        return clean_dob(self.cleaned_data["date_of_birth"])

    def clean(self):
        data = super().clean()
        # A detail that failed its own check counts as given (its own error
        # says what to fix) and keeps that one error.
        given = {f: data.get(f) or ("?" if f in self.errors else "") for f in ("email", "phone")}
        for field, message in reach_errors(**given, contact_method=data.get("contact_method", "")).items():
            if field not in self.errors:
                self.add_error(field, message)
        dob = data.get("date_of_birth")
        if dob and _age_on(dob, date.today()) < 18 and not data.get("submitted_by_guardian"):
            self.add_error(
                "submitted_by_guardian",
                _(
                    "This service is for adults (18 or over). If the patient is younger, a parent or guardian "
                    "must fill in this form for them and tick this box."
                ),
            )
        return data


class PainForm(StepForm):
    title = _("Your pain")
    intro = _("Tell us where it hurts and how it affects you.")

    regions = checkboxes(_("Where is your pain?"), choices.Region.choices, _("Please choose at least one area."))
    side = radio(_("Which side?"), choices.Side.choices)
    pain_duration = radio(_("How long have you had this pain?"), choices.PainDuration.choices)
    severity = forms.IntegerField(
        label=_("How bad is it on most days, from 0 (no pain) to 10 (the worst you can imagine)?"),
        min_value=0,
        max_value=10,
        error_messages={
            "required": _("Please give a number from 0 to 10."),
            "invalid": _("Please give a whole number from 0 to 10."),
            "min_value": _("Please give a number from 0 to 10."),
            "max_value": _("Please give a number from 0 to 10."),
        },
        widget=forms.NumberInput(attrs={"inputmode": "numeric", "min": 0, "max": 10}),
    )
    radiating_pain = yes_no(_("Does the pain travel into your arm or leg?"))
    numbness = yes_no(_("Do you have numbness or tingling?"))
    weakness = yes_no(_("Do you have weakness in an arm or leg?"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = _helper()

    def answers(self):
        d = dict(self.cleaned_data)
        for k in ("radiating_pain", "numbness", "weakness"):
            d[k] = d[k] == "yes"
        return d


class HistoryForm(StepForm):
    title = _("What you have been told and tried")
    intro = _("Answer what you know. If you are not sure what you were told, choose “I am not sure”.")

    diagnoses = checkboxes(
        _("Has a doctor told you that you have any of these?"),
        choices.Diagnosis.choices,
        _("Please choose at least one, or “I have not been told of a diagnosis”."),
    )
    diagnosis_other = forms.CharField(label=_("If something else, what were you told?"), max_length=200, required=False)
    prior_surgery = yes_no(_("Have you had surgery on your spine before?"))
    prior_surgery_details = forms.CharField(label=_("If yes, what surgery and when?"), max_length=300, required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        treatment_fields = []
        for t in choices.Treatment:
            name = f"treatment_{t.value}"
            self.fields[name] = forms.ChoiceField(
                label=t.label,
                required=False,
                choices=[("", _("Not tried"))] + list(choices.TreatmentDuration.choices),
                error_messages={"invalid_choice": REQUIRED_CHOICE},
            )
            treatment_fields.append(name)
        self.helper = _helper(
            "diagnoses",
            "diagnosis_other",
            Fieldset(_("Treatments you have tried, and for how long"), *treatment_fields),
            "prior_surgery",
            "prior_surgery_details",
        )

    def clean(self):
        data = super().clean()
        dx = data.get("diagnoses") or []
        if set(dx) == {"none", "unsure"}:
            self.add_error(
                "diagnoses",
                _("You chose “I have not been told of a diagnosis” and “I am not sure”. Please choose one."),
            )
        elif "none" in dx and len(dx) > 1:
            self.add_error(
                "diagnoses",
                _("You chose “not been told of a diagnosis” and a diagnosis. Please choose one or the other."),
            )
        if "other" in dx and not (data.get("diagnosis_other") or "").strip():
            self.add_error("diagnosis_other", _("Please tell us what else you were told, in a few words."))
        if data.get("prior_surgery") == "yes" and not (data.get("prior_surgery_details") or "").strip():
            self.add_error("prior_surgery_details", _("Please tell us briefly what surgery you had and the year."))
        return data

    def answers(self):
        d = self.cleaned_data
        return {
            "diagnoses": d["diagnoses"],
            "diagnosis_other": d.get("diagnosis_other", "").strip(),
            "treatments": {
                t.value: d[f"treatment_{t.value}"] for t in choices.Treatment if d.get(f"treatment_{t.value}")
            },
            "prior_surgery": d["prior_surgery"] == "yes",
            "prior_surgery_details": d.get("prior_surgery_details", "").strip() if d["prior_surgery"] == "yes" else "",
        }


# Django's month names, translated lazily (strftime would always say English).
MONTHS = [(str(i), name) for i, name in MONTH_NAMES.items()]


class RequiredWhenShownMixin:
    """A field the page marks required (its asterisk, ``required``) that is
    checked in the form's ``clean()`` instead: asked only when it is shown
    (the MRI's details, once the patient says they had one), so an empty one
    is not an error by itself. Django's own check of a value given still runs."""

    def __init__(self, *args, **kwargs):
        kwargs["required"] = True
        super().__init__(*args, **kwargs)

    def validate(self, value):
        if value in self.empty_values:
            return
        super().validate(value)


class RequiredWhenShownChoiceField(RequiredWhenShownMixin, forms.ChoiceField):
    pass


class RequiredWhenShownIntegerField(RequiredWhenShownMixin, forms.IntegerField):
    pass


class RequiredWhenShownCharField(RequiredWhenShownMixin, forms.CharField):
    pass


class MriForm(StepForm):
    title = _("Your MRI")
    intro = _("If you have had an MRI of your spine, we can review it at no cost.")

    mri_status = radio(_("Have you had an MRI of your spine?"), choices.MriStatus.choices)
    # The details are asked (and marked required) once the patient says they had an MRI: clean() checks them.
    mri_month = RequiredWhenShownChoiceField(
        label=_("Month it was taken"), choices=[("", _("Month"))] + MONTHS,
        error_messages={"invalid_choice": _("Please choose a month from the list.")},
    )  # fmt: skip
    mri_year = RequiredWhenShownIntegerField(
        label=_("Year it was taken"),
        error_messages={"invalid": _("Please give the year as four digits, for example 2024.")},
        widget=forms.NumberInput(attrs={"inputmode": "numeric", "placeholder": _("YYYY")}),
    )
    mri_region = RequiredWhenShownChoiceField(
        label=_("Which part of your spine was scanned?"),
        choices=choices.MriRegion.choices,
        widget=forms.RadioSelect,
        error_messages={"invalid_choice": REQUIRED_CHOICE},
    )
    imaging_centre = RequiredWhenShownCharField(
        label=_("Imaging centre (name and town)"),
        max_length=200,
        help_text=_("So we can ask them for the images if needed."),
    )

    # Shown at the question and looked for by uploads.js, which removes it
    # once a file is uploaded (a stale error after a good upload misleads).
    no_file_error = _(
        "You chose to upload your MRI but no file is uploaded yet. Upload it below, or choose "
        "“my imaging centre will send it”."
    )

    def __init__(self, *args, uploaded_count=0, **kwargs):
        super().__init__(*args, **kwargs)
        self.uploaded_count = uploaded_count
        if uploaded_count and not self.is_bound:
            # Files are uploaded but the step not yet sent (a reload, or the
            # upload without JavaScript): keep the answer that shows them.
            self.initial.setdefault("mri_status", choices.MriStatus.UPLOAD)
        details = Div(
            HTML(_('<p class="fw-semibold mb-1">When was it taken?</p>')),
            Div(Div("mri_month", css_class="col-7"), Div("mri_year", css_class="col-5"), css_class="row"),
            "mri_region",
            "imaging_centre",
            css_class="mri-details",
        )
        self.helper = _helper("mri_status", details)
        # The step's page renders the form in two parts, with the upload box
        # between them, right under the question it depends on.
        self.status_helper = _helper("mri_status")
        self.details_helper = _helper(details)

    def clean(self):
        data = super().clean()
        status = data.get("mri_status")
        if not status or status == choices.MriStatus.NONE:
            return data
        month, year = data.get("mri_month"), data.get("mri_year")
        if not month and "mri_month" not in self.errors:
            self.add_error("mri_month", _("Please choose the month your MRI was taken (a guess is fine)."))
        if year is None and "mri_year" not in self.errors:
            self.add_error("mri_year", _("Please give the year your MRI was taken."))
        if month and year is not None:
            today = date.today()
            if year < 1980 or year > today.year:
                self.add_error("mri_year", _("Please give a year between 1980 and %(year)s.") % {"year": today.year})
            else:
                taken = date(year, int(month), 1)
                dob = _draft_dob(self.draft)
                if taken > today:
                    self.add_error("mri_month", _("The MRI date cannot be in the future."))
                elif dob and (taken.year, taken.month) < (dob.year, dob.month):
                    self.add_error("mri_year", _("The MRI date is before your date of birth. Please check both."))
                else:
                    data["mri_taken_on"] = taken
        if not data.get("mri_region"):
            self.add_error("mri_region", _("Please choose which part was scanned, or “not sure”."))
        if not (data.get("imaging_centre") or "").strip():
            self.add_error("imaging_centre", _("Please tell us where it was done, so we can get the images."))
        if status == choices.MriStatus.UPLOAD and self.uploaded_count == 0:
            self.add_error("mri_status", self.no_file_error)
        return data

    def answers(self):
        d = self.cleaned_data
        if d["mri_status"] == choices.MriStatus.NONE:
            return {"mri_status": d["mri_status"], "mri_taken_on": None, "mri_region": "", "imaging_centre": ""}
        return {
            "mri_status": d["mri_status"],
            "mri_taken_on": d.get("mri_taken_on"),
            "mri_region": d["mri_region"],
            "imaging_centre": d["imaging_centre"].strip(),
        }


def _draft_dob(draft) -> date | None:
    dob = (draft or {}).get("date_of_birth")
    if isinstance(dob, str):
        try:
            return date.fromisoformat(dob)
        except ValueError:
            return None
    return dob


class UploadForm(forms.Form):
    file = forms.FileField(
        label=_("Add an MRI file"),
        help_text=_(
            "PDF, JPEG, PNG, DICOM, or a ZIP of DICOM files; up to 100 MB each. Files from a disc often have "
            "no extension (IM000001): choose them all the same, or ZIP the whole disc."
        ),
        error_messages={"required": _("Please choose a file to upload."), "empty": _("This file is empty.")},
        # No ``accept`` list: it hid the extension-less DICOM files discs
        # carry (IM000001). The content decides what is taken (intake.uploads).
        widget=forms.ClearableFileInput(),
    )


class ConsentForm(StepForm):
    title = _("How you found us, and your consent")
    intro = _("Almost done.")

    source = forms.ChoiceField(
        label=_("How did you hear about us?"),
        choices=[("", _("Choose one"))] + list(choices.Source.choices),
        error_messages={"required": REQUIRED_CHOICE, "invalid_choice": REQUIRED_CHOICE},
    )
    consent_privacy = forms.BooleanField(
        label=(
            _(
                "I have read the privacy notice and agree that the clinic may use my answers and files "
                "to review my request."
            )
        ),
        error_messages={"required": _("We can only review your request with your agreement to the privacy notice.")},
    )
    consent_phone = forms.BooleanField(label=_("You may call me."), required=False)
    consent_text = forms.BooleanField(label=_("You may send me text messages."), required=False)
    consent_email = forms.BooleanField(label=_("You may email me."), required=False)
    # A field people never see: bots fill it in, and their requests are dropped.
    website = forms.CharField(
        required=False,
        label=_("Leave this empty"),
        widget=forms.TextInput(attrs={"tabindex": "-1", "autocomplete": "off"}),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = _helper(
            "source",
            Div("website", css_class="visually-hidden", aria_hidden="true"),
            HTML(
                _(
                    '<p class="small">Read our <a href="/privacy/" target="_blank" rel="noopener">privacy notice</a>'
                    " (version %(version)s).</p>"
                )
                % {"version": settings.INTAKE_CONSENT_VERSION}
            ),
            "consent_privacy",
            Fieldset(
                _("May we contact you this way? (each one is your choice)"),
                "consent_phone",
                "consent_text",
                "consent_email",
            ),
        )

    # One message per way, so each reads whole in every language (no label pasted into a sentence).
    CHOSEN_NOT_ALLOWED = {
        "phone": _(
            "You asked us to contact you by phone call. Please allow it here, or go back and choose another way."
        ),
        "text": _(
            "You asked us to contact you by text message. Please allow it here, or go back and choose another way."
        ),
        "email": _("You asked us to contact you by email. Please allow it here, or go back and choose another way."),
    }
    NO_ADDRESS = {
        "consent_email": _("You did not give an email address. Untick this, or go back to step 2 and add one."),
        "consent_text": _(
            "You did not give a phone number. Untick this, or go back to step 2 and add a mobile number."
        ),
        "consent_phone": _("You did not give a phone number. Untick this, or go back to step 2 and add one."),
    }

    def clean(self):
        data = super().clean()
        method = self.draft.get("contact_method")
        needed = {"phone": "consent_phone", "text": "consent_text", "email": "consent_email"}.get(method)
        if needed and not data.get(needed):
            self.add_error(needed, self.CHOSEN_NOT_ALLOWED[method])
        # A way allowed with nothing to reach it by would be a promise nobody can keep.
        email, phone = self.draft.get("email"), self.draft.get("phone")
        for field, missing in (("consent_email", not email), ("consent_text", not phone), ("consent_phone", not phone)):
            if data.get(field) and missing and field not in self.errors:
                self.add_error(field, self.NO_ADDRESS[field])
        if data.get("consent_text") and phone and not can_take_texts(phone) and "consent_text" not in self.errors:
            self.add_error("consent_text", NOT_A_MOBILE)
        return data

    def is_bot(self) -> bool:
        return bool(self.cleaned_data.get("website"))

    def answers(self):
        d = dict(self.cleaned_data)
        d.pop("website", None)
        return d


class UrgentCallbackForm(forms.Form):
    first_name = ContactForm.base_fields["first_name"]
    last_name = ContactForm.base_fields["last_name"]
    phone = forms.CharField(**phone_field_kwargs)
    consent_phone = forms.BooleanField(
        label=_("Please call me back on this number. I agree the clinic may use these details to contact me."),
        error_messages={"required": _("We need your permission to call you back.")},
    )
    website = forms.CharField(
        required=False,
        label=_("Leave this empty"),
        widget=forms.TextInput(attrs={"tabindex": "-1", "autocomplete": "off"}),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = _helper(
            "first_name",
            "last_name",
            "phone",
            Div("website", css_class="visually-hidden", aria_hidden="true"),
            "consent_phone",
        )

    def clean_first_name(self):
        return self.cleaned_data["first_name"].strip()

    def clean_last_name(self):
        return self.cleaned_data["last_name"].strip()

    def clean_phone(self):
        return clean_phone_number(self.cleaned_data["phone"])


class StatusCheckForm(forms.Form):
    date_of_birth = forms.DateField(
        label=_("Your date of birth"),
        error_messages={
            "required": _("Please give your date of birth."),
            "invalid": _("Please enter a full date, for example 1970-03-21."),
        },
        widget=forms.DateInput(attrs={"type": "date", "autocomplete": "bday"}, format="%Y-%m-%d"),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = _helper()


STEPS = [
    ("safety", SafetyForm),
    ("contact", ContactForm),
    ("pain", PainForm),
    ("history", HistoryForm),
    ("mri", MriForm),
    ("consent", ConsentForm),
]
STEP_NAMES = [s for s, _ in STEPS]
STEP_FORMS = dict(STEPS)
