"""A database blip (a restart, a dropped connection) is not the patient's problem.

Patient views that are safe to run twice are wrapped in ``retry_once_on_db_blip``:
the first failure closes the broken connections and runs the view once more on
fresh ones. Safe to run twice means: whatever the first run wrote is found by
the second (the final step carries the draft's submission key, so a case saved
before the failure is returned, not made again). Whatever still fails reaches
``clinic.views.server_error``, which answers 503 "nothing was lost, please try
again" instead of a generic 500.
"""

import errno
import functools
import logging

from django.db import InterfaceError, OperationalError, connections

log = logging.getLogger(__name__)

DB_BLIPS = (OperationalError, InterfaceError)


def is_db_blip(exc: BaseException | None) -> bool:
    return isinstance(exc, DB_BLIPS)


def is_storage_full(exc: BaseException | None) -> bool:
    while exc is not None:
        if isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT):
            return True
        exc = exc.__cause__ or exc.__context__
    return False


def in_transaction() -> bool:
    return any(c.in_atomic_block for c in connections.all(initialized_only=True))


def close_broken_connections() -> None:
    """Drop every open connection; the next query opens a fresh one."""
    for conn in connections.all(initialized_only=True):
        try:
            conn.close()
        except Exception:  # noqa: BLE001, S110  (closing a dead connection may fail too; it is gone either way)
            pass


def retry_once_on_db_blip(view):
    @functools.wraps(view)
    def wrapped(request, *args, **kwargs):
        try:
            return view(request, *args, **kwargs)
        except DB_BLIPS as exc:
            if in_transaction():
                raise  # inside someone's transaction: its owner decides
            log.warning("database connection failed (%s); running the view once more", type(exc).__name__)
            close_broken_connections()
            return view(request, *args, **kwargs)

    return wrapped


def call_once_more_on_db_blip(func, *args, **kwargs):
    """Run ``func`` and, if the connection broke outside a transaction, once more."""
    try:
        return func(*args, **kwargs)
    except DB_BLIPS:
        if in_transaction():
            raise
        close_broken_connections()
        return func(*args, **kwargs)
