"""Writes to the stretching content. The admin, the seed and tests all come
through here, so a routine is never saved out of spine order and nothing is
published without a clinical review, whichever door the change came in by."""

from collections.abc import Sequence

from django.core.exceptions import ValidationError
from django.db import transaction

from .models import Content, Routine, RoutineStep, Stretch
from .rules import check_spine_order

# Gaps of 10 leave room to slot a stretch in between by hand in the admin.
STEP_GAP = 10


@transaction.atomic
def routine_set_steps(*, routine: Routine, stretches: Sequence[Stretch]) -> Routine:
    """Replace the routine's stretches with ``stretches``, in that order.

    Raises ``ValidationError`` naming the stretch that is out of spine order;
    nothing is changed then.
    """
    check_spine_order(stretches)
    routine.steps.all().delete()
    steps = [RoutineStep(routine=routine, stretch=s, order=i * STEP_GAP) for i, s in enumerate(stretches, start=1)]
    for step in steps:
        step.full_clean(exclude=["routine"], validate_unique=False, validate_constraints=False)
    RoutineStep.objects.bulk_create(steps)
    return routine


@transaction.atomic
def content_set_published(*, obj: Content, published: bool) -> Content:
    """Publish or unpublish one piece of content.

    Publishing checks what the public will see: a clinical review on the item
    and, for a routine, stretches in spine order that are themselves
    published (the public pages skip unpublished stretches, so a routine
    published ahead of them would silently miss steps).
    """
    obj = type(obj).objects.select_for_update().get(pk=obj.pk)
    if obj.is_published == published:
        return obj
    obj.is_published = published
    obj.full_clean()
    if published and isinstance(obj, Routine):
        routine_check_publishable(routine=obj)
    obj.save(update_fields=["is_published", "updated_at"])
    return obj


def routine_check_publishable(*, routine: Routine) -> None:
    """Raise ``ValidationError`` if the public should not see this routine yet."""
    stretches = [step.stretch for step in routine.steps.select_related("stretch").order_by("order")]
    if not stretches:
        raise ValidationError("Add at least one stretch before publishing this routine.", code="empty")
    check_spine_order(stretches)
    hidden = [s.name for s in stretches if not s.is_published]
    if hidden:
        raise ValidationError(
            "Publish these stretches first: %(names)s.", code="unpublished_steps", params={"names": ", ".join(hidden)}
        )


ILLUSTRATION_MAX_SIDE = 1600


def illustration_reencode(*, uploaded, slug: str):
    """A staff upload drawn again from its pixels: WebP, at most 1600 px a side,
    turned upright, with no EXIF, GPS, ICC or comment left from the original
    (a phone photo carries where and when it was taken). Returns a ContentFile
    with a fresh name; the original bytes are never stored."""
    import io
    import secrets

    from django.core.files.base import ContentFile
    from PIL import Image, ImageOps

    fh = uploaded.file if hasattr(uploaded, "file") else uploaded
    fh.seek(0)
    with Image.open(fh) as original:
        image = ImageOps.exif_transpose(original)
        has_alpha = image.mode in ("RGBA", "LA") or (image.mode == "P" and "transparency" in image.info)
        image = image.convert("RGBA" if has_alpha else "RGB")
        image.thumbnail((ILLUSTRATION_MAX_SIDE, ILLUSTRATION_MAX_SIDE))
        # A new image from the pixels alone: no info dictionary travels with it.
        clean = Image.frombytes(image.mode, image.size, image.tobytes())
    out = io.BytesIO()
    clean.save(out, format="WEBP", quality=85, method=4)
    return ContentFile(out.getvalue(), name=f"{slug}-{secrets.token_hex(4)}.webp")
