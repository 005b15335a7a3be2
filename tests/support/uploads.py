"""The upload endpoint as the page's script calls it, and what its answers must say."""

from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse


def post_file(client, name, data):
    return client.post(
        reverse("intake:upload"), {"file": SimpleUploadedFile(name, data)}, headers={"Accept": "application/json"}
    )


def refused(response, *words):
    """A 400 naming each of ``words``, and nothing stored."""
    from intake.models import MriFile

    body = response.json()
    assert response.status_code == 400 and body["ok"] is False, body
    assert MriFile.objects.count() == 0
    for word in words:
        assert word in body["error"], body["error"]
    return body["error"]
