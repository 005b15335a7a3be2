"""The staff sign-in form with a second factor, answering every failure alike.

django-otp's admin form checks the password first and only then the code: a
right password with a wrong code came back with another message, the user's
devices listed and the password kept in its box, so the form told whoever
tried a password that it was right. Here the user name, password and code are
one answer: any failure shows the same message, the same empty form, and counts
as a failed sign-in (django-axes locks out after either; the audit trail
records both), so neither the page nor the lock-out tells which part was wrong.

Staff have one authenticator app each (``enrol_totp``), so the device is
chosen for them: no list of devices to reveal.
"""

from django.contrib.auth.signals import user_login_failed
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from django_otp import devices_for_user
from django_otp.admin import OTPAdminAuthenticationForm

# The same single choice for everyone, before and after any attempt.
DEVICE_CHOICES = [("", _("Authenticator app"))]


class UniformOTPAdminAuthenticationForm(OTPAdminAuthenticationForm):
    error_messages = {
        **OTPAdminAuthenticationForm.error_messages,
        "invalid_login": _(
            "Please enter the correct user name, password and authentication code for a staff account. "
            "Note that the user name and password may be case-sensitive."
        ),
    }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["otp_device"].widget.choices = DEVICE_CHOICES

    def _chosen_device(self, user):
        chosen = super()._chosen_device(user)  # a device of this user only (django-otp's check)
        if chosen is not None:
            return chosen
        return next(iter(devices_for_user(user, confirmed=True)), None)

    def clean(self):
        try:
            return super().clean()
        except ValidationError:
            password_was_right = self.user_cache is not None
            self.user_cache = None
            self.fields["otp_device"].widget.choices = DEVICE_CHOICES
            self.fields["password"].widget.render_value = False
            if password_was_right:
                # A wrong password sends this from authenticate(); a wrong code must too.
                user_login_failed.send(
                    sender=__name__,
                    credentials={"username": self.cleaned_data.get("username", "")},
                    request=self.request,
                )
            raise ValidationError(self.error_messages["invalid_login"], code="invalid_login") from None
