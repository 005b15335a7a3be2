"""The referral a partner sends: the patient form's questions and checks, as JSON.

Choices come from intake.choices and the field checks from intake.forms
(phone, date of birth), so a referral is held to what the form asks of a
patient; the model's own checks run again in the submission service.
"""

from datetime import date

from django import forms
from django.conf import settings
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from intake import choices
from intake.forms import can_take_texts, clean_dob, clean_phone_number, reach_errors
from intake.transitions import Status

YEAR_MONTH = r"^\d{4}-(0[1-9]|1[0-2])$"
# Sent as the case stores them.
COPIED = (
    "first_name", "last_name", "date_of_birth", "submitted_by_guardian", "email", "phone",
    "postal_code", "state", "contact_method", "contact_time", "consent_phone", "consent_text",
    "consent_email", "regions", "side", "pain_duration", "severity", "radiating_pain", "numbness",
    "weakness", "diagnoses", "treatments", "prior_surgery", "mri_status", "language",
)  # fmt: skip


def _choices(model_choices):
    return [value for value, _ in model_choices]


def _form_check(check, value):
    try:
        return check(value)
    except forms.ValidationError as exc:
        raise serializers.ValidationError(list(exc.messages)) from None


# The schema of ``treatments`` (partners.schema registers both enums): an object whose
# keys are the treatments and whose values are how long, so a generated client
# has a model with one optional attribute per treatment, not a bare dict.
TREATMENTS_SCHEMA = {
    "type": "object",
    "properties": {t: {"$ref": "#/components/schemas/TreatmentDurationEnum"} for t in choices.Treatment.values},
    "propertyNames": {"$ref": "#/components/schemas/TreatmentEnum"},
    "additionalProperties": False,
}


@extend_schema_field(TREATMENTS_SCHEMA)
class TreatmentsField(serializers.DictField):
    pass


@extend_schema_field({"type": "string", "pattern": YEAR_MONTH})
class YearMonthField(serializers.RegexField):
    """YYYY-MM. An empty string is still taken as "not given", as it always
    was; the schema offers null (or leaving it out) for that."""


def _age_on(dob: date, today: date) -> int:
    return today.year - dob.year - ((today.month, today.day) < (dob.month, dob.day))


