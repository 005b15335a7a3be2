"""Database sessions, lean on the patient's hot path.

The patient's draft lives in a server-side session that every step reads and
writes, so each round trip and each ORM query compile shows in the intake's
throughput (bench/README.md). This store keeps Django's db backend (table,
encoding, expiry, creation, the UpdateError contract) and changes two things:

* an existing session is saved with one UPDATE in autocommit, instead of
  BEGIN, UPDATE, COMMIT;
* both the load and that UPDATE are plain parameterised SQL, skipping the
  ORM's per-query compile.
"""

from types import SimpleNamespace

from django.contrib.sessions.backends.base import UpdateError
from django.contrib.sessions.backends.db import SessionStore as DBStore
from django.db import connections, router
from django.utils import timezone

from clinic.dbretry import call_once_more_on_db_blip


class SessionStore(DBStore):
    """Loads and saves survive one dropped connection (a database restart):
    both are idempotent, so each is tried once more on a fresh connection."""

    def _db(self):
        return connections[router.db_for_write(self.model)]

    def _get_session_from_db(self):
        return call_once_more_on_db_blip(self._load_row)

    def _load_row(self):
        table = self.model._meta.db_table
        with self._db().cursor() as cursor:
            cursor.execute(
                f"SELECT session_data FROM {table} WHERE session_key = %s AND expire_date > %s",  # noqa: S608  (table name from the model, values bound)
                [self.session_key, timezone.now()],
            )
            row = cursor.fetchone()
        if row is None:
            self._session_key = None
            return None
        return SimpleNamespace(session_data=row[0])

    def save(self, must_create=False):
        return call_once_more_on_db_blip(self._save, must_create=must_create)

    def _save(self, must_create=False):
        if self.session_key is None or must_create:
            return super().save(must_create=must_create)
        obj = self.create_model_instance(self._get_session(no_load=False))
        table = self.model._meta.db_table
        with self._db().cursor() as cursor:
            cursor.execute(
                f"UPDATE {table} SET session_data = %s, expire_date = %s WHERE session_key = %s",  # noqa: S608
                [obj.session_data, obj.expire_date, obj.session_key],
            )
            updated = cursor.rowcount
        if not updated:
            raise UpdateError
