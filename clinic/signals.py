"""Sign-ins and failed sign-ins go to the audit trail (no passwords, ever)."""

from django.contrib.auth.signals import user_logged_in, user_login_failed
from django.dispatch import receiver

from .models import AuditEntry, audit_fingerprint, audit_record


@receiver(user_logged_in)
def _logged_in(sender, request, user, **kwargs):
    audit_record(action=AuditEntry.Action.LOGIN, summary="Signed in", actor=user, request=request)


@receiver(user_login_failed)
def _login_failed(sender, credentials, request=None, **kwargs):
    audit_record(action=AuditEntry.Action.LOGIN_FAILED, request=request, **_who_failed(credentials))


def _who_failed(credentials) -> dict:
    """Never the typed text itself: people type passwords into the user name
    box. A name that is a staff account is that account (how lock-outs are
    investigated); anything else is "an unknown user" with a keyed hash of what
    was typed, so repeated tries of one string can be told apart and matched
    against a suspicion, but not read back."""
    from django.contrib.auth import get_user_model

    typed = str((credentials or {}).get("username", ""))
    user = (
        get_user_model()._default_manager.filter(**{get_user_model().USERNAME_FIELD: typed}).first() if typed else None
    )
    if user is not None:
        return {"summary": "Failed sign-in", "object_type": "user", "object_ref": str(user.pk)}
    fingerprint = audit_fingerprint("sign-in name", typed)
    return {"summary": f"Failed sign-in as an unknown user (name hash {fingerprint})"}
