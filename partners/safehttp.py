"""Where the clinic's server may connect on a partner's behalf, and the one
HTTP POST that goes there (webhooks).

A webhook URL is typed in by a supervisor, so it must never reach inside the
clinic's network (Redis, the cloud's metadata service, the admin of a router).
The rule lives here, once:

* ``url_problem`` judges a URL when it is registered, without DNS: the scheme
  and any literal address or obviously internal name (the model's ``clean``,
  so the admin and ``partner_key`` both get it).
* ``post`` judges it again when it is sent: the host name is resolved once,
  EVERY address it resolves to is checked (a name that resolves to one public
  and one private address is refused whole), and the connection goes to an
  address that was checked, never through a second lookup (DNS rebinding).
  The Host header and TLS (SNI and the certificate check) use the name.

Refused: loopback, private, shared (100.64/10), link-local, unique-local,
site-local, multicast, reserved and unspecified addresses, IPv4 and IPv6,
with IPv4 inside IPv6 (mapped, compatible, 6to4, Teredo, NAT64) judged as the
IPv4 address it carries. Loopback is allowed only when ``allow_loopback``
(INTAKE_WEBHOOK_ALLOW_LOOPBACK: development and tests; production sets it
off), and plain http only to loopback.

No proxy from the environment, no redirects (the body is signed for this URL),
and one deadline for the name lookup, connect, send and answer together
(``timeout``).
"""

from __future__ import annotations

import http.client
import ipaddress
import socket
import ssl
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass
from socket import getaddrinfo  # the one name lookup; tests replace it with their own resolver
from urllib.parse import urlsplit

PUBLIC, LOOPBACK, INTERNAL = "public", "loopback", "internal"
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
# Names that are inside a network by definition (RFC 6761, 6762, 8375) or by custom.
_INTERNAL_SUFFIXES = (".local", ".internal", ".localdomain", ".lan", ".home.arpa", ".intranet", ".corp")


class DestinationRefused(Exception):
    """The URL points inside the clinic's network, or is not https."""


def address_kind(address: str | ipaddress.IPv4Address | ipaddress.IPv6Address) -> str:
    """PUBLIC, LOOPBACK or INTERNAL for one IP address."""
    ip = ipaddress.ip_address(address.split("%", 1)[0] if isinstance(address, str) else address)
    if ip.is_loopback:
        return LOOPBACK
    if ip.version == 6:
        carried = _carried_ipv4(ip)
        if carried is not None:
            return address_kind(carried)
    if (
        ip.is_private
        or ip.is_link_local
        or ip.is_multicast
        or ip.is_reserved
        or ip.is_unspecified
        or (ip.version == 6 and ip.is_site_local)
        or not ip.is_global
    ):
        return INTERNAL
    return PUBLIC


