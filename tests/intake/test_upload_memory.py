"""A large upload streams to disk: the server's memory stays flat (bounded by
a small multiple of the chunk size, not by the file's size)."""

import http.client
import re
import tracemalloc
import urllib.parse

import pytest

from intake.models import MriFile

from .corpus import PDF
from .helpers import SAFETY_NO

pytestmark = pytest.mark.django_db(transaction=True)

SIZE = 90 * 1024 * 1024  # just under the default 100 MB per-file limit


def _cookies(response, jar):
    for header, value in response.getheaders():
        if header.lower() == "set-cookie":
            name, val = value.split(";", 1)[0].split("=", 1)
            jar[name] = val


def test_a_90_mb_upload_keeps_server_memory_flat(live_server, tmp_path, settings):
    settings.FILE_UPLOAD_TEMP_DIR = str(tmp_path)
    host, port = urllib.parse.urlsplit(live_server.url).netloc.split(":")
    jar = {}

    def request(method, path, body=None, headers=None):
        conn = http.client.HTTPConnection(host, int(port), timeout=120)
        hdrs = {"Cookie": "; ".join(f"{k}={v}" for k, v in jar.items()), **(headers or {})}
        conn.request(method, path, body=body, headers=hdrs)
        response = conn.getresponse()
        data = response.read()
        _cookies(response, jar)
        conn.close()
        return response, data

    request("GET", "/mri-review/")
    form = urllib.parse.urlencode({**SAFETY_NO, "csrfmiddlewaretoken": jar["csrftoken"]})
    response, _ = request("POST", "/mri-review/", form, {"Content-Type": "application/x-www-form-urlencoded"})
    assert response.status == 302

    boundary = "----memorytest"
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="csrfmiddlewaretoken"\r\n\r\n{jar["csrftoken"]}\r\n'
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="big.pdf"\r\n'
        "Content-Type: application/pdf\r\n\r\n"
    ).encode()
    tail = f"\r\n--{boundary}--\r\n".encode()
    body_len = SIZE - len(PDF)
    chunk = b"0" * (1024 * 1024)

    def body():
        yield head
        yield PDF[:-7]  # the PDF's header and objects
        sent = 0
        while sent < body_len:
            n = min(len(chunk), body_len - sent)
            yield chunk[:n]
            sent += n
        yield b"\n%%EOF\n"
        yield tail

    length = len(head) + len(PDF) - 7 + body_len + 7 + len(tail)
    tracemalloc.start()
    try:
        response, data = request(
            "POST", "/mri-review/upload/", body(),
            {"Content-Type": f"multipart/form-data; boundary={boundary}", "Content-Length": str(length),
             "Accept": "application/json", "X-CSRFToken": jar["csrftoken"]},
        )  # fmt: skip
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert response.status == 200, data[:300]
    f = MriFile.objects.get()
    assert f.size == SIZE - len(PDF) + len(PDF)  # every byte arrived
    assert re.fullmatch(r"[0-9a-f]{64}", f.sha256)
    # Both sides of the loopback live in this process; together they stay far below the file's size.
    assert peak < 24 * 1024 * 1024, f"peak traced memory {peak / 1e6:.0f} MB for a {SIZE / 1e6:.0f} MB upload"
