"""Bulk changes from the admin: a loop over the single-case services.

Nothing here writes a case itself. Each case goes through the same service a
single edit uses (its own transaction, lock, version check and event), so bulk
and single edits cannot behave differently (the django-helpdesk warning in
STYLE.md). A case the service refuses is skipped with the service's reason;
the others still change.
"""

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from ..models import ReviewRequest
from ..transitions import DECISIONS, Status
from .errors import ServiceError
from .lifecycle import case_assign, case_move_queue, case_transition


@dataclass
class BulkResult:
    """What a bulk action did, by case reference."""

    changed: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (reference, reason)

    def summary(self, done: str) -> str:
        """One PHI-free sentence for ``messages``: counts and references only."""
        parts = [f"{len(self.changed)} case(s) {done}."]
        if self.unchanged:
            parts.append(f"{len(self.unchanged)} already so: {', '.join(self.unchanged)}.")
        if self.skipped:
            parts.append(
                f"{len(self.skipped)} skipped: " + " ".join(f"{ref}: {reason}" for ref, reason in self.skipped)
            )
        return " ".join(parts)


def _each(case_ids: Iterable[int], call: Callable[[int, int], ReviewRequest]) -> BulkResult:
    result = BulkResult()
    rows = ReviewRequest.objects.filter(pk__in=list(case_ids)).order_by("created_at", "pk")
    for pk, reference, version in rows.values_list("pk", "reference", "version"):
        try:
            # The version read a moment ago: a case someone changed in between
            # is skipped (CaseConflict) rather than overwritten.
            case = call(pk, version)
        except ServiceError as exc:
            result.skipped.append((reference, str(exc)))
            continue
        (result.changed if case.version != version else result.unchanged).append(reference)
    return result


def cases_bulk_assign(*, case_ids: Iterable[int], user, actor) -> BulkResult:
    """Assign each case to ``user`` through ``case_assign``."""
    return _each(case_ids, lambda pk, v: case_assign(case_id=pk, user=user, actor=actor, expected_version=v))


def cases_bulk_move_queue(*, case_ids: Iterable[int], queue, actor) -> BulkResult:
    """Move each case to ``queue`` through ``case_move_queue``."""
    return _each(case_ids, lambda pk, v: case_move_queue(case_id=pk, queue=queue, actor=actor, expected_version=v))


def cases_bulk_transition(*, case_ids: Iterable[int], to_status: str, actor) -> BulkResult:
    """Move each case to ``to_status`` through ``case_transition``.

    Decisions are never taken in bulk: each needs its own reason and note.
    """
    if to_status in DECISIONS:
        raise ValueError(f"{Status(to_status).label} is a clinical decision; record it case by case.")
    return _each(
        case_ids, lambda pk, v: case_transition(case_id=pk, to_status=to_status, actor=actor, expected_version=v)
    )
