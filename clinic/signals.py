"""Sign-ins and failed sign-ins go to the audit trail (no passwords, ever)."""

from django.contrib.auth.signals import user_logged_in, user_login_failed
from django.dispatch import receiver

from .models import AuditEntry, audit_record


@receiver(user_logged_in)
def _logged_in(sender, request, user, **kwargs):
    audit_record(action=AuditEntry.Action.LOGIN, summary="Signed in", actor=user, request=request)


@receiver(user_login_failed)
def _login_failed(sender, credentials, request=None, **kwargs):
    # The user name tried is kept (it is how lock-outs are investigated), the password never.
    name = str((credentials or {}).get("username", ""))[:60]
    audit_record(action=AuditEntry.Action.LOGIN_FAILED, summary=f"Failed sign-in as '{name}'", request=request)
