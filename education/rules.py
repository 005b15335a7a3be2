"""Pure rules about content, with no database access: easy to test, used by
the admin, the services and the seed alike."""

from collections.abc import Iterable

from django.core.exceptions import ValidationError

from .choices import SpineRegion


def check_spine_order(stretches: Iterable) -> None:
    """Raise ``ValidationError`` naming the first stretch that breaks spine order.

    ``stretches`` is the routine's stretches in the order they will be done;
    each needs ``name`` and ``region``. Stretches of the same region may come
    in any order among themselves: only a step back up the spine is refused.
    """
    previous = None
    for position, stretch in enumerate(stretches, start=1):
        if previous is not None and stretch.region < previous.region:
            raise ValidationError(
                "“%(name)s” (%(region)s, step %(position)s) is out of place: it comes after "
                "“%(previous)s” (%(previous_region)s). A routine runs from the neck down, "
                "so move “%(name)s” earlier.",
                code="spine_order",
                params={
                    "name": stretch.name,
                    "region": SpineRegion(stretch.region).label.lower(),
                    "position": position,
                    "previous": previous.name,
                    "previous_region": SpineRegion(previous.region).label.lower(),
                },
            )
        previous = stretch
