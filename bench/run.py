"""`make bench`: the clinic side by side with a bare Django baseline, same run,
same machine. Prints a table and writes bench/results/latest.json.

    python bench/run.py                  # everything (about 10 minutes)
    python bench/run.py --quick          # shorter runs
    python bench/run.py --only intake,get,route,admin,memory

See bench/README.md for what each figure means.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import shutil
import sys
import threading
import time
import urllib.parse
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import common as C  # noqa: E402
from client import PAYLOADS, STEP_PATHS, Walker, identity  # noqa: E402

SECTIONS = ["intake", "get", "route", "admin", "memory"]
PROJECT_PORT, BASELINE_PORT, MEMORY_PORT = 8101, 8102, 8103
DB, BASELINE_DB, ADMIN_DB = "bench_clinic", "bench_baseline", "bench_admin"
BROKER_DB, CACHE_DB, BARE_BROKER_DB = 2, 3, 4

TARGETS = [
    # key, description, value(results), target. Ratios: medians of per-round ratios.
    ("intake_post_ratio", "intake step POST >= 0.6x baseline POST", lambda r: r["intake_step_post_ratio"], 0.6),
    ("intake_get_ratio", "intake form page >= 1.0x baseline form GET", lambda r: r["intake_get_ratio"], 1.0),
    ("intake_get_es_ratio", "form page in Spanish >= 0.9x English", lambda r: r["intake_get_es_ratio"], 0.9),
    ("route_p95", "submit -> routed p95 <= 50 ms", lambda r: r["route_p95_ms"], 50),
    ("route_throughput_ratio", "routing throughput >= 0.4x bare task", lambda r: r["route_throughput_ratio"], 0.4),
    ("admin_list", "admin list <= 150 ms median at 100k", lambda r: r["admin_list_100k_ms"], 150),
    ("admin_queries", "admin list: same query count at 10 and 100k", lambda r: r["admin_list_queries_same"], True),
    ("dashboard", "dashboard <= 150 ms median at 100k", lambda r: r["dashboard_100k_ms"], 150),
    ("dashboard_queries", "dashboard: same query count at 10 and 100k", lambda r: r["dashboard_queries_same"], True),
    ("memory", "worker RSS growth <= 10% over 10,000 requests", lambda r: r["worker_rss_growth_pct"], 10),
]  # fmt: skip


def lua_str(s: str) -> str:
    return "[==[" + s + "]==]"


def write_lua_data() -> dict:
    """Lua data files for wrk, generated from tests/intake/helpers.py."""
    C.TMP.mkdir(parents=True, exist_ok=True)
    steps = []
    nexts = ["/mri-review/step/contact/", "/mri-review/step/pain/", "/mri-review/step/history/",
             "/mri-review/step/mri/", "/mri-review/step/consent/", "/mri-review/submitted/"]  # fmt: skip
    for (name, path), nxt in zip(STEP_PATHS, nexts, strict=True):
        data = dict(PAYLOADS[name])
        ident = name == "contact"
        if ident:
            for k in ("email", "phone", "date_of_birth"):
                data.pop(k)
        body = urllib.parse.urlencode(data, doseq=True)
        if ident:
            body += "&email=@@EMAIL@@&phone=@@PHONE@@&date_of_birth=@@DOB@@"
        steps.append(
            f"    {{path = {lua_str(path)}, next = {lua_str(nxt)}, identity = {str(ident).lower()}, "
            f"body = {lua_str(body)}}},"
        )
    intake = C.TMP / "intake_steps.lua"
    intake.write_text(
        "return {\n"
        '  csrf_cookie = "__Host-csrftoken",\n  session_cookie = "__Host-sessionid",\n'
        '  start_path = "/mri-review/",\n  steps = {\n' + "\n".join(steps) + "\n  },\n}\n"
    )
    token = "BenchCsrf" + "a1B2c3D4e5F6g7H8i9J0kLmNo"[:23]  # 32 letters and digits: a valid CSRF secret
    baseline_body = urllib.parse.urlencode(
        {
            "first_name": "Pat", "last_name": "Example", "email": "pat@example.com", "phone": "(312) 555-0142",
            "address": "1 Lake Shore Drive", "city": "Chicago", "state": "IL", "postal_code": "60614", "age": "56",
            "contact_method": "email", "contact_time": "morning", "region": "lower_back", "severity": "6",
            "duration": "gt3m", "has_mri": "on", "prior_surgery": "", "consent_email": "on", "consent_privacy": "on",
            "symptoms": "Low back pain going down the left leg, worse when sitting for long.",
            "history": "Physical therapy for six weeks last spring.", "notes": "",
            "csrfmiddlewaretoken": token,
        }
    )  # fmt: skip
    files = {"intake_post": intake}
    reqs = {
        "baseline_post": ("POST", "/form/", 302, {"Content-Type": "application/x-www-form-urlencoded",
                                                   "Cookie": f"csrftoken={token}"}, baseline_body),
        "intake_get": ("GET", "/mri-review/", 200, {}, None),
        # The same page for a patient who chose Español (the switcher's cookie).
        "intake_get_es": ("GET", "/mri-review/", 200, {"Cookie": "django_language=es"}, None),
        "baseline_get": ("GET", "/form/", 200, {}, None),
        "static_get": ("GET", "/static-page/", 200, {}, None),
    }  # fmt: skip
    for name, (method, path, expect, headers, body) in reqs.items():
        hdrs = ", ".join(f'["{k}"] = {lua_str(v)}' for k, v in headers.items())
        f = C.TMP / f"{name}.lua"
        f.write_text(
            f"return {{method = {lua_str(method)}, path = {lua_str(path)}, expect = {expect}, "
            f"headers = {{{hdrs}}}, body = {lua_str(body) if body else 'nil'}}}\n"
        )
        files[name] = f
    return files


# --- Set-up ---------------------------------------------------------------------------
class Bench:
    def __init__(self, args):
        self.args = args
        self.secrets = C.secret_env()
        self.env = C.project_env(DB, BROKER_DB, CACHE_DB, self.secrets)
        self.admin_env = C.project_env(ADMIN_DB, BROKER_DB, CACHE_DB, self.secrets)
        self.base_env = C.baseline_env(BASELINE_DB, BARE_BROKER_DB, self.secrets)
        self.r: dict = {}
        self.detail: dict = {}
        self.duration = 5 if args.quick else args.duration
        self.warmup = 2 if args.quick else 5
        self.rounds = args.rounds
        self.lua = {}

    def setup(self):
        C.ensure_services()
        C.ensure_wrk()
        shutil.rmtree(C.TMP / DB, ignore_errors=True)
        for db in (BROKER_DB, CACHE_DB, BARE_BROKER_DB):
            C.redis_cli("flushdb", db=db)
        C.log(f"creating databases {DB}, {BASELINE_DB}, {ADMIN_DB}")
        C.recreate_db(DB)
        C.manage(self.env, "migrate", "--noinput")
        C.manage(self.env, "seed_demo", "--no-staff")
        C.manage(self.env, "collectstatic", "--noinput")
        C.recreate_db(ADMIN_DB, template=DB)
        C.recreate_db(BASELINE_DB)
        C.manage(self.base_env, "migrate", "--run-syncdb", "--noinput", baseline=True)
        self.lua = write_lua_data()

    # --- web -------------------------------------------------------------------------
    def start_web(self):
        workers = self.args.web_workers
        self.project = C.start_gunicorn(
            "clinic.wsgi:application", PROJECT_PORT, self.env, workers=workers, cwd=C.REPO, name="gunicorn-clinic"
        )
        self.baseline = C.start_gunicorn(
            "baseline.wsgi:application",
            BASELINE_PORT,
            self.base_env,
            workers=workers,
            cwd=C.BENCH / "baseline",
            name="gunicorn-baseline",
        )

    def wrk(self, name: str, duration: float, tag: str = "") -> dict:
        port = BASELINE_PORT if name.startswith(("baseline", "static")) else PROJECT_PORT
        if name == "intake_post":
            script, sargs = C.BENCH / "lua" / "intake_walk.lua", [str(self.lua[name]), tag or "w"]
        else:
            script, sargs = C.BENCH / "lua" / "request.lua", [str(self.lua[name])]
        res = C.run_wrk(
            f"http://127.0.0.1:{port}", script=script, args=sargs, duration=duration, connections=self.args.connections
        )
        res.pop("raw")
        return res

    def alternate(self, names: list[str]) -> dict:
        """Warm-up each, then rounds of A B (C) A B (C) ...; medians per name."""
        for name in names:
            self.wrk(name, self.warmup, tag=f"warm{os.getpid()}")
        runs = {n: [] for n in names}
        for rnd in range(self.rounds):
            for name in names:
                res = self.wrk(name, self.duration, tag=f"r{rnd}p{os.getpid()}t{int(time.time())}")
                runs[name].append(res)
                C.log(f"  {name} round {rnd + 1}: {self._describe(name, res)}")
        return runs

    @staticmethod
    def _describe(name, res):
        lua = res.get("lua", {})
        if name == "intake_post":
            secs = lua.get("duration_us", 1) / 1e6
            return (
                f"{lua.get('submissions', 0) / secs:.1f} submissions/s, {lua.get('posts', 0) / secs:.0f} POST/s,"
                f" p99 {res.get('p99_ms')} ms, errors {lua.get('errors')} {lua.get('last_error', '')}"
            )
        return f"{res['rps']:.0f} req/s, p99 {res.get('p99_ms')} ms, bad {lua.get('bad', '?')}"

    def section_intake(self):
        C.log("intake POST (six steps, one session) vs baseline POST")
        before = C.djtool(self.env, "max-case-id")["max_id"]
        runs = self.alternate(["intake_post", "baseline_post"])
        subs, posts, p99 = [], [], []
        errors = 0
        for res in runs["intake_post"]:
            lua = res["lua"]
            secs = lua["duration_us"] / 1e6
            subs.append(lua["submissions"] / secs)
            posts.append(lua["posts"] / secs)
            p99.append(res.get("p99_ms"))
            errors += lua["errors"]
        base = [res["rps"] for res in runs["baseline_post"]]
        base_bad = sum(res["lua"].get("bad", 0) for res in runs["baseline_post"])
        created = C.djtool(self.env, "count-cases", "--after", str(before))["cases"]
        walked = sum(res["lua"]["submissions"] for res in runs["intake_post"])
        self.r.update(
            intake_post_rps=round(C.median(subs), 1),
            intake_step_post_rps=round(C.median(posts), 1),
            intake_post_p99_ms=C.median(p99),
            baseline_post_rps=round(C.median(base), 1),
            baseline_post_p99_ms=C.median([r.get("p99_ms") for r in runs["baseline_post"]]),
        )
        # The ratio is the median of the per-round ratios: A and B of a round ran
        # back to back, so a noisy neighbour hurts both sides of one ratio alike.
        self.r["intake_post_ratio"] = round(C.median([a / b for a, b in zip(subs, base, strict=True)]), 3)
        self.r["intake_step_post_ratio"] = round(C.median([a / b for a, b in zip(posts, base, strict=True)]), 3)
        self.detail["intake"] = {
            "rounds_submissions_per_s": [round(x, 1) for x in subs],
            "rounds_step_posts_per_s": [round(x, 1) for x in posts],
            "rounds_baseline_post_rps": base,
            "intake_errors": errors,
            "baseline_unexpected_status": base_bad,
            "cases_created_incl_warmup": created,
            "submissions_counted_by_wrk_excl_warmup": walked,
        }
        if errors or base_bad:
            C.log(f"  WARNING: {errors} intake walk errors, {base_bad} baseline POSTs not redirected")

    def section_get(self):
        C.log("GET: intake form page (new visitor) vs baseline form GET vs static page")
        runs = self.alternate(["intake_get", "intake_get_es", "baseline_get", "static_get"])
        for name in ("intake_get", "intake_get_es", "baseline_get", "static_get"):
            self.r[f"{name}_rps"] = round(C.median([r["rps"] for r in runs[name]]), 1)
            self.r[f"{name}_p99_ms"] = C.median([r.get("p99_ms") for r in runs[name]])
            bad = sum(r["lua"].get("bad", 0) for r in runs[name])
            self.detail[f"{name}_rounds_rps"] = [r["rps"] for r in runs[name]]
            if bad:
                C.log(f"  WARNING: {bad} {name} responses with an unexpected status")
                self.detail[f"{name}_unexpected_status"] = bad
        rps = {n: [r["rps"] for r in runs[n]] for n in runs}
        pairs = zip(rps["intake_get"], rps["baseline_get"], rps["static_get"], strict=True)
        ratios = [(i / b, i / s) for i, b, s in pairs]
        self.r["intake_get_ratio"] = round(C.median([a for a, _ in ratios]), 3)
        self.r["intake_get_vs_static"] = round(C.median([b for _, b in ratios]), 3)
        es_vs_en = [es / en for es, en in zip(rps["intake_get_es"], rps["intake_get"], strict=True)]
        self.r["intake_get_es_ratio"] = round(C.median(es_vs_en), 3)

    # --- route ------------------------------------------------------------------------
    def start_worker(self):
        return C.start_celery_worker("clinic", "urgent,routine", self.env, cwd=C.REPO, name="celery-clinic")

    def section_route(self):
        rate = self.args.route_rate
        secs = 10 if self.args.quick else self.args.route_seconds
        C.log(f"submit -> routed, real worker -c 2, a steady {rate} submissions/s for {secs} s")
        # Headline: submissions made by the real service at a steady rate. The
        # web tier alone saturates this 2-core box near 40 complete requests/s
        # (see intake_post_rps), so 50/s over HTTP cannot be steady here.
        C.redis_cli("flushdb", db=BROKER_DB)
        worker = self.start_worker()
        try:
            before = C.djtool(self.env, "max-case-id")["max_id"]
            gen = C.djtool(self.env, "submit-steady", "--rate", str(rate), "--seconds", str(secs))
            C.wait_for(lambda: unrouted(DB, before) == 0, 120, "all cases routed", 0.5)
            lat = C.djtool(self.env, "route-latency", "--after", str(before))
        finally:
            C.stop(worker)
        C.log(f"  service generator: {gen}")
        C.log(f"  created_at->routed_at p50/p95/p99 {lat['p50_ms']}/{lat['p95_ms']}/{lat['p99_ms']} ms;"
              f" ->saved p95 {lat['saved_p95_ms']} ms")  # fmt: skip
        self.r.update(route_p50_ms=lat["p50_ms"], route_p95_ms=lat["p95_ms"], route_p99_ms=lat["p99_ms"])
        self.detail["route_latency"] = {**lat, "generator": gen, "rate_per_s": rate, "seconds": secs}

        # The same over HTTP (six POSTs per submission, open loop): web and worker share the 2 cores.
        C.redis_cli("flushdb", db=BROKER_DB)
        worker = self.start_worker()
        try:
            before = C.djtool(self.env, "max-case-id")["max_id"]
            gen = steady_submissions(PROJECT_PORT, rate, secs)
            C.wait_for(lambda: unrouted(DB, before) == 0, 120, "all cases routed", 0.5)
            lat = C.djtool(self.env, "route-latency", "--after", str(before))
        finally:
            C.stop(worker)
        C.log(
            f"  over HTTP: {gen['ok']} ok, {gen['failed']} failed, walk p50 {gen['walk_p50_ms']} ms;"
            f" routed p50/p95/p99 {lat['p50_ms']}/{lat['p95_ms']}/{lat['p99_ms']} ms"
        )
        self.r.update(route_http_p50_ms=lat["p50_ms"], route_http_p95_ms=lat["p95_ms"], route_http_p99_ms=lat["p99_ms"])
        self.detail["route_latency_http"] = {**lat, "generator": gen, "rate_per_s": rate, "seconds": secs}

        n_route = 600 if self.args.quick else self.args.route_tasks
        n_bare = 1500 if self.args.quick else self.args.bare_tasks
        C.log(f"throughput, -c 2 prefork: route_case x{n_route} vs bare task x{n_bare}, {self.rounds} rounds A B")
        route, bare = [], []
        for rnd in range(self.rounds):
            C.redis_cli("flushdb", db=BROKER_DB)
            made = C.djtool(self.env, "make-cases", str(n_route), "--enqueue", "--seed", str(rnd + 10))
            first, last = made["ids"]
            worker = self.start_worker()
            try:
                C.wait_for(
                    lambda first=first: (
                        C.djtool(self.env, "count-cases", "--after", str(first - 1))["routed"] >= n_route
                    ),
                    300,
                    "routing drained",
                    0.5,
                )
            finally:
                C.stop(worker)
            res = C.djtool(self.env, "route-throughput", str(first), str(last))
            route.append(res["per_s"])
            C.redis_cli("flushdb", db=BARE_BROKER_DB)
            C.djtool(self.base_env, "bare-prepare", str(n_bare))
            bw = C.start_celery_worker(
                "baseline.celery_app", "bare", self.base_env, cwd=C.BENCH / "baseline", name="celery-bare"
            )
            try:
                C.wait_for(lambda: bare_done() >= n_bare, 300, "bare drained", 0.5)
            finally:
                C.stop(bw)
            bres = C.djtool(self.base_env, "bare-throughput")
            bare.append(bres["per_s"])
            C.log(f"  round {rnd + 1}: route_case {res['per_s']:.0f}/s, bare task {bres['per_s']:.0f}/s")
        self.r["route_throughput_per_s"] = round(C.median(route), 1)
        self.r["baseline_task_per_s"] = round(C.median(bare), 1)
        self.r["route_throughput_ratio"] = round(C.median([a / b for a, b in zip(route, bare, strict=True)]), 3)
        self.detail["route_throughput"] = {"route_rounds": route, "bare_rounds": bare, "n": [n_route, n_bare]}

    # --- admin ------------------------------------------------------------------------
    def section_admin(self):
        C.log("admin case list and dashboard at 10 and 100,000 cases (test Client, in process)")
        C.djtool(self.admin_env, "superuser")
        pages = ["--page", "admin_list=/admin/intake/reviewrequest/", "--page", "dashboard=/admin/intake/dashboard/"]
        out = {}
        for total in (10, self.args.admin_cases):
            seeded = C.djtool(self.admin_env, "seed-cases", str(total))
            C.log(f"  seeded to {seeded['total']} cases in {seeded['seconds']} s")
            res = C.djtool(self.admin_env, "admin-bench", *pages)
            out[total] = res
            for name in ("admin_list", "dashboard"):
                p = res[name]
                C.log(
                    f"  {total} cases, {name}: status {p['status']}, median {p['median_ms']} ms, queries {p['queries']}"
                )
        small, big = out[10], out[self.args.admin_cases]
        for name in ("admin_list", "dashboard"):
            self.r[f"{name}_100k_ms"] = big[name]["median_ms"]
            self.r[f"{name}_queries"] = big[name]["queries"]
            self.r[f"{name}_10_ms"] = small[name]["median_ms"]
            self.r[f"{name}_10_queries"] = small[name]["queries"]
            self.r[f"{name}_status"] = big[name]["status"]
            same = big[name]["queries"] == small[name]["queries"] if big[name]["status"] == 200 else None
            self.r[f"{name}_queries_same"] = same
        self.detail["admin"] = {str(k): v for k, v in out.items()}

    # --- memory -----------------------------------------------------------------------
    def section_memory(self):
        n = 2000 if self.args.quick else self.args.memory_requests
        C.log(f"web worker memory: one sync worker, RSS before and after {n} requests")
        proc = C.start_gunicorn(
            "clinic.wsgi:application", MEMORY_PORT, self.env, workers=1, cwd=C.REPO, name="gunicorn-memory"
        )
        try:
            (pid,) = C.children(proc.pid)
            cold = C.rss_mb(pid)
            drive_requests(MEMORY_PORT, 500)
            before = C.rss_mb(pid)
            sent = drive_requests(MEMORY_PORT, n)
            after = C.rss_mb(pid)
            still = C.children(proc.pid) == [pid]
        finally:
            C.stop(proc)
        C.redis_cli("flushdb", db=BROKER_DB)
        self.r.update(
            worker_rss_mb_cold=round(cold, 1),
            worker_rss_mb_before=round(before, 1),
            worker_rss_mb_after=round(after, 1),
            worker_rss_growth_pct=round(100 * (after - before) / before, 1),
        )
        self.detail["memory"] = {"requests": sent, "warmup_requests": 500, "same_worker_pid": still}
        C.log(f"  RSS cold {cold:.1f} MB, after warm-up {before:.1f} MB, after {sent['total']} more {after:.1f} MB")


def unrouted(db: str, after: int) -> int:
    """Cheap polls through psql: a Django process per poll would steal the CPU being measured."""
    return int(C.psql(db, f"SELECT count(*) FROM intake_reviewrequest WHERE id > {int(after)} AND routed_at IS NULL"))


def bare_done() -> int:
    return int(C.psql(BASELINE_DB, "SELECT count(*) FROM baseline_barerow WHERE touched_at IS NOT NULL"))


# --- Load generators ------------------------------------------------------------------
def shared_csrf(port: int) -> str:
    w = Walker("127.0.0.1", port)
    w.ensure_csrf()
    return w.csrf


def steady_submissions(port: int, rate: float, seconds: float) -> dict:
    """Open loop: a new submission starts every 1/rate s whatever the previous ones do."""
    csrf = shared_csrf(port)
    n = int(rate * seconds)
    tag = f"rt{os.getpid()}{int(time.time())}"
    lateness, results = [], []
    lock = threading.Lock()

    def job(i):
        w = Walker("127.0.0.1", port)
        w.csrf = csrf
        res = w.submit(identity(random.Random(f"{tag}.{i}"), f"{tag}.{i}"))
        with lock:
            results.append(res)

    with ThreadPoolExecutor(max_workers=64) as pool:
        t0 = time.monotonic() + 0.2
        for i in range(n):
            target = t0 + i / rate
            delay = target - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            lateness.append((time.monotonic() - target) * 1000)
            pool.submit(job, i)
        end_sched = time.monotonic()
    ok = [r for r in results if r.ok]
    return {
        "planned": n,
        "ok": len(ok),
        "failed": len(results) - len(ok),
        "errors": sorted({r.error for r in results if not r.ok})[:5],
        "achieved_rate": round(n / (end_sched - t0), 1),
        "lateness_p99_ms": round(C.percentile(lateness, 99), 1),
        "walk_p50_ms": round(C.percentile([r.seconds * 1000 for r in ok], 50) or 0, 1),
        "walk_p99_ms": round(C.percentile([r.seconds * 1000 for r in ok], 99) or 0, 1),
    }


def drive_requests(port: int, n: int, threads: int = 4) -> dict:
    """About ``n`` requests: a new visitor's GET of the form, the six POSTs and
    the confirmation page, repeated by a few clients."""
    counts = {"total": 0, "non_2xx_3xx": 0, "failed_walks": 0}
    lock = threading.Lock()
    tag = f"mem{os.getpid()}{int(time.time())}"

    def on_status(status):
        with lock:
            counts["total"] += 1
            if status >= 400:
                counts["non_2xx_3xx"] += 1

    def client(k):
        i = 0
        while True:
            with lock:
                if counts["total"] >= n:
                    return
            w = Walker("127.0.0.1", port)
            on_status(w.get("/mri-review/")[0])
            res = w.submit(
                identity(random.Random(f"{tag}.{k}.{i}"), f"{tag}.{k}.{i}"), follow=True, on_status=on_status
            )
            if not res.ok:
                with lock:
                    counts["failed_walks"] += 1
            i += 1

    with ThreadPoolExecutor(max_workers=threads) as pool:
        list(pool.map(client, range(threads)))
    return counts


# --- Report ---------------------------------------------------------------------------
def table(r: dict) -> str:
    def f(key, unit=""):
        v = r.get(key)
        return "n/a" if v is None else f"{v}{unit}"

    dash = f("dashboard_100k_ms")
    if r.get("dashboard_status") not in (200, None):
        dash = f"missing (HTTP {r.get('dashboard_status')})"
    rows = [
        ("intake POST: complete submissions/s (6 POSTs each)", f("intake_post_rps"), f("intake_post_ratio", "x")),
        ("intake POST: step POSTs/s", f("intake_step_post_rps"), f("intake_step_post_ratio", "x")),
        ("baseline POST (21-field ModelForm) req/s", f("baseline_post_rps"), "1.0x"),
        ("intake form page GET req/s", f("intake_get_rps"), f("intake_get_ratio", "x")),
        ("  the same page in Spanish req/s", f("intake_get_es_rps"), f("intake_get_es_ratio", "x (es/en)")),
        ("baseline form GET req/s", f("baseline_get_rps"), "1.0x"),
        ("baseline static 5 KB page req/s", f("static_get_rps"), f("intake_get_vs_static", "x (intake/static)")),
        ("submit -> routed p50 / p95 / p99 ms", f"{f('route_p50_ms')} / {f('route_p95_ms')} / {f('route_p99_ms')}", ""),
        ("  the same with the submissions over HTTP (web saturated)",
         f"{f('route_http_p50_ms')} / {f('route_http_p95_ms')} / {f('route_http_p99_ms')}", ""),
        ("routing throughput tasks/s (-c 2)", f("route_throughput_per_s"), f("route_throughput_ratio", "x")),
        ("bare task tasks/s (-c 2)", f("baseline_task_per_s"), "1.0x"),
        ("admin case list ms @100k (queries @10 / @100k)", f("admin_list_100k_ms"),
         f"{f('admin_list_10_queries')} / {f('admin_list_queries')}"),
        ("dashboard ms @100k (queries @10 / @100k)",
         dash,
         f"{f('dashboard_10_queries')} / {f('dashboard_queries')}"),
        ("web worker RSS MB before / after", f"{f('worker_rss_mb_before')} / {f('worker_rss_mb_after')}",
         f("worker_rss_growth_pct", "%")),
    ]  # fmt: skip
    w0 = max(len(a) for a, _, _ in rows)
    w1 = max(len(b) for _, b, _ in rows)
    lines = [f"{'measure'.ljust(w0)}  {'value'.ljust(w1)}  ratio / note", "-" * (w0 + w1 + 24)]
    lines += [f"{a.ljust(w0)}  {b.ljust(w1)}  {c}" for a, b, c in rows]
    lines.append("")
    lines.append("targets:")
    for key, desc, get, target in TARGETS:
        try:
            v = get(r)
        except KeyError:
            v = None
        if v is None:
            verdict = "not measured / missing"
        elif isinstance(target, bool):
            verdict = "met" if v == target else "MISSED"
        elif key in ("route_p95", "admin_list", "dashboard", "memory"):
            verdict = "met" if v <= target else "MISSED"
        else:
            verdict = "met" if v >= target else "MISSED"
        r.setdefault("targets", {})[key] = {"target": desc, "value": v, "verdict": verdict}
        lines.append(f"  [{verdict:^22}] {desc}: {v}")
    return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="short runs (5 s wrk, fewer tasks and requests)")
    parser.add_argument("--only", default=",".join(SECTIONS), help=f"comma list of {','.join(SECTIONS)}")
    parser.add_argument("--duration", type=float, default=20, help="seconds per wrk run")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--web-workers", type=int, default=4, help="gunicorn sync workers, both projects")
    parser.add_argument("--route-rate", type=float, default=50)
    parser.add_argument("--route-seconds", type=float, default=30)
    parser.add_argument("--route-tasks", type=int, default=2000)
    parser.add_argument("--bare-tasks", type=int, default=4000)
    parser.add_argument("--admin-cases", type=int, default=100_000)
    parser.add_argument("--memory-requests", type=int, default=10_000)
    parser.add_argument(
        "--output", help="JSON path (default: results/latest.json, or results/partial.json with --only)"
    )
    args = parser.parse_args()
    only = [s.strip() for s in args.only.split(",") if s.strip()]
    unknown = set(only) - set(SECTIONS)
    if unknown:
        parser.error(f"unknown sections: {', '.join(sorted(unknown))}")

    b = Bench(args)
    started = time.time()
    b.setup()
    try:
        if "intake" in only or "get" in only or "route" in only:
            b.start_web()
        if "intake" in only:
            b.section_intake()
        if "get" in only:
            b.section_get()
        if "route" in only:
            b.section_route()
        for p in ("project", "baseline"):
            if hasattr(b, p):
                C.stop(getattr(b, p))
        if "admin" in only:
            b.section_admin()
        if "memory" in only:
            b.section_memory()
    finally:
        C.stop_all()

    r = b.r
    r.update(
        cpu_count=os.cpu_count(),
        machine=platform.platform(),
        python=platform.python_version(),
        date=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        quick=args.quick,
        sections=only,
        seconds=round(time.time() - started),
        settings={
            "wrk": f"-t{args.connections} -c{args.connections}, {b.duration} s x {args.rounds} rounds, "
            f"{b.warmup} s warm-up",
            "gunicorn": f"sync, {args.web_workers} workers each",
            "celery": "prefork -c 2, acks_late, prefetch 1",
        },
        detail=b.detail,
    )
    text = table(r)
    print()
    print(text)
    out = (
        Path(args.output)
        if args.output
        else C.RESULTS / ("latest.json" if set(only) == set(SECTIONS) else "partial.json")
    )
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(r, indent=2, default=str) + "\n")
    print(f"\nwritten: {out}")


if __name__ == "__main__":
    main()
