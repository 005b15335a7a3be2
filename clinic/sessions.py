"""Database sessions that save an existing session in one statement.

Django's db backend wraps every save in a transaction (BEGIN, UPDATE,
COMMIT): three round trips on each step of the patient's request. An
existing session needs only the UPDATE, in autocommit. Creation and the
error contract (UpdateError when the row is gone) stay Django's.
"""

from django.contrib.sessions.backends.base import UpdateError
from django.contrib.sessions.backends.db import SessionStore as DBStore


class SessionStore(DBStore):
    def save(self, must_create=False):
        if self.session_key is None or must_create:
            return super().save(must_create=must_create)
        obj = self.create_model_instance(self._get_session(no_load=False))
        updated = self.model.objects.filter(session_key=obj.session_key).update(
            session_data=obj.session_data, expire_date=obj.expire_date
        )
        if not updated:
            raise UpdateError
