"""`make bench-imaging` (part of `make bench`): the MRI viewer's figures on a
200-slice 512 x 512 DICOM series in one ZIP, served by gunicorn as in
production (sync workers, gunicorn's own defaults from bench/common.py).

    python bench/imaging_bench.py [--cold-runs 5] [--workers 5] [--passes 3]
        [--browser-runs 20] [--key-repeat-ms 33] [--dwell-ms 1000]

"Cold" (see bench/README.md): a clinician opens a case nobody has opened since
the web workers started. Each cold sample is a fresh gunicorn (every worker's
decoded-pixel and file cache empty, no imaging code run yet) whose workers have
each answered ordinary requests first (the login page: Django's one-off URLconf
import is a new worker's cost whatever its first page, not the viewer's), and,
in Chromium, a new browser context (no HTTP cache, no connections, a new login).

Figures (printed, and written to bench/results/imaging.json):
- time to first image: from the viewer page's response to the first slice's
  PNG (what the page asks for before it can draw), p50/p95 over
  ``--cold-runs`` cold samples, and again with the series already in
  memory (warm: a second clinician, or a reopened series);
- slice to slice: one request per slice scrolling the whole series, first
  pass (cold workers included) and warm passes, p50/p95;
- in Chromium (``--browser-runs`` cold samples): page loaded
  (DOMContentLoaded) -> first slice drawn, and navigation -> first slice
  drawn, cold, then warm (3 reloads on the last server); each arrow key -> the next slice drawn, the next key
  once it is (from the first view on); and the arrow key held down as a
  clinician scrolls: after ``--dwell-ms`` on the first slice, a press every
  ``--key-repeat-ms`` (keyboard auto-repeat) to the last slice and back,
  timed from each press to the screen showing that slice (or a later one);
- memory: every web worker's RSS while 4 clients scroll the series at once
  (``--passes`` passes each), sampled 4 times a second: before, peak, end.

The data is synthetic (pydicom + numpy), stored through the real upload
path (content checks, encryption), on SQLite in bench/.tmp/imaging.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import shutil
import statistics
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import common as C  # noqa: E402

TMP = C.TMP / "imaging"
PORT = 8111
SLICES, SIZE = 200, 512
GOALS = {"first_image_p95_ms": 300, "slice_warm_p95_ms": 60}


def env() -> dict:
    e = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_URL", "CELERY_BROKER_URL", "CACHE_URL"))}
    e.update(
        DJANGO_SETTINGS_MODULE="clinic.settings.local",
        DJANGO_DEBUG="false",
        DATABASE_URL=f"sqlite:///{TMP / 'db.sqlite3'}",
        CELERY_BROKER_URL="filesystem://",
        INTAKE_BROKER_DIR=str(TMP / "broker"),
        INTAKE_PRIVATE_ROOT=str(TMP / "private"),
        MEDIA_ROOT=str(TMP / "media"),
        INTAKE_MAX_FILE_BYTES=str(400 * 1024 * 1024),
        INTAKE_MAX_REQUEST_BYTES=str(800 * 1024 * 1024),
        PYTHONPATH=str(C.REPO),
    )
    return e


# --- Set-up (run in a child process with Django) -------------------------------------------
def setup_child() -> None:
    import django

    django.setup()
    import io
    import zipfile

    import numpy as np
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group
    from django.contrib.sessions.backends.db import SessionStore
    from django.core.files.uploadedfile import SimpleUploadedFile

    from imaging.models import ImagingSeries
    from imaging.services import imaging_index_file
    from intake import seed
    from intake.models import QueueMembership, ReviewRequest
    from intake.services.files import mri_file_add
    from tests.imaging import dicomgen as g

    seed.seed_groups()
    queues = seed.seed_queues_and_rules()
    user = get_user_model().objects.create_user("bench_clinician", password="x-bench-x", is_staff=True)
    user.groups.add(Group.objects.get(name="Clinician"))
    queue = queues["mri-thoracolumbar"]
    QueueMembership.objects.create(queue=queue, user=user)
    case = ReviewRequest.objects.create(
        queue=queue, status="awaiting_mri", first_name="Pat", last_name="Example", mri_status="centre_sends"
    )
    rng = np.random.default_rng(7)
    members = []
    study, series = "1.2.826.0.1.3680043.9.9999.1", "1.2.826.0.1.3680043.9.9999.2"
    for i in range(SLICES):
        pixels = g.phantom(SIZE, SIZE, i, SLICES, peak=1800)
        pixels = (pixels + rng.integers(0, 80, pixels.shape, dtype=np.uint16)).astype(np.uint16)  # scanner noise
        ds = g.mr_dataset(study_uid=study, series_uid=series, index=i, count=SLICES, pixels=pixels)
        members.append(g.to_bytes(ds))
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as zf:
        for i, data in enumerate(members):
            zf.writestr(f"DICOM/IM{i:05d}", data)
    f = mri_file_add(uploaded=SimpleUploadedFile("study.zip", buf.getvalue()), case=case)
    imaging_index_file(mri_file_id=f.pk)
    s = ImagingSeries.objects.get(study__case=case)
    session = SessionStore()
    session["_auth_user_id"] = str(user.pk)
    session["_auth_user_backend"] = "django.contrib.auth.backends.ModelBackend"
    session["_auth_user_hash"] = user.get_session_auth_hash()
    session.create()
    from django.conf import settings

    print(
        json.dumps(
            {
                "case": case.pk,
                "series": s.pk,
                "slices": s.slice_count,
                "zip_bytes": len(buf.getvalue()),
                "cookie": f"{settings.SESSION_COOKIE_NAME}={session.session_key}",
            }
        )
    )


# --- Client ---------------------------------------------------------------------------------
class Client:
    def __init__(self, cookie: str):
        self.cookie = cookie
        self.conn = http.client.HTTPConnection("127.0.0.1", PORT, timeout=120)

    def get(self, path: str) -> tuple[int, bytes, float]:
        t = time.perf_counter()
        for attempt in range(2):
            try:
                self.conn.request("GET", path, headers={"Cookie": self.cookie, "Host": "127.0.0.1"})
                resp = self.conn.getresponse()
                body = resp.read()
                break
            except (http.client.HTTPException, OSError):
                self.conn.close()
                self.conn = http.client.HTTPConnection("127.0.0.1", PORT, timeout=120)
                if attempt:
                    raise
        if resp.status != 200:
            raise RuntimeError(f"GET {path}: {resp.status}")
        if resp.getheader("Connection", "").lower() == "close":
            self.conn.close()
            self.conn = http.client.HTTPConnection("127.0.0.1", PORT, timeout=120)
        return resp.status, body, (time.perf_counter() - t) * 1000


def pct(values, p):
    values = sorted(values)
    if not values:
        return None
    k = max(0, min(len(values) - 1, round(p / 100 * (len(values) - 1))))
    return round(values[k], 1)


def _log_size(proc) -> int:
    try:
        return proc._bench_log.stat().st_size
    except OSError:
        return 0


def _pids_served(proc, offset: int) -> set[str]:
    """Worker pids in gunicorn's access log since ``offset`` (the format has ``<pid>``)."""
    import re

    try:
        with open(proc._bench_log, "rb") as f:
            f.seek(offset)
            text = f.read().decode(errors="replace")
    except OSError:
        return set()
    return set(re.findall(r"<(\d+)> \"GET /admin/login/", text))


