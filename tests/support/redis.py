"""A private redis-server on a free port, for tests that must lose or inspect
a broker without touching the shared one."""

import subprocess
import time
from contextlib import contextmanager

from .s3 import free_port


@contextmanager
def private_redis():
    """Yield ``(port, cli)``: ``cli(*args)`` runs redis-cli against it."""
    port = free_port()
    proc = subprocess.Popen(
        ["redis-server", "--bind", "127.0.0.1", "--port", str(port), "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )

    def cli(*args: str) -> str:
        return subprocess.run(
            ["redis-cli", "-p", str(port), *args], capture_output=True, text=True, timeout=10
        ).stdout.strip()

    deadline = time.monotonic() + 30
    while cli("ping") != "PONG":
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            raise RuntimeError("private redis-server did not start")
        time.sleep(0.1)
    try:
        yield port, cli
    finally:
        proc.terminate()
        proc.wait(timeout=10)
