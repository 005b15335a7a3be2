class ServiceError(Exception):
    """A change that the rules of the clinic refuse, with a message for staff."""


class IllegalTransition(ServiceError):
    pass


class CaseConflict(ServiceError):
    """Someone else changed the case first (optimistic concurrency)."""
