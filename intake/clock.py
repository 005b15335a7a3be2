"""One clock for every process: the database's.

Routing times, SLA due times, pauses and escalation are compared across the
web server, every worker and beat, which may run on different machines. A
worker whose clock ran ten minutes fast escalated cases before their SLA had
passed, and ten minutes slow it escalated none (issue 11). So the services
take "now" from the database server, which all of them share.

On SQLite the database is a file on this machine: its clock is this
machine's, read by SQLite itself.
"""

import logging
from datetime import UTC, datetime, timedelta

from django.db import connection
from django.utils import timezone

log = logging.getLogger(__name__)

MAX_SKEW = timedelta(seconds=60)


def now() -> datetime:
    """The current time on the database server (aware, UTC)."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # statement_timestamp(): this statement's time, not the enclosing
            # transaction's start (now() would stand still in a long one).
            cursor.execute("SELECT statement_timestamp()")
            (value,) = cursor.fetchone()
            return value.astimezone(UTC)
        if connection.vendor == "sqlite":
            # SQLite's own reading of the OS clock (in-process, no round trip).
            cursor.execute("SELECT strftime('%Y-%m-%dT%H:%M:%f', 'now')")
            (value,) = cursor.fetchone()
            return datetime.fromisoformat(value).replace(tzinfo=UTC)
    return timezone.now()


def skew() -> timedelta:
    """How far this process's clock is ahead of the database's (negative: behind)."""
    return timezone.now() - now()


def check_skew() -> timedelta | None:
    """Log an error when this machine's clock is off by more than a minute.

    Nothing depends on the local clock being right (the services use
    ``now()``), but logs, Celery ETAs and beat's schedule do, so a bad clock
    is reported at start-up for someone to fix.
    """
    try:
        off = skew()
    except Exception as exc:  # noqa: BLE001  (the database may be down at start-up; the tasks will say so)
        log.warning("clock check skipped: database unavailable (%s)", type(exc).__name__)
        return None
    if abs(off) > MAX_SKEW:
        log.error(
            "this machine's clock is %+.0f s off the database's; fix NTP. "
            "SLA and escalation use the database's clock and are not affected.",
            off.total_seconds(),
        )
    return off
