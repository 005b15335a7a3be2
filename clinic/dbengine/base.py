"""Django's PostgreSQL backend, with a client-side deadline on every answer.

The server's own limits (``statement_timeout``, ``lock_timeout``,
``idle_in_transaction_session_timeout``, set per connection in the production
settings) end slow statements, lock waits and abandoned transactions, and
``connect_timeout`` bounds a new connection. None of them helps when the
database server is frozen (stopped, swapping to death, a hung storage volume):
its kernel still accepts our bytes, nothing answers, and a web worker waits on
its socket for ever, so the patient gets no page at all and the worker is
killed by gunicorn's timeout. Here every wait for the server's answer gives up
after ``answer_timeout`` seconds: the connection is closed (its state is
unknown) and an ``OperationalError`` is raised, which the patient sees as the
503 "nothing you sent was lost" page (clinic.dbretry, clinic.views), and the
next request opens a fresh connection. The deadline is longer than the
statement timeout, so a slow statement is still ended by the server first,
cleanly. The health check's ping (CONN_HEALTH_CHECKS) gets a short deadline of
its own.

psycopg 3 waits through ``Connection.wait(gen, interval, timeout)``; a
connection subclass supplies the deadline as its default ``timeout``.
"""

import psycopg
from django.db.backends.postgresql import base

# The ping before a request's first query reuses a kept connection: a server
# that cannot answer "SELECT 1" within this is treated as gone.
PING_TIMEOUT = 2.0


class DeadlineConnection(psycopg.Connection):
    """A psycopg connection whose waits for the server end after
    ``answer_timeout`` seconds (an instance attribute; None or 0: no limit)."""

    answer_timeout: float | None = None

    def wait(self, gen, *args, **kwargs):
        explicit = kwargs.get("timeout") is not None or len(args) >= 2
        if explicit or not self.answer_timeout:
            return super().wait(gen, *args, **kwargs)
        try:
            return super().wait(gen, *args, timeout=self.answer_timeout, **kwargs)
        except psycopg.errors._WaitTimeout:
            # Mid-exchange with a server that stopped answering: the connection
            # cannot be used again. Closing it sends nothing that waits.
            self.pgconn.finish()
            raise psycopg.OperationalError(
                f"the database did not answer within {self.answer_timeout:g} s; connection closed"
            ) from None


class DatabaseWrapper(base.DatabaseWrapper):
    def get_connection_params(self):
        params = super().get_connection_params()
        self.answer_timeout = params.pop("answer_timeout", None)
        return params

    def get_new_connection(self, conn_params):
        connection = super().get_new_connection(conn_params)
        # Django opens connections with psycopg.connect (or its pool); the
        # subclass only adds the wait above and has the same layout.
        connection.__class__ = DeadlineConnection
        connection.answer_timeout = self.answer_timeout
        return connection

    def is_usable(self):
        connection = self.connection
        saved = getattr(connection, "answer_timeout", None)
        if saved:
            connection.answer_timeout = min(saved, PING_TIMEOUT)
        try:
            return super().is_usable()
        finally:
            connection.answer_timeout = saved