def start_cold(e: dict, workers: int):
    """A fresh gunicorn whose every worker has answered a non-imaging page (the
    login form): cold for imaging, not a worker's very first request. Returns
    (process, seconds the first requests took, workers seen answering)."""
    # The project's own gunicorn.conf.py: the cold samples read its access log (worker pids).
    proc = C.start_gunicorn(
        "clinic.wsgi", PORT, e, workers=workers, cwd=C.REPO, name="imaging-web", config=C.PROJECT_GUNICORN_CONF
    )
    offset = _log_size(proc)
    first_ms: list[float] = []
    seen: set[str] = set()

    def one():
        conn = http.client.HTTPConnection("127.0.0.1", PORT, timeout=120)
        t = time.perf_counter()
        conn.request("GET", "/admin/login/", headers={"Host": "127.0.0.1"})
        conn.getresponse().read()
        first_ms.append((time.perf_counter() - t) * 1000)
        conn.close()

    for _ in range(10):
        # As many requests at once as workers and more: a busy sync worker does
        # not accept, so each idle one takes one.
        threads = [threading.Thread(target=one) for _ in range(2 * workers)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        time.sleep(0.2)
        seen = _pids_served(proc, offset)
        if len(seen) >= workers:
            break
    return proc, max(first_ms), len(seen)


def first_image(client: Client, info: dict) -> dict:
    case, series = info["case"], info["series"]
    _, page, page_ms = client.get(f"/admin/imaging/case/{case}/viewer/")
    t0 = time.perf_counter()
    base = f"/admin/imaging/case/{case}/series/{series}"
    if b'id="imaging-initial"' not in page:  # the page does not carry the first series: ask for it
        _, body, _ = client.get(f"/admin/imaging/case/{case}/series/{series}/")
        base = json.loads(body)["slice_base"]
    _, png, _ = client.get(f"{base}/0.png")
    assert png.startswith(b"\x89PNG")
    return {"page_ms": page_ms, "first_image_ms": (time.perf_counter() - t0) * 1000, "base": base}


def scroll(client: Client, base: str, n: int, reverse: bool = False) -> list[float]:
    order = range(n - 1, -1, -1) if reverse else range(n)
    return [client.get(f"{base}/{i}.png")[2] for i in order]


# Page loaded (DOMContentLoaded; the viewer's deferred script has run) -> first
# slice drawn, navigation -> first slice drawn, and when the page's own requests
# for the series (manifest, slice 0) started and ended, from navigation.
BROWSER_TTFI = """() => new Promise(resolve => {
  const v = document.getElementById('imaging-viewport');
  const done = () => (v.dataset.loaded || '').startsWith('0|');
  const t0 = performance.timing.domContentLoadedEventEnd - performance.timing.navigationStart;
  const timing = re => {
    const r = performance.getEntriesByType('resource').find(e => re.test(e.name));
    return r ? [Math.round(r.startTime), Math.round(r.responseStart), Math.round(r.responseEnd)] : null;
  };
  const check = () => done() ? resolve({
    loaded: t0, drawn: Number(v.dataset.drawnAt),
    manifest: timing(/\\/series\\/\\d+\\/$/), slice: timing(/\\/series\\/\\d+\\/0\\.png/),
  }) : requestAnimationFrame(check);
  check();
})"""


BROWSER_STEP = """async (n) => {
  const v = document.getElementById('imaging-viewport');
  const times = [];
  for (let i = 1; i < n; i++) {
    const t = performance.now();
    v.dispatchEvent(new KeyboardEvent('keydown', {key: 'ArrowDown', bubbles: true}));
    await new Promise(resolve => {
      const check = () => (v.dataset.loaded || '').startsWith(i + '|') ? resolve() : requestAnimationFrame(check);
      check();
    });
    times.push(performance.now() - t);
  }
  return times;
}"""


# Press and hold: after looking at the first slice for ``dwell`` ms, the key
# repeats every ``interval`` ms (a keyboard's auto-repeat, about 30 a second)
# to the end of the series, then back. For each key press: the time until the
# screen shows that slice or a later one (the next animation frame after the
# canvas draw); a slice the viewer skipped counts until the later one shows.
BROWSER_HOLD = """async ({n, interval, dwell}) => {
  const v = document.getElementById('imaging-viewport');
  const draws = [];
  const obs = new MutationObserver(() => {
    const index = parseInt(v.dataset.loaded || '-1', 10);
    requestAnimationFrame(() => draws.push([index, performance.now()]));
  });
  obs.observe(v, {attributes: true, attributeFilter: ['data-loaded']});
  await new Promise(r => setTimeout(r, dwell));
  const sleep = ms => new Promise(r => setTimeout(r, ms));
  const hold = async (key, targets) => {
    const pressed = [];
    for (const target of targets) {
      pressed.push([target, performance.now()]);
      v.dispatchEvent(new KeyboardEvent('keydown', {key, bubbles: true, repeat: true}));
      await sleep(interval);
    }
    const last = targets[targets.length - 1];
    const t0 = performance.now();
    while (!draws.some(([i]) => i === last) && performance.now() - t0 < 20000) { await sleep(10); }
    return pressed;
  };
  const down = await hold('ArrowDown', Array.from({length: n - 1}, (_, k) => k + 1));
  const up = await hold('ArrowUp', Array.from({length: n - 1}, (_, k) => n - 2 - k));
  obs.disconnect();
  const latency = (pressed, ahead) => pressed.map(([target, t]) => {
    const d = draws.find(([i, at]) => at >= t && ahead(i, target));
    return d ? d[1] - t : null;
  });
  const skipped = pressed => pressed.filter(([target, t]) => !draws.some(([i, at]) => i === target && at >= t)).length;
  return {
    down: latency(down, (i, target) => i >= target), up: latency(up, (i, target) => i <= target),
    skipped: skipped(down) + skipped(up),
  };
}"""


def browser_figures(info: dict, runs: int, workers: int, e: dict, interval: int = 33, dwell: int = 1000) -> dict | None:
    """In Chromium: page loaded -> first slice drawn over ``runs`` cold samples
    (see start_cold; a new browser context each), then warm on the last server;
    each ArrowDown -> the next slice drawn, and the held key, on the last server."""
    chromium = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
    if not Path(chromium).exists():
        C.log(f"no {chromium}: browser figures skipped")
        return None
    from playwright.sync_api import sync_playwright

    cold, cold_nav, warm, steps, held, skipped, samples = [], [], [], [], [], 0, []
    base = f"http://127.0.0.1:{PORT}"
    url = f"{base}/admin/imaging/case/{info['case']}/viewer/"
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, headless=True, args=["--no-sandbox", "--disable-gpu"])
        for run in range(runs):
            proc, worker_first_ms, warmed = start_cold(e, workers)
            try:
                context = browser.new_context(viewport={"width": 1280, "height": 800})
                page = context.new_page()
                page.goto(f"{base}/admin/login/?next=/admin/")
                page.fill("#id_username", "bench_clinician")
                page.fill("#id_password", "x-bench-x")
                page.click("input[type=submit]")
                page.wait_for_url("**/admin/")
                page.goto(url)
                t = page.evaluate(BROWSER_TTFI)
                cold.append(t["drawn"] - t["loaded"])
                cold_nav.append(t["drawn"])
                samples.append({**t, "workers_warmed": warmed, "worker_first_request_ms": round(worker_first_ms)})
                if run == runs - 1:
                    page.focus("#imaging-viewport")
                    steps = page.evaluate(BROWSER_STEP, info["slices"])
                    for _ in range(3):
                        page.goto(url)
                        t = page.evaluate(BROWSER_TTFI)
                        warm.append(t["drawn"] - t["loaded"])
                        page.focus("#imaging-viewport")
                        hold = page.evaluate(BROWSER_HOLD, {"n": info["slices"], "interval": interval, "dwell": dwell})
                        held += [t if t is not None else 60_000.0 for t in hold["down"] + hold["up"]]
                        skipped += hold["skipped"]
                context.close()
            finally:
                C.stop(proc)
        browser.close()
    return {
        "first_image_after_page_cold_ms": {
            "p50": pct(cold, 50),
            "p95": pct(cold, 95),
            "max": pct(cold, 100),
            "runs": len(cold),
        },
        "first_image_after_navigation_cold_ms": {
            "p50": pct(cold_nav, 50),
            "p95": pct(cold_nav, 95),
            "max": pct(cold_nav, 100),
            "runs": len(cold_nav),
        },
        "cold_samples": samples,
        "first_image_after_page_warm_ms": {"p50": pct(warm, 50), "p95": pct(warm, 95), "runs": len(warm)},
        "arrow_key_to_next_slice_ms": {"p50": pct(steps, 50), "p95": pct(steps, 95), "n": len(steps)},
        "held_arrow_key_ms": {
            "p50": pct(held, 50),
            "p95": pct(held, 95),
            "max": pct(held, 100),
            "n": len(held),
            "skipped": skipped,
            "repeat_ms": interval,
            "dwell_ms": dwell,
        },
    }


