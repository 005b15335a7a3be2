"""The staff forms: the structured review (with a formset of findings by
level) and the consult booking. They validate; reviews.services writes."""

from datetime import datetime, timedelta

from django import forms
from django.contrib.auth import get_user_model
from django.db.models import Q
from django.utils import timezone

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

    def clean(self):
        data = super().clean()
        if data.get("decision") and data["decision"] != Decision.CANDIDATE and not data.get("decision_detail"):
            self.add_error("decision_detail", "This decision needs its plan, what is needed, or which imaging.")
        return data


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


FindingFormSet = forms.formset_factory(FindingForm, extra=3, max_num=len(Level.choices), validate_max=True)


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
