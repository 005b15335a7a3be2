"""Forms of the staff side: they validate and hand cleaned data to a service."""

from django import forms
from django.contrib.admin import helpers
from django.contrib.auth import get_user_model
from django.db.models import Q

from ..choices import ContactMethod, DecisionReason, PainDuration, Region
from ..models import RoutingRule, StaffQueue
from ..transitions import DECISIONS, Status


class TransitionForm(forms.Form):
    """One status change. Any status may be posted: the service's table decides,
    so a stale or forged button gets the service's own refusal."""

    to_status = forms.ChoiceField(choices=Status.choices)
    version = forms.IntegerField(min_value=1, widget=forms.HiddenInput)
    reason_category = forms.ChoiceField(
        choices=[("", "Choose a reason…"), *DecisionReason.choices], required=False, label="Reason"
    )
    note = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}),
        required=False,
        max_length=4000,
        help_text="Internal: never emailed, never shown to the patient.",
    )

    def clean(self):
        data = super().clean()
        if data.get("to_status") in DECISIONS:
            if not data.get("reason_category"):
                self.add_error("reason_category", "A decision needs a reason category.")
            if not (data.get("note") or "").strip():
                self.add_error("note", "A decision needs a note.")
        return data


class DecisionForm(TransitionForm):
    """The decision part of the case page: reason and note are required."""

    reason_category = forms.ChoiceField(choices=[("", "Choose a reason…"), *DecisionReason.choices], label="Reason")
    note = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=4000,
        label="Decision note",
        help_text="Internal: never emailed, never shown to the patient.",
    )


class NoteForm(forms.Form):
    body = forms.CharField(
        label="Add an internal note",
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=4000,
        help_text="Notes are kept as written: they cannot be edited or deleted.",
    )


class ContactForm(forms.Form):
    """A call, text or email to the patient, logged from the case page."""

    method = forms.ChoiceField(choices=[("", "Choose…"), *ContactMethod.choices], label="Contacted the patient by")
    note = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 2}),
        required=False,
        max_length=4000,
        label="What happened (optional)",
        help_text="Internal: never emailed, never shown to the patient.",
    )
    version = forms.IntegerField(min_value=1, widget=forms.HiddenInput)


def staff_users():
    return get_user_model().objects.filter(is_active=True, is_staff=True).order_by("username")


class AssignForm(forms.Form):
    user = forms.ModelChoiceField(queryset=staff_users(), label="Assign to", empty_label="Choose…")
    version = forms.IntegerField(min_value=1, widget=forms.HiddenInput)

    def __init__(self, *args, case=None, **kwargs):
        super().__init__(*args, **kwargs)
        if case is not None and case.queue_id:
            # Offer the queue's members; the service still checks membership.
            self.fields["user"].queryset = staff_users().filter(queue_memberships__queue_id=case.queue_id)


class ReaderForm(forms.Form):
    """Name the clinician who reads: the queue's clinicians (the service checks)."""

    user = forms.ModelChoiceField(queryset=staff_users(), label="To be read by", empty_label="Choose…")
    version = forms.IntegerField(min_value=1, widget=forms.HiddenInput)

    def __init__(self, *args, case=None, **kwargs):
        kwargs.setdefault("auto_id", "id_reader_%s")  # the assign form beside it has id_user
        super().__init__(*args, **kwargs)
        if case is not None and case.queue_id:
            perm = Q(groups__permissions__codename="record_decision") | Q(user_permissions__codename="record_decision")
            self.fields["user"].queryset = (
                staff_users().filter(queue_memberships__queue_id=case.queue_id).filter(perm).distinct()
            )


class MoveQueueForm(forms.Form):
    queue = forms.ModelChoiceField(
        queryset=StaffQueue.objects.filter(is_active=True), label="Move to queue", empty_label="Choose…"
    )
    new_promise = forms.BooleanField(
        required=False,
        label="Give the patient the new queue's date",
        help_text="Unticked, the date promised to the patient stays. Ticked, it is the new queue's time from now "
        "and the patient is told there is an update.",
    )
    version = forms.IntegerField(min_value=1, widget=forms.HiddenInput)


class BulkActionForm(helpers.ActionForm):
    """The changelist's action bar, with the targets the bulk actions need."""

    assignee = forms.ModelChoiceField(
        queryset=staff_users(), required=False, label="Reassign to", empty_label="(for “Reassign”)"
    )
    target_queue = forms.ModelChoiceField(
        queryset=StaffQueue.objects.filter(is_active=True),
        required=False,
        label="Queue",
        empty_label="(for “Move to queue”)",
    )


class RoutingRuleForm(forms.ModelForm):
    """Conditions as fields: the JSON lists become checkboxes over the vocabularies."""

    if_regions = forms.MultipleChoiceField(
        choices=Region.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        label="Any of these regions",
        help_text="None ticked: any region.",
    )
    if_pain_durations = forms.MultipleChoiceField(
        choices=PainDuration.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        label="Pain duration is one of",
        help_text="None ticked: any duration.",
    )

    class Meta:
        model = RoutingRule
        fields = [
            "priority",
            "name",
            "is_active",
            "target_queue",
            "if_red_flag",
            "if_duplicate",
            "if_mri",
            "if_mri_older_than_months",
            "if_regions",
            "if_pain_durations",
            "if_min_severity",
            "if_language",
        ]

    def clean_if_regions(self):
        # Keep the vocabulary's order so rules read (and compare) the same way.
        chosen = set(self.cleaned_data["if_regions"])
        return [v for v in Region.values if v in chosen]

    def clean_if_pain_durations(self):
        chosen = set(self.cleaned_data["if_pain_durations"])
        return [v for v in PainDuration.values if v in chosen]
