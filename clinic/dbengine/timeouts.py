"""Longer database limits for the few jobs whose single statements may run long."""

import contextlib

from django.db import connections


@contextlib.contextmanager
def longer_statements(seconds: float, using: str = "default"):
    """Within the block, this process's connection allows statements of up to
    ``seconds`` (PostgreSQL's ``statement_timeout`` and the client-side answer
    deadline, clinic.dbengine.base), instead of the web's short limits.

    For beat's housekeeping (the retention purge, clearing expired sessions):
    nobody waits on them, and a first run over a large backlog may delete for
    longer than a page ever should. Anything else keeps the short limits.
    """
    conn = connections[using]
    if conn.vendor != "postgresql":
        yield
        return
    conn.ensure_connection()
    raw = conn.connection
    saved = getattr(raw, "answer_timeout", None)
    with conn.cursor() as cursor:
        cursor.execute("SELECT set_config('statement_timeout', %s, false)", [f"{int(seconds * 1000)}ms"])
    if saved:
        raw.answer_timeout = seconds + 5
    try:
        yield
    finally:
        raw.answer_timeout = saved
        if conn.connection is raw and not raw.closed:
            try:
                with conn.cursor() as cursor:
                    # Back to the value the connection started with (its options).
                    cursor.execute("RESET statement_timeout")
            except Exception:  # noqa: BLE001  (a connection that cannot reset is not kept)
                conn.close()
