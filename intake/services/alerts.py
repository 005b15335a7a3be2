"""Alerts about the clinic's own systems, raised once per problem.

A full MRI disk affects every patient who uploads; staff need one message
about it, not one per upload. ``system_alert_raise`` records the problem under
a key (the problem and the hour it was seen in); the unique key makes "once"
hold across web processes and machines, and later sightings only count up.
Supervisors (and ADMINS) get the email through a task, after commit, sent at
most once. Alerts never carry health data: what broke, when, what to do.
"""

import logging

from django.conf import settings
from django.core.mail import send_mail
from django.db import DatabaseError, transaction
from django.db.models import F

from .. import clock
from ..models import SystemAlert
from .dispatch import CELERY_URGENT, enqueue_on_commit

log = logging.getLogger(__name__)


def system_alert_raise(*, key: str, subject: str, body: str) -> bool:
    """Record a problem; True if this is its first sighting under ``key``."""
    from ..tasks import send_system_alert

    try:
        with transaction.atomic():
            now = clock.now()
            alert, created = SystemAlert.objects.get_or_create(
                key=key[:120], defaults={"subject": subject[:200], "body": body, "created_at": now, "last_seen_at": now}
            )
            if not created:
                SystemAlert.objects.filter(pk=alert.pk).update(occurrences=F("occurrences") + 1, last_seen_at=now)
                return False
            enqueue_on_commit(send_system_alert, alert.pk, celery_queue=CELERY_URGENT)
    except DatabaseError as exc:
        # The database is down too: the log is the last place left to say it.
        log.error("system alert not recorded (%s): %s", type(exc).__name__, subject)
        return False
    log.error("system alert raised: %s", subject)
    return True


def storage_failure_alert(exc: BaseException) -> bool:
    """A patient's upload could not be stored: tell staff once an hour."""
    hour = clock.now().strftime("%Y%m%d%H")
    return system_alert_raise(
        key=f"mri-storage:{hour}",
        subject="MRI uploads are failing: file storage unavailable",
        body=(
            "Patients' MRI uploads could not be saved because the clinic's file storage failed "
            f"({type(exc).__name__}: {getattr(exc, 'strerror', None) or 'see the web server log'}). "
            "Patients are told the problem is on our side and offered 'my imaging centre will send it'.\n"
            "Check the free space of the MRI storage (INTAKE_PRIVATE_ROOT, the bucket, or the upload "
            "temporary folder) and the web server's log. Further failures this hour are counted on the alert "
            "in the admin, not emailed again."
        ),
    )


def unsafe_file_alert(*, mri_file_id: int, case_reference: str, problem: str) -> bool:
    """A stored MRI file could not be shown safely (too large, its decoder died,
    or worker processes died on it): tell staff once per file. The file's number
    and case reference only; ``problem`` is the plain reason the viewer shows."""
    where = f" of case {case_reference}" if case_reference else ""
    return system_alert_raise(
        key=f"mri-unsafe-file:{mri_file_id}",
        subject=f"An MRI file cannot be shown safely (file #{mri_file_id})",
        body=(
            f"MRI file #{mri_file_id}{where} was not decoded: {problem}\n"
            "No server process was harmed: the file was refused before or during decoding in the "
            "viewer's decoder cage, and staff see 'cannot be shown' with the reason. Ask the patient "
            "or the imaging centre for the images again (a CD or a new export), or attach them by hand. "
            "Further sightings are counted on this alert in the admin, not emailed again."
        ),
    )


def system_alert_send(*, alert_id: int) -> bool:
    """Email an alert to supervisors and ADMINS, at most once (claim, then send)."""
    from .notifications import supervisors

    claimed = SystemAlert.objects.filter(pk=alert_id, sent_at__isnull=True).update(sent_at=clock.now())
    if not claimed:
        return False
    alert = SystemAlert.objects.get(pk=alert_id)
    recipients = sorted({u.email for u in supervisors()} | {a if isinstance(a, str) else a[1] for a in settings.ADMINS})
    if recipients:
        send_mail(f"[clinic] {alert.subject}", alert.body, settings.DEFAULT_FROM_EMAIL, recipients)
    return True
