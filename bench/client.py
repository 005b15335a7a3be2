"""A patient's complete request over plain HTTP: the six step POSTs with one
session, as a browser sends them (CSRF cookie + csrfmiddlewaretoken field +
X-CSRFToken header). Used by the route-latency generator, the memory run and
the load test. The step payloads come from tests/intake/helpers.py; each
submission gets its own email, phone and date of birth so that the duplicate
check does not turn every case into a duplicate of the first."""

from __future__ import annotations

import http.client
import random
import sys
import time
import urllib.parse
from dataclasses import dataclass, field
from http.cookies import SimpleCookie

from common import REPO

sys.path.insert(0, str(REPO))
from tests.intake import helpers  # noqa: E402  (the repo root is added just above)

SESSION_COOKIE = "__Host-sessionid"
CSRF_COOKIE = "__Host-csrftoken"
STEP_PATHS = [("safety", "/mri-review/")] + [
    (name, f"/mri-review/step/{name}/") for name in ("contact", "pain", "history", "mri", "consent")
]
PAYLOADS = {name: data for name, data in helpers.STEPS} | {"consent": helpers.CONSENT}
# Where each step's POST must redirect to.
NEXT = {
    "safety": "/mri-review/step/contact/",
    "contact": "/mri-review/step/pain/",
    "pain": "/mri-review/step/history/",
    "history": "/mri-review/step/mri/",
    "mri": "/mri-review/step/consent/",
    "consent": "/mri-review/submitted/",
}


def identity(rng: random.Random, tag: str) -> dict:
    """A fresh patient: unique email, random valid phone and date of birth."""
    return {
        "email": f"pat.{tag}@example.com",
        "phone": f"(312) 2{rng.randint(0, 99):02d}-{rng.randint(0, 9999):04d}",
        "date_of_birth": f"{rng.randint(1940, 1999)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}",
    }


def step_bodies(ident: dict) -> list[tuple[str, str, dict]]:
    """(step name, path, payload) for the six steps."""
    out = []
    for name, path in STEP_PATHS:
        data = dict(PAYLOADS[name])
        if name == "contact":
            data.update(ident)
        out.append((name, path, data))
    return out


@dataclass
class Result:
    ok: bool
    statuses: list[int] = field(default_factory=list)
    error: str = ""
    seconds: float = 0.0


class Walker:
    """One patient's browser: a CSRF cookie kept across submissions, a new
    session per submission. One TCP connection per request (gunicorn's sync
    workers close the connection after each response anyway)."""

    def __init__(self, host: str, port: int, timeout: float = 30.0, retries_on_503: int = 0, retry_pause: float = 1.0):
        self.host, self.port, self.timeout = host, port, timeout
        self.retries_on_503, self.retry_pause = retries_on_503, retry_pause
        # Production's cookie names; `make run` (local settings) uses Django's plain ones.
        self.session_cookie, self.csrf_cookie = SESSION_COOKIE, CSRF_COOKIE
        self.csrf: str | None = None
        self.session: str | None = None

    def plain_cookies(self) -> Walker:
        self.session_cookie, self.csrf_cookie = "sessionid", "csrftoken"
        return self

    def _request(self, method: str, path: str, body: str | None = None) -> tuple[int, dict, bytes]:
        conn = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
        try:
            headers = {"Host": f"{self.host}:{self.port}", "User-Agent": "bench-walker/1"}
            cookies = []
            if self.csrf:
                cookies.append(f"{self.csrf_cookie}={self.csrf}")
                headers["X-CSRFToken"] = self.csrf
            if self.session:
                cookies.append(f"{self.session_cookie}={self.session}")
            if cookies:
                headers["Cookie"] = "; ".join(cookies)
            if body is not None:
                headers["Content-Type"] = "application/x-www-form-urlencoded"
            conn.request(method, path, body=body, headers=headers)
            resp = conn.getresponse()
            data = resp.read()
            for raw in resp.headers.get_all("Set-Cookie") or []:
                jar = SimpleCookie()
                jar.load(raw)
                if self.csrf_cookie in jar:
                    self.csrf = jar[self.csrf_cookie].value
                if self.session_cookie in jar:
                    self.session = jar[self.session_cookie].value or None
            return resp.status, dict(resp.headers.items()), data
        finally:
            conn.close()

    def get(self, path: str) -> tuple[int, dict, bytes]:
        return self._request("GET", path)

    def ensure_csrf(self) -> None:
        if self.csrf is None:
            for _attempt in range(self.retries_on_503 + 1):
                status, _, _ = self.get("/mri-review/")
                if status != 503:
                    break
                time.sleep(self.retry_pause)
            if status != 200 or self.csrf is None:
                raise RuntimeError(f"GET /mri-review/ gave {status} and no CSRF cookie")

    def submit(self, ident: dict, *, follow: bool = False, on_status=None) -> Result:
        """The six POSTs; ``follow`` also GETs the confirmation page."""
        t0 = time.monotonic()
        res = Result(ok=False)
        try:
            self.ensure_csrf()
            self.session = None
            for name, path, data in step_bodies(ident):
                body = urllib.parse.urlencode({**data, "csrfmiddlewaretoken": self.csrf}, doseq=True)
                for _attempt in range(self.retries_on_503 + 1):
                    status, headers, _ = self._request("POST", path, body)
                    res.statuses.append(status)
                    if on_status:
                        on_status(status)
                    if status != 503:
                        break
                    # "Nothing was lost, please try again": a patient sends the page again.
                    time.sleep(self.retry_pause)
                location = headers.get("Location", "")
                if status != 302 or not location.endswith(NEXT[name]):
                    res.error = f"{name}: {status} -> {location or '(no redirect)'}"
                    return res
            if follow:
                for _attempt in range(self.retries_on_503 + 1):
                    status, _, page = self.get(NEXT["consent"])
                    res.statuses.append(status)
                    if on_status:
                        on_status(status)
                    if status != 503:
                        break
                    time.sleep(self.retry_pause)
                if status != 200 or b"MR-" not in page:
                    res.error = f"confirmation page: {status}"
                    return res
            res.ok = True
            return res
        except (OSError, http.client.HTTPException, RuntimeError) as exc:
            res.error = f"{type(exc).__name__}: {exc}"
            return res
        finally:
            self.session = None
            res.seconds = time.monotonic() - t0