class ReferralSerializer(serializers.Serializer):
    # Who attests the consent (the partner's clinician or staff member)
    consent_attested = serializers.BooleanField(
        help_text="True: the patient agreed to the clinic's privacy notice, and the partner attests it."
    )
    attested_by = serializers.CharField(max_length=120, help_text="Name and role of the person attesting.")
    # The patient's language: every message to them, their status page and
    # their result letter go in it, as for a patient who used the form in it.
    language = serializers.ChoiceField(
        choices=settings.LANGUAGES,
        default=settings.LANGUAGE_CODE,
        help_text="The language the patient reads best: 'en' (English, the default) or 'es' (Spanish). "
        "Every message the clinic sends the patient goes in it.",
    )
    # Safety screen
    red_flags = serializers.ListField(
        child=serializers.ChoiceField(choices=_choices(choices.RedFlag.choices)),
        allow_empty=True,
        max_length=len(choices.RedFlag.choices),
        help_text="Every red-flag symptom the patient has now; an empty list if none. Any flag makes the case urgent.",
    )
    # Contact
    first_name = serializers.CharField(max_length=80)
    last_name = serializers.CharField(max_length=80)
    date_of_birth = serializers.DateField()
    submitted_by_guardian = serializers.BooleanField(default=False)
    # Any one way to reach the patient is enough (issue 23): an email, a mobile for texts or a phone for calls.
    email = serializers.EmailField(
        max_length=254,
        required=False,
        allow_blank=True,
        default="",
        help_text="The patient's email address; empty or left out if they have none (a phone number is then needed).",
    )
    phone = serializers.CharField(
        max_length=30,
        required=False,
        allow_blank=True,
        default="",
        help_text="A US number, e.g. (555) 123-4567; a mobile for texts. Empty or left out if the patient has an "
        "email address and no phone.",
    )
    postal_code = serializers.RegexField(r"^\d{5}(-\d{4})?$", max_length=10)
    state = serializers.ChoiceField(choices=_choices(choices.US_STATES))
    contact_method = serializers.ChoiceField(choices=_choices(choices.ContactMethod.choices))
    contact_time = serializers.ChoiceField(choices=_choices(choices.ContactTime.choices))
    consent_phone = serializers.BooleanField(default=False)
    consent_text = serializers.BooleanField(default=False)
    consent_email = serializers.BooleanField(default=False)
    # Pain
    regions = serializers.ListField(
        child=serializers.ChoiceField(choices=_choices(choices.Region.choices)),
        min_length=1,
        max_length=len(choices.Region.choices),
    )
    side = serializers.ChoiceField(choices=_choices(choices.Side.choices))
    pain_duration = serializers.ChoiceField(choices=_choices(choices.PainDuration.choices))
    severity = serializers.IntegerField(min_value=0, max_value=10)
    radiating_pain = serializers.BooleanField()
    numbness = serializers.BooleanField()
    weakness = serializers.BooleanField()
    # History
    diagnoses = serializers.ListField(
        child=serializers.ChoiceField(choices=_choices(choices.Diagnosis.choices)),
        min_length=1,
        max_length=len(choices.Diagnosis.choices),
    )
    diagnosis_other = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    treatments = TreatmentsField(
        child=serializers.ChoiceField(choices=_choices(choices.TreatmentDuration.choices)),
        required=False,
        default=dict,
        help_text="Each treatment tried, with for how long. Treatments: " + ", ".join(choices.Treatment.values),
    )
    prior_surgery = serializers.BooleanField()
    prior_surgery_details = serializers.CharField(max_length=300, required=False, allow_blank=True, default="")
    # MRI: a partner cannot upload files; the imaging centre sends them.
    mri_status = serializers.ChoiceField(
        choices=[choices.MriStatus.NONE.value, choices.MriStatus.CENTRE_SENDS.value],
        help_text="'none', or 'centre_sends' when the imaging centre will send the MRI.",
    )
    mri_taken_month = YearMonthField(
        YEAR_MONTH,
        required=False,
        allow_null=True,
        allow_blank=True,
        default=None,
        help_text="YYYY-MM, when mri_status is centre_sends (required then).",
    )
    # Null or left out when there is no MRI; "" is still taken as that (older clients).
    mri_region = serializers.ChoiceField(
        choices=_choices(choices.MriRegion.choices),
        required=False,
        allow_null=True,
        allow_blank=True,
        default=None,
        help_text="Which part was scanned, when mri_status is centre_sends (required then; 'unsure' is fine).",
    )
    imaging_centre = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")

    def validate_consent_attested(self, value):
        if not value:
            raise serializers.ValidationError("The clinic can only review a referral the patient agreed to.")
        return value

    def validate_first_name(self, value):
        return value.strip()

    def validate_last_name(self, value):
        return value.strip()

    def validate_email(self, value):
        email = value.strip().lower()
        if not email:
            return ""
        domain = email.rsplit("@", 1)[-1]
        if "." not in domain or domain.endswith(".") or len(domain.rsplit(".", 1)[-1]) < 2:
            raise serializers.ValidationError("This email address is missing its ending, such as .com.")
        return email

    def validate_phone(self, value):
        return _form_check(clean_phone_number, value) if value.strip() else ""

    def validate_date_of_birth(self, value):
        return _form_check(clean_dob, value)

    def validate_treatments(self, value):
        unknown = sorted(set(value) - set(choices.Treatment.values))
        if unknown:
            raise serializers.ValidationError("Unknown treatment. Use one of: " + ", ".join(choices.Treatment.values))
        return value

    def validate(self, data):
        errors = {}
        dob = data.get("date_of_birth")
        if dob and _age_on(dob, date.today()) < 18 and not data.get("submitted_by_guardian"):
            errors["submitted_by_guardian"] = (
                "The patient is under 18: a parent or guardian must agree (set it to true)."
            )
        dx = set(data.get("diagnoses") or [])
        if dx == {"none", "unsure"}:
            errors["diagnoses"] = "'none' and 'unsure' together: please send one."
        elif "none" in dx and len(dx) > 1:
            errors["diagnoses"] = "'none' and a diagnosis together: please send one or the other."
        if "other" in dx and not data.get("diagnosis_other", "").strip():
            errors["diagnosis_other"] = "Please say in a few words what else the patient was told."
        if data.get("prior_surgery") and not data.get("prior_surgery_details", "").strip():
            errors["prior_surgery_details"] = "Please say briefly what surgery the patient had and the year."
        method = data.get("contact_method")
        # The patient form's rule (intake.forms.reach_errors), in its words.
        email, phone = data.get("email", ""), data.get("phone", "")
        errors.update({k: str(v) for k, v in reach_errors(email=email, phone=phone, contact_method=method).items()})
        needed = {"phone": "consent_phone", "text": "consent_text", "email": "consent_email"}.get(method)
        if needed and not data.get(needed):
            errors[needed] = f"The contact method is {method}: the patient must agree to it (set it to true)."
        for field, missing in (("consent_email", not email), ("consent_text", not phone), ("consent_phone", not phone)):
            if data.get(field) and missing and field not in errors:
                address = "email" if field == "consent_email" else "phone"
                errors[field] = f"No {address} was sent: set it to false, or send the patient's {address}."
        if data.get("consent_text") and phone and not can_take_texts(phone) and "consent_text" not in errors:
            errors["consent_text"] = "This number cannot receive text messages (toll-free or service number)."
        if data.get("mri_status") == choices.MriStatus.CENTRE_SENDS:
            errors.update(self._mri_errors(data))
        if errors:
            raise serializers.ValidationError(errors)
        return data

    def _mri_errors(self, data) -> dict:
        errors = {}
        month = data.get("mri_taken_month")
        if not month:
            errors["mri_taken_month"] = "Please give the month the MRI was taken (a guess is fine)."
        else:
            year, today = int(month[:4]), date.today()
            taken = date(max(year, 1), int(month[5:]), 1)  # year 0000 is no date; refused just below
            dob = data.get("date_of_birth")
            if year < 1980 or taken > today:
                errors["mri_taken_month"] = f"Please give a month between 1980-01 and {today:%Y-%m}."
            elif dob and (taken.year, taken.month) < (dob.year, dob.month):
                errors["mri_taken_month"] = "The MRI date is before the date of birth. Please check both."
        if not data.get("mri_region"):
            errors["mri_region"] = "Please say which part was scanned, or 'unsure'."
        if not data.get("imaging_centre", "").strip():
            errors["imaging_centre"] = "Please say where it was done, so the clinic can get the images."
        return errors

    def answers(self) -> dict:
        """The case's fields, as the patient form's steps would give them."""
        d = dict(self.validated_data)
        centre_sends = d["mri_status"] == choices.MriStatus.CENTRE_SENDS
        month = d.pop("mri_taken_month", "") or ""
        return {
            **{k: d[k] for k in COPIED},
            "red_flags": [f for f in choices.RedFlag.values if f in d["red_flags"]],
            "diagnosis_other": d["diagnosis_other"].strip() if "other" in d["diagnoses"] else "",
            "prior_surgery_details": d["prior_surgery_details"].strip() if d["prior_surgery"] else "",
            "mri_taken_on": date(int(month[:4]), int(month[5:]), 1) if centre_sends and month else None,
            "mri_region": (d["mri_region"] or "") if centre_sends else "",
            "imaging_centre": d["imaging_centre"].strip() if centre_sends else "",
            "consent_privacy": True,  # attested by the partner; recorded on the Referral
        }


class StageSerializer(serializers.Serializer):
    key = serializers.ChoiceField(choices=Status.values, help_text="The stage, as a stable word: the case's status.")
    headline = serializers.CharField(help_text="The stage in the plain words the patient sees.")
    next_step = serializers.CharField()


class ReferralStatusSerializer(serializers.Serializer):
    reference = serializers.CharField()
    stage = StageSerializer()
    promised_by = serializers.DateTimeField(allow_null=True, help_text="When the clinic promised to answer.")
    urgent = serializers.BooleanField(help_text="A red flag was reported: the clinic calls back within the hour.")
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()


class StageChangedEventSerializer(serializers.Serializer):
    """The body of the ``referral.stage_changed`` webhook (partners.services.webhook_payload)."""

    id = serializers.UUIDField(help_text="The event's id, also sent as the webhook-id header; a repeat has the same.")
    type = serializers.ChoiceField(choices=["referral.stage_changed"])
    reference = serializers.CharField(help_text="The case's reference, e.g. MR-7K3F9Q.")
    stage = StageSerializer()
    occurred_at = serializers.DateTimeField(help_text="When the case moved to this stage.")
