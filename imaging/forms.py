from django import forms
from django.utils.translation import gettext_lazy as _


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", MultipleFileInput())
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        single = super().clean
        if isinstance(data, (list, tuple)):
            return [single(d, initial) for d in data]
        return [single(data, initial)] if data else []


class AttachForm(forms.Form):
    """Staff attach images that arrived later (CD, email). Checked like an upload."""

    files = MultipleFileField(
        required=False,
        label=_("Files"),
        help_text=_("DICOM files, a ZIP of DICOM files, JPEG, PNG or a PDF report."),
    )
    reason = forms.CharField(
        required=False,
        max_length=300,
        label=_("Reason (if no file)"),
        help_text=_("For example: films seen at the imaging centre."),
    )

    def clean(self):
        data = super().clean()
        if not data.get("files") and not (data.get("reason") or "").strip():
            raise forms.ValidationError(_("Attach at least one file, or say why the MRI counts as received."))
        return data


class DetachForm(forms.Form):
    sure = forms.BooleanField(required=True, label=_("These images are not this patient's"))
