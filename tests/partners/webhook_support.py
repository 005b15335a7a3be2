"""What the webhook tests share: a partner's endpoint (a real HTTP server on
this machine) that records, holds or drips; a resolver for test names; and
emptying the webhooks Celery queue."""

import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Receiver:
    """A partner's endpoint: records each POST and answers ``status``.

    ``hold()`` makes each request wait, after it is recorded, until
    ``release()``: an endpoint that sleeps. ``in_flight`` and ``most_at_once``
    count requests being answered."""

    def __init__(self):
        self.requests = []
        self.status = 200
        self.in_flight = 0
        self.most_at_once = 0
        self.released = threading.Event()
        self.released.set()
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802  (http.server's name)
                body = self.rfile.read(int(self.headers["Content-Length"]))
                with receiver.lock:
                    receiver.requests.append((dict(self.headers), body))
                    receiver.in_flight += 1
                    receiver.most_at_once = max(receiver.most_at_once, receiver.in_flight)
                try:
                    receiver.released.wait(120)
                    self.send_response(receiver.status)
                    self.end_headers()
                except OSError:
                    pass  # the sender gave up first
                finally:
                    with receiver.lock:
                        receiver.in_flight -= 1

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_port
        self.url = f"http://127.0.0.1:{self.port}/hooks/clinic"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def hold(self):
        self.released.clear()

    def release(self):
        self.released.set()

    def close(self):
        self.release()
        self.server.shutdown()
        self.server.server_close()


class DripReceiver:
    """An endpoint that answers one header byte every ``every`` seconds, for
    ``lines`` header lines: no single read ever waits long, the whole answer
    takes long. ``finished`` is set once it has sent everything."""

    def __init__(self, every=0.1, lines=300):
        self.finished = threading.Event()
        self.started = threading.Event()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802
                self.rfile.read(int(self.headers["Content-Length"]))
                receiver.started.set()
                try:
                    self.wfile.write(b"HTTP/1.1 200 OK\r\n")
                    for i in range(lines):
                        for byte in f"X-Slow-{i}: y\r\n".encode():
                            self.wfile.write(bytes([byte]))
                            self.wfile.flush()
                            time.sleep(every / 10)
                    self.wfile.write(b"Content-Length: 0\r\n\r\n")
                    receiver.finished.set()
                except OSError:
                    pass  # the sender gave up

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_port}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


# Test names and what they resolve to; nothing here asks outside DNS.
TEST_NAMES = {
    "loopback.partner.test": ["127.0.0.1"],
    "metadata.partner.test": ["169.254.169.254"],
    "v6-loopback.partner.test": ["::1"],
    "mapped.partner.test": ["::ffff:10.0.0.1"],
    "ula.partner.test": ["fd00::1"],
    # One public and one private address: refused whole.
    "mixed.partner.test": ["93.184.215.14", "10.0.0.1"],
    "public.partner.test": ["93.184.215.14"],
}


class NameResolver:
    """Stands in for socket.getaddrinfo in partners.safehttp: the names above,
    or (``answers``) a list of answers given one per lookup (DNS rebinding).
    Literal addresses go to the real function (no lookup is made for them)."""

    def __init__(self, answers=None):
        self.lookups = []
        self.answers = list(answers or [])

    def __call__(self, host, port, *args, **kwargs):
        self.lookups.append(host)
        if self.answers:
            addresses = self.answers.pop(0)
        elif host in TEST_NAMES:
            addresses = TEST_NAMES[host]
        else:
            return socket.getaddrinfo(host, port, *args, flags=socket.AI_NUMERICHOST, **kwargs)
        return [
            (socket.AF_INET6 if ":" in a else socket.AF_INET, socket.SOCK_STREAM, 6, "", (a, port)) for a in addresses
        ]


def purge_webhooks_queue():
    """tests.conftest.purge_broker empties the case queues; this, the webhooks one."""
    from clinic.celery import app

    with app.connection_for_write() as conn:
        try:
            conn.default_channel.queue_purge("webhooks")
        except Exception:  # noqa: S110  (a queue that does not exist yet has nothing to purge)
            pass