def rss_mb(pids) -> dict:
    out = {}
    for pid in pids:
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    out[pid] = int(line.split()[1]) / 1024
        except OSError:
            pass
    return out


def _mean_total(samples) -> float | None:
    return round(statistics.mean(sum(s.values()) for s in samples), 1) if samples else None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cold-runs", type=int, default=5, help="cold samples over HTTP (the goal is the browser's)")
    parser.add_argument("--workers", type=int, default=2 * (os.cpu_count() or 1) + 1)
    parser.add_argument("--passes", type=int, default=3)
    parser.add_argument("--browser-runs", type=int, default=20, help="cold samples in Chromium (0: none)")
    parser.add_argument("--key-repeat-ms", type=int, default=33, help="held arrow key: one press every N ms")
    parser.add_argument("--dwell-ms", type=int, default=1000, help="held arrow key: first slice looked at for N ms")
    args = parser.parse_args()

    shutil.rmtree(TMP, ignore_errors=True)
    TMP.mkdir(parents=True)
    e = env()
    C.log("imaging bench: migrate and make a 200-slice 512x512 series (stored encrypted, indexed)")
    C.run([C.PY, str(C.REPO / "manage.py"), "migrate", "--noinput"], env=e)
    out = C.run([C.PY, __file__, "--setup-child"], env=e).stdout
    info = json.loads(out.strip().splitlines()[-1])
    C.log(f"series of {info['slices']} slices, ZIP {info['zip_bytes'] / 1e6:.0f} MB")

    r: dict = {"workers": args.workers, "slices": info["slices"], "zip_mb": round(info["zip_bytes"] / 1e6, 1)}
    cold, page, warm_first = [], [], []
    proc = None
    try:
        for run in range(args.cold_runs):
            proc, _, warmed = start_cold(e, args.workers)
            if warmed < args.workers:
                C.log(f"cold run {run}: {warmed} of {args.workers} workers seen answering the warm-up")
            client = Client(info["cookie"])
            first = first_image(client, info)
            cold.append(first["first_image_ms"])
            page.append(first["page_ms"])
            if run < args.cold_runs - 1:
                C.stop(proc)
        base = first["base"]
        C.log("scrolling: first pass (cold workers included), then warm passes")
        first_pass = scroll(client, base, info["slices"])
        warm = scroll(client, base, info["slices"], reverse=True) + scroll(client, base, info["slices"])
        for _ in range(5):
            warm_first.append(first_image(Client(info["cookie"]), info)["first_image_ms"])
        workers = C.children(proc.pid)

        C.log("4 clients scrolling at once")
        before = rss_mb(workers)
        samples, stop = [], threading.Event()

        def sample():
            while not stop.is_set():
                samples.append(rss_mb(workers))
                time.sleep(0.25)

        loaded: list[float] = []

        def clinician(k):
            c = Client(info["cookie"])
            for p in range(args.passes):
                loaded.extend(scroll(c, base, info["slices"], reverse=(p + k) % 2 == 1))

        sampler = threading.Thread(target=sample)
        sampler.start()
        threads = [threading.Thread(target=clinician, args=(k,)) for k in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        stop.set()
        sampler.join()
        after = rss_mb(workers)
    finally:
        if proc is not None:
            C.stop(proc)
        C.stop_all()

    if args.browser_runs:
        C.log("Chromium: page loaded -> first slice drawn; arrow key -> next slice drawn")
        r["browser"] = browser_figures(
            info, args.browser_runs, args.workers, e, interval=args.key_repeat_ms, dwell=args.dwell_ms
        )
        C.stop_all()
    total = lambda d: round(sum(d.values()), 1)  # noqa: E731
    peak_total = max((sum(s.values()) for s in samples), default=0)
    half = len(samples) // 2
    r.update(
        first_image_cold_ms={"p50": pct(cold, 50), "p95": pct(cold, 95), "runs": len(cold)},
        first_image_warm_ms={"p50": pct(warm_first, 50), "p95": pct(warm_first, 95), "runs": len(warm_first)},
        viewer_page_ms={"p50": pct(page, 50), "p95": pct(page, 95)},
        slice_first_pass_ms={"p50": pct(first_pass, 50), "p95": pct(first_pass, 95), "max": pct(first_pass, 100)},
        slice_warm_ms={"p50": pct(warm, 50), "p95": pct(warm, 95), "n": len(warm)},
        slice_4_clients_ms={"p50": pct(loaded, 50), "p95": pct(loaded, 95), "n": len(loaded)},
        rss_mb={
            "before_total": total(before),
            "peak_total": round(peak_total, 1),
            "end_total": total(after),
            "per_worker_end": sorted(round(v, 1) for v in after.values()),
            "first_half_mean_total": _mean_total(samples[:half]),
            "second_half_mean_total": _mean_total(samples[half:]),
        },
    )
    lines = [
        f"Imaging: {r['slices']} slices of {SIZE}x{SIZE} in a {r['zip_mb']} MB ZIP, gunicorn sync x {args.workers}",
        f"  time to first image, cold workers   p50 {r['first_image_cold_ms']['p50']} ms  p95 "
        f"{r['first_image_cold_ms']['p95']} ms  (goal p95 <= {GOALS['first_image_p95_ms']} ms)",
        f"  time to first image, series in RAM  p50 {r['first_image_warm_ms']['p50']} ms  p95 "
        f"{r['first_image_warm_ms']['p95']} ms",
        f"  viewer page itself                  p50 {r['viewer_page_ms']['p50']} ms  p95 "
        f"{r['viewer_page_ms']['p95']} ms",
        f"  slice to slice, first pass          p50 {r['slice_first_pass_ms']['p50']} ms  p95 "
        f"{r['slice_first_pass_ms']['p95']} ms  max {r['slice_first_pass_ms']['max']} ms",
        f"  slice to slice, warm                p50 {r['slice_warm_ms']['p50']} ms  p95 {r['slice_warm_ms']['p95']} ms"
        f"  (goal p95 <= {GOALS['slice_warm_p95_ms']} ms)",
        f"  slice to slice, 4 clients at once   p50 {r['slice_4_clients_ms']['p50']} ms  p95 "
        f"{r['slice_4_clients_ms']['p95']} ms",
        f"  web workers' RSS (all {args.workers})        before {r['rss_mb']['before_total']} MB  peak "
        f"{r['rss_mb']['peak_total']} MB  end {r['rss_mb']['end_total']} MB  (mean 1st half "
        f"{r['rss_mb']['first_half_mean_total']} / 2nd half {r['rss_mb']['second_half_mean_total']} MB)",
        f"  per worker at the end: {r['rss_mb']['per_worker_end']} MB",
    ]
    b = r.get("browser")
    if b:
        lines += [
            f"  Chromium, page loaded -> first slice drawn, cold  p50 "
            f"{b['first_image_after_page_cold_ms']['p50']} ms  p95 {b['first_image_after_page_cold_ms']['p95']} ms"
            f"  max {b['first_image_after_page_cold_ms']['max']} ms  ({b['first_image_after_page_cold_ms']['runs']} "
            f"cold samples; goal p95 <= {GOALS['first_image_p95_ms']} ms)",
            f"  Chromium, navigation -> first slice drawn, cold   p50 "
            f"{b['first_image_after_navigation_cold_ms']['p50']} ms  p95 "
            f"{b['first_image_after_navigation_cold_ms']['p95']} ms",
            f"  Chromium, page loaded -> first slice drawn, warm  p50 "
            f"{b['first_image_after_page_warm_ms']['p50']} ms  p95 {b['first_image_after_page_warm_ms']['p95']} ms",
            f"  Chromium, arrow key -> next slice drawn           p50 "
            f"{b['arrow_key_to_next_slice_ms']['p50']} ms  p95 {b['arrow_key_to_next_slice_ms']['p95']} ms "
            "(each key once the previous slice is drawn, from the first view on)",
            f"  Chromium, arrow key held (every {b['held_arrow_key_ms']['repeat_ms']} ms after "
            f"{b['held_arrow_key_ms']['dwell_ms']} ms on the first slice) -> slice shown  p50 "
            f"{b['held_arrow_key_ms']['p50']} ms  p95 {b['held_arrow_key_ms']['p95']} ms  max "
            f"{b['held_arrow_key_ms']['max']} ms  skipped {b['held_arrow_key_ms']['skipped']} of "
            f"{b['held_arrow_key_ms']['n']} (goal p95 <= {GOALS['slice_warm_p95_ms']} ms)",
        ]
    print("\n".join(lines))
    C.RESULTS.mkdir(parents=True, exist_ok=True)
    r["date"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    r["cpu_count"] = os.cpu_count()
    (C.RESULTS / "imaging.json").write_text(json.dumps(r, indent=2) + "\n")
    print(f"written: {C.RESULTS / 'imaging.json'}")


if __name__ == "__main__":
    if "--setup-child" in sys.argv:
        sys.path.insert(0, str(C.REPO))
        setup_child()
    else:
        main()