def _carried_ipv4(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 address stands for, if it stands for one."""
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip.sixtofour is not None:
        return ip.sixtofour
    if ip.teredo is not None:
        return ip.teredo[1]
    if ip in _NAT64:
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    if int(ip) >> 32 == 0:  # IPv4-compatible ::a.b.c.d (deprecated, still routed by some stacks)
        return ipaddress.IPv4Address(int(ip))
    return None


def _literal(host: str):
    """The address a host written as an address means, including the old
    forms the resolver still accepts (``2130706433``, ``0x7f.1``)."""
    try:
        return ipaddress.ip_address(host.split("%", 1)[0])
    except ValueError:
        pass
    try:
        return ipaddress.IPv4Address(socket.inet_aton(host))
    except OSError:
        return None


def _name_kind(host: str) -> str | None:
    """LOOPBACK or INTERNAL for a name that is obviously one, else None."""
    name = host.rstrip(".").lower()
    if name == "localhost" or name.endswith(".localhost"):
        return LOOPBACK
    if "." not in name or name.endswith(_INTERNAL_SUFFIXES):
        return INTERNAL  # a single label is completed by the server's own search domains
    return None


HTTPS_ONLY = "Use an https:// address."
HTTPS_OR_LOOPBACK = "Use an https:// address (http:// only to this machine, in development)."
INSIDE = (
    "This address is inside the clinic's own network (this machine, a private, link-local or "
    "reserved address, or an internal name). Use the partner's public https:// address."
)


def url_problem(url: str, *, allow_loopback: bool, resolved_later: bool = False) -> str | None:
    """Why this URL cannot be a webhook destination (no DNS), or None.

    ``resolved_later``: plain http to a name is judged by what it resolves to."""
    try:
        parts = urlsplit(url or "")
        host, _port = parts.hostname, parts.port
    except ValueError:
        return HTTPS_ONLY
    if parts.scheme not in ("https", "http") or not host:
        return HTTPS_OR_LOOPBACK if allow_loopback else HTTPS_ONLY
    if parts.username is not None or parts.password is not None:
        return "Leave the user name and password out of the address; the signature authenticates the clinic."
    literal = _literal(host)
    kind = address_kind(literal) if literal is not None else _name_kind(host)
    if kind == INTERNAL or (kind == LOOPBACK and not allow_loopback):
        return INSIDE
    if parts.scheme == "http" and not (allow_loopback and (kind == LOOPBACK or (resolved_later and kind is None))):
        return HTTPS_OR_LOOPBACK if allow_loopback else HTTPS_ONLY
    return None


@dataclass(frozen=True)
class Destination:
    scheme: str
    host: str
    port: int
    target: str  # path and query, as sent in the request line
    addresses: tuple[str, ...]  # every one checked


# Name lookups run here, a few at a time, so a caller can stop waiting for one:
# getaddrinfo itself cannot be interrupted, and the system resolver may take
# its own timeout times its attempts (often 10 s or more) to give up. A lookup
# still stuck when its caller has given up keeps its thread until the resolver
# returns; with every thread stuck, further lookups wait in line and their
# callers give up on time all the same.
_LOOKUPS = ThreadPoolExecutor(max_workers=4, thread_name_prefix="webhook-dns")


def _lookup(host: str, port: int, timeout: float | None):
    future = _LOOKUPS.submit(getaddrinfo, host, port, type=socket.SOCK_STREAM)
    try:
        return future.result(timeout=timeout)
    except FutureTimeout:
        future.cancel()  # still waiting in line: never started
        raise TimeoutError(f"{host} did not resolve within {timeout:g} s") from None


def destination_resolve(url: str, *, allow_loopback: bool, timeout: float | None = None) -> Destination:
    """Resolve the URL's host once and check every address; raise
    DestinationRefused, or TimeoutError when the lookup takes longer than
    ``timeout`` seconds."""
    problem = url_problem(url, allow_loopback=allow_loopback, resolved_later=True)
    if problem:
        raise DestinationRefused(f"{problem} ({url!r})")
    parts = urlsplit(url)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        infos = _lookup(parts.hostname, port, timeout)
    except TimeoutError:
        raise
    except OSError as exc:
        raise DestinationRefused(f"{parts.hostname} does not resolve: {exc}") from exc
    addresses = tuple(dict.fromkeys(info[4][0] for info in infos))
    if not addresses:
        raise DestinationRefused(f"{parts.hostname} resolves to no address")
    kinds = {a: address_kind(a) for a in addresses}
    for address, kind in kinds.items():
        if kind == INTERNAL or (kind == LOOPBACK and not allow_loopback):
            raise DestinationRefused(f"{parts.hostname} resolves to {address}, inside the network")
    if parts.scheme == "http" and set(kinds.values()) != {LOOPBACK}:
        raise DestinationRefused(f"{parts.hostname}: plain http to an address other than this machine")
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return Destination(parts.scheme, parts.hostname, port, target, addresses)


class _PinnedHTTPConnection(http.client.HTTPConnection):
    """http.client, connecting to an address already checked (no lookup)."""

    def __init__(self, host, port, *, address: str, **kwargs):
        super().__init__(host, port, **kwargs)
        self.address = address

    def connect(self):
        self.sock = socket.create_connection((self.address, self.port), self.timeout)


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    """As above, with TLS: SNI and the certificate checked against the name."""

    def __init__(self, host, port, *, address: str, **kwargs):
        super().__init__(host, port, **kwargs)
        self.address = address

    def connect(self):
        sock = socket.create_connection((self.address, self.port), self.timeout)
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)


def post(url: str, body: bytes, headers: dict, *, timeout: float, allow_loopback: bool) -> int:
    """POST ``body`` to a checked address of ``url``; the answer's status code.

    Raises DestinationRefused, OSError (refused, reset, TLS) or TimeoutError.
    ``timeout`` bounds the name lookup, connect, send and the answer's status
    line and headers together: a server that answers a byte at a time is cut off all the same.
    The answer's body is not read."""
    deadline = time.monotonic() + timeout
    destination = destination_resolve(url, allow_loopback=allow_loopback, timeout=timeout)
    conn, error = None, None
    for address in destination.addresses:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            break
        cls = _PinnedHTTPSConnection if destination.scheme == "https" else _PinnedHTTPConnection
        extra = {"context": ssl.create_default_context()} if destination.scheme == "https" else {}
        candidate = cls(destination.host, destination.port, address=address, timeout=remaining, **extra)
        try:
            candidate.connect()
        except OSError as exc:
            candidate.close()
            error = exc
            continue
        conn = candidate
        break
    if conn is None:
        raise error or TimeoutError("no time left to connect")
    expired = threading.Event()

    def cut_off():
        expired.set()
        sock = conn.sock
        if sock is not None:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    watchdog = threading.Timer(max(0.0, deadline - time.monotonic()), cut_off)
    watchdog.daemon = True
    watchdog.start()
    try:
        conn.request("POST", destination.target, body=body, headers=headers)
        status = conn.getresponse().status
    except (OSError, http.client.HTTPException) as exc:
        if expired.is_set():
            raise TimeoutError(f"no answer within {timeout:g} s") from exc
        raise
    finally:
        watchdog.cancel()
        conn.close()
    if expired.is_set():
        raise TimeoutError(f"no answer within {timeout:g} s")
    return status
