"""Stretch illustrations: PNG, JPEG or WebP by content, 5 MB, 25 megapixels."""

import io

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from education.models import Stretch
from education.validators import ILLUSTRATION_MAX_BYTES, validate_illustration


def image_bytes(fmt, size=(40, 30), mode="RGB"):
    buf = io.BytesIO()
    Image.new(mode, size, "white").save(buf, format=fmt)
    return buf.getvalue()


@pytest.mark.parametrize("fmt", ["PNG", "JPEG", "WEBP"])
def test_png_jpeg_and_webp_are_accepted(fmt):
    validate_illustration(SimpleUploadedFile("x.img", image_bytes(fmt)))


@pytest.mark.parametrize(
    "name,data",
    [
        ("pic.png", image_bytes("GIF")),
        ("pic.png", image_bytes("BMP")),
        ("pic.jpg", b"<svg xmlns='http://www.w3.org/2000/svg'><script>alert(1)</script></svg>"),
        ("pic.webp", b"just some text, not a picture"),
    ],
)
def test_other_content_is_refused_whatever_its_name(name, data):
    with pytest.raises(ValidationError):
        validate_illustration(SimpleUploadedFile(name, data))


def test_files_over_5_mb_are_refused():
    data = image_bytes("PNG") + b"\0" * ILLUSTRATION_MAX_BYTES
    with pytest.raises(ValidationError, match="largest we accept"):
        validate_illustration(SimpleUploadedFile("big.png", data))


def test_pictures_over_25_megapixels_are_refused():
    data = image_bytes("PNG", size=(6000, 5000), mode="1")  # 30 MP, but a small file
    assert len(data) < ILLUSTRATION_MAX_BYTES
    with pytest.raises(ValidationError, match="25 megapixels"):
        validate_illustration(SimpleUploadedFile("wide.png", data))


@pytest.mark.django_db
def test_an_illustration_is_stored_under_stretches_and_shown_with_its_description(client, make_stretch, settings):
    stretch = make_stretch("Pictured", illustration_alt="A person tucking their chin.")
    stretch.illustration = SimpleUploadedFile("pic.png", image_bytes("PNG"))
    stretch.full_clean()
    stretch.save()
    assert stretch.illustration.name.startswith("stretches/")
    html = client.get(stretch.get_absolute_url()).content.decode()
    assert f'src="{settings.MEDIA_URL}{stretch.illustration.name}" alt="A person tucking their chin."' in html


@pytest.mark.django_db
def test_an_illustration_needs_a_description(make_stretch):
    stretch = make_stretch("No alt")
    stretch.illustration = SimpleUploadedFile("pic.png", image_bytes("PNG"))
    with pytest.raises(ValidationError) as exc:
        stretch.full_clean()
    assert "illustration_alt" in exc.value.message_dict
    assert not Stretch.objects.get(pk=stretch.pk).illustration
