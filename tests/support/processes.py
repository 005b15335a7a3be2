"""Processes a test starts beside itself: the environment a Django or Celery
subprocess needs to share this test's database, and waiting for a condition."""

import os
import time


def django_process_env(**extra) -> dict:
    """The environment of a Django process (a Celery worker, beat, a command)
    on this test's database, broker settings and MRI folder; ``extra`` on top."""
    from django.conf import settings
    from django.db import connection

    env = dict(os.environ)
    db = connection.settings_dict
    if connection.vendor == "postgresql":
        env["DATABASE_URL"] = (
            f"postgres://{db['USER'] or 'postgres'}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
        )
    else:
        env["DATABASE_URL"] = f"sqlite:///{db['NAME']}"
    env["DJANGO_SETTINGS_MODULE"] = "clinic.settings.test"
    env["INTAKE_PRIVATE_ROOT"] = str(settings.INTAKE_PRIVATE_ROOT)
    env.update({k: str(v) for k, v in extra.items()})
    return env


def wait_for(predicate, timeout=15.0, interval=0.05):
    """The predicate's first true value within ``timeout`` seconds, or AssertionError."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError("condition not met in time")


class CeleryWorker:
    """``celery -A clinic worker`` (prefork) as its own process on this test's
    database, its log in a file; ``env`` on top of ``django_process_env``."""

    def __init__(self, log, *, queues: str = "urgent,routine", concurrency: int = 1, name: str = "test", **env):
        import subprocess
        import sys
        from pathlib import Path

        self.log = log
        with open(log, "w") as fh:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "celery", "-A", "clinic", "worker", "-Q", queues, "-c", str(concurrency),
                 "-P", "prefork", "-l", "INFO", "--without-heartbeat", "--without-mingle", "--without-gossip",
                 "-n", f"{name}@%h"],
                cwd=Path(__file__).resolve().parents[2], env=django_process_env(**env), stdout=fh,
                stderr=subprocess.STDOUT,
            )  # fmt: skip

    def text(self) -> str:
        return self.log.read_text()

    def ready(self) -> bool:
        assert self.proc.poll() is None, self.text()[-3000:]
        return " ready." in self.text()

    def stop(self) -> None:
        import signal
        import subprocess

        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
