"""Celery beat, watched: its ticks and the work it schedules leave a heartbeat.

Beat is one process for the whole installation (two would send every periodic
task twice), so when it stops, the outbox sweep, SLA escalation, the audit
anchors and the purges stop with it, and nothing else notices. Two heartbeats
in the shared database say it:

* ``beat``: the scheduler itself, at most every ``INTAKE_BEAT_HEARTBEAT_SECONDS``
  as it ticks (``Scheduler`` below, named by CELERY_BEAT_SCHEDULER, so any way
  of starting beat gets it);
* ``periodic``: ``clinic.tasks.beat_heartbeat``, scheduled by beat and run by a
  worker, so it also shows that scheduled work reaches a worker.

``beat_status`` reads both for ``/healthz/beat`` (clinic.health): each is
"ok" when written within ``INTAKE_BEAT_STALE_SECONDS``, else "stale" or "never".
"""

import logging
import time
from datetime import timedelta

from celery.beat import PersistentScheduler
from django.conf import settings
from django.db.models.functions import Now

log = logging.getLogger(__name__)

BEAT = "beat"
PERIODIC = "periodic"


def heartbeat_record(name: str) -> None:
    from .models import Heartbeat

    Heartbeat.objects.update_or_create(name=name, defaults={"at": Now()})


def beat_status() -> dict[str, str]:
    """``{"beat": "ok" | "stale" | "never", "periodic": ...}`` from the database."""
    from .models import Heartbeat

    stale_after = timedelta(seconds=settings.INTAKE_BEAT_STALE_SECONDS)
    seen = dict(Heartbeat.objects.filter(name__in=(BEAT, PERIODIC)).values_list("name", "name"))
    fresh = set(
        Heartbeat.objects.filter(name__in=(BEAT, PERIODIC), at__gte=Now() - stale_after).values_list("name", flat=True)
    )
    return {name: "ok" if name in fresh else ("stale" if name in seen else "never") for name in (BEAT, PERIODIC)}


class Scheduler(PersistentScheduler):
    """Celery's default scheduler, recording a ``beat`` heartbeat as it ticks.

    A failed write (the database restarting) is logged and tried again on a
    later tick; it never stops beat."""

    _last_heartbeat = 0.0

    def tick(self, *args, **kwargs):
        interval = super().tick(*args, **kwargs)
        if time.monotonic() - self._last_heartbeat >= settings.INTAKE_BEAT_HEARTBEAT_SECONDS:
            try:
                heartbeat_record(BEAT)
                self._last_heartbeat = time.monotonic()
            except Exception as exc:  # noqa: BLE001  (beat must keep scheduling whatever the database does)
                log.warning("beat heartbeat not recorded: %s", type(exc).__name__)
                from django.db import close_old_connections

                close_old_connections()
        return min(interval, settings.INTAKE_BEAT_HEARTBEAT_SECONDS)
