"""PostgreSQL with a deadline on every answer: the production database ENGINE.

``ENGINE = "clinic.dbengine"`` is Django's PostgreSQL backend (psycopg 3) plus
one client-side limit, ``OPTIONS["answer_timeout"]`` (clinic.dbengine.base).
The settings and their reasons are in clinic/settings/production.py.
"""

from .timeouts import longer_statements

__all__ = ["longer_statements"]
