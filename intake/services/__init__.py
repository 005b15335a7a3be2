"""Every write to a case goes through a function here (``<entity>_<action>``).

Views, admin actions, tasks and commands call these; nothing else changes a
case's status, queue or assignee.
"""

from .errors import CaseConflict, IllegalTransition, ServiceError  # noqa: F401
