"""The staff forms: the structured review (with a formset of findings by
level) and the consult booking. They validate; reviews.services writes."""

from datetime import datetime, timedelta

from django import forms
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import get_language_info

from .choices import Decision, Grade, Level, Listhesis, Side


class ReviewForm(forms.Form):
    version = forms.IntegerField(widget=forms.HiddenInput, min_value=0)
    impression = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 4}),
        max_length=4000,
        help_text="Plain words: the patient reads this in their result letter.",
    )
    decision = forms.ChoiceField(choices=Decision.choices, widget=forms.RadioSelect)
    decision_detail = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=4000,
        required=False,
        label="Plan, what is needed, or which imaging",
        help_text="Not a candidate: the conservative-care plan. Needs more information: what we need. "
        "New imaging: which imaging. The patient reads this.",
    )
    next_step = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 2}),
        max_length=2000,
        label="Recommended next step",
        help_text="Plain words; the patient reads this.",
    )

    # Filled only when the patient reads another language than the clinic's
    # (the fields are removed otherwise): the letter shows these, the
    # clinical summary keeps the English above.
    impression_patient = forms.CharField(widget=forms.Textarea(attrs={"rows": 4}), max_length=4000, required=False)
    decision_detail_patient = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), max_length=4000, required=False)
    next_step_patient = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), max_length=2000, required=False)
    english_for_patient = forms.BooleanField(required=False)
    no_images_reason = forms.CharField(
        max_length=300,
        required=False,
        label="Deciding without the images",
        help_text="Only if you decide without opening the images: say why, for example “report only, "
        "no images sent”. Kept with this version.",
    )

    PAIRS = (
        ("impression", "impression_patient"),
        ("decision_detail", "decision_detail_patient"),
        ("next_step", "next_step_patient"),
    )

    def __init__(self, *args, patient_language: str = "", **kwargs):
        super().__init__(*args, **kwargs)
        clinic = settings.LANGUAGE_CODE.split("-")[0]
        self.patient_language = patient_language or clinic
        self.patient_language_name = language_name(self.patient_language)
        self.needs_patient_text = self.patient_language != clinic
        if not self.needs_patient_text:
            for _english, theirs in self.PAIRS:
                del self.fields[theirs]
            del self.fields["english_for_patient"]
            return
        name = self.patient_language_name
        for english, theirs in self.PAIRS:
            self.fields[theirs].label = f"{self.fields[english].label or english.capitalize()}, in {name}"
            self.fields[theirs].help_text = f"The patient reads {name}: their letter shows this text."
            self.fields[theirs].widget.attrs["lang"] = self.patient_language
        self.fields["english_for_patient"].label = f"Send my English text to the patient, who reads {name}"

    def clinician_fields(self):
        """The review in the clinician's words (the template's first part)."""
        return [self[name] for name in ("impression", "decision", "decision_detail", "next_step")]

    def patient_text_fields(self):
        """The same in the patient's language, when it differs (else none)."""
        return [self[theirs] for _english, theirs in self.PAIRS if theirs in self.fields]

    def clean(self):
        data = super().clean()
        if data.get("decision") and data["decision"] != Decision.CANDIDATE and not data.get("decision_detail"):
            self.add_error("decision_detail", "This decision needs its plan, what is needed, or which imaging.")
        if self.needs_patient_text and not data.get("english_for_patient"):
            name = self.patient_language_name
            for english, theirs in self.PAIRS:
                if data.get(english) and not data.get(theirs):
                    self.add_error(
                        theirs,
                        f"The patient reads {name}: write this in {name} too, or tick “Send my English text” "
                        "below to send the English.",
                    )
        return data


def language_name(code: str) -> str:
    """“Spanish (Español)”: for staff, in English with the name the site's switcher gives it."""
    try:
        english = get_language_info(code)["name"]
    except KeyError:
        english = code
    own = dict(settings.LANGUAGES).get(code, english)
    return english if own == english else f"{english} ({own})"


class FindingForm(forms.Form):
    level = forms.ChoiceField(choices=[("", "—"), *Level.choices], required=False)
    disc_bulge = forms.BooleanField(required=False, label="Bulge")
    herniation = forms.BooleanField(required=False)
    herniation_side = forms.ChoiceField(choices=Side.choices, required=False, label="Herniation side")
    central_stenosis = forms.ChoiceField(choices=Grade.choices, required=False, label="Central stenosis")
    foraminal_side = forms.ChoiceField(choices=Side.choices, required=False, label="Foraminal side")
    foraminal_grade = forms.ChoiceField(choices=Grade.choices, required=False, label="Foraminal grade")
    spondylolisthesis = forms.ChoiceField(choices=Listhesis.choices, required=False, label="Listhesis")
    other = forms.CharField(max_length=300, required=False)

    def clean(self):
        data = super().clean()
        filled = any(v for k, v in data.items() if k != "level")
        if filled and not data.get("level"):
            self.add_error("level", "Choose the level for these findings.")
        return data


# One empty row to start; the page adds rows without a reload (its "Add a
# level" button clones the formset's empty form; without JavaScript the same
# button posts the form back with one row more, nothing saved).
FindingFormSet = forms.formset_factory(FindingForm, extra=1, max_num=len(Level.choices), validate_max=True)


def findings_with_one_more_row(data):
    """The posted formset data with one more (empty) row, for the no-JavaScript "Add a level"."""
    data = data.copy()
    total = int(data.get("f-TOTAL_FORMS") or 0)
    data["f-TOTAL_FORMS"] = str(min(total + 1, len(Level.choices)))
    return data


def clinicians():
    User = get_user_model()
    perm = Q(groups__permissions__codename="record_decision") | Q(user_permissions__codename="record_decision")
    return User.objects.filter(is_active=True, is_staff=True).filter(perm | Q(is_superuser=True)).distinct()


class ConsultForm(forms.Form):
    version = forms.IntegerField(widget=forms.HiddenInput)
    day = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}))
    time = forms.TimeField(widget=forms.TimeInput(attrs={"type": "time"}), help_text="Clinic time.")
    duration_minutes = forms.IntegerField(min_value=10, max_value=180, initial=30, label="Minutes")
    place = forms.CharField(max_length=300, required=False, help_text="Address and room; or leave empty for video.")
    video_url = forms.URLField(required=False, assume_scheme="https", label="Video link")
    clinician = forms.ModelChoiceField(queryset=None)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["clinician"].queryset = clinicians().order_by("username")

    def clean(self):
        data = super().clean()
        if not (data.get("place") or data.get("video_url")):
            raise forms.ValidationError("Give a place or a video link.")
        return data

    def starts_at(self) -> datetime:
        data = self.cleaned_data
        return datetime.combine(data["day"], data["time"], tzinfo=timezone.get_current_timezone())


def finding_initial(version) -> list[dict]:
    if version is None:
        return []
    keys = [f for f in FindingForm.base_fields if f != "level"]
    return [{"level": f.level, **{k: getattr(f, k) for k in keys}} for f in version.findings.all()]


def default_consult_day():
    return timezone.localdate() + timedelta(days=7)
