"""Checks on uploaded stretch illustrations.

Illustrations are public content, but they are still files from a browser:
the type is decided by content (Pillow), never by name, and size and pixel
count are capped before anything is decoded.
"""

from django.core.exceptions import ValidationError
from django.template.defaultfilters import filesizeformat
from PIL import Image, UnidentifiedImageError

ILLUSTRATION_MAX_BYTES = 5 * 1024 * 1024
ILLUSTRATION_MAX_PIXELS = 25_000_000
ILLUSTRATION_FORMATS = {"PNG": "PNG", "JPEG": "JPEG", "WEBP": "WebP"}


def validate_illustration(value) -> None:
    # An unchanged, already stored file was checked when it was uploaded;
    # re-reading it on every save would only fail if the disk changed.
    if getattr(value, "_committed", False):
        return
    if value.size > ILLUSTRATION_MAX_BYTES:
        raise ValidationError(
            "This picture is %(size)s; the largest we accept is %(limit)s.",
            code="too_big",
            params={"size": filesizeformat(value.size), "limit": filesizeformat(ILLUSTRATION_MAX_BYTES)},
        )
    fh = value.file if hasattr(value, "file") else value
    fh.seek(0)
    try:
        # Image.open reads only the header: format and size are known before
        # any pixel is decoded, so a decompression bomb is refused cheaply.
        with Image.open(fh) as image:
            kind = image.format
            width, height = image.size
            if kind not in ILLUSTRATION_FORMATS:
                raise ValidationError("Please upload a PNG, JPEG or WebP picture.", code="bad_type")
            if width * height > ILLUSTRATION_MAX_PIXELS:
                raise ValidationError(
                    "This picture is %(w)s × %(h)s pixels; the most we accept is 25 megapixels.",
                    code="too_many_pixels",
                    params={"w": width, "h": height},
                )
            image.verify()
    except (UnidentifiedImageError, OSError, SyntaxError, Image.DecompressionBombError):
        raise ValidationError(
            "This file is not a picture we can read. Please upload a PNG, JPEG or WebP.", code="bad_type"
        )
    finally:
        fh.seek(0)
