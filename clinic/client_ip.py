"""The real client address behind trusted proxies, worked out once per request.

Behind a load balancer ``REMOTE_ADDR`` is the balancer's address, so rate
limits, django-axes, the consent record and the audit trail would all see one
"client". Each proxy appends the address it received the request from to
``X-Forwarded-For``; only the entries appended by proxies we trust mean
anything, because a client can send any header it likes. So the header is read
from the right: starting at ``REMOTE_ADDR``, each hop that is a trusted proxy
hands over to the address on its left, and the first hop that is not trusted is
the client. With no proxy trusted (the default) the header is ignored.

Two ways to name the proxies (``clinic/settings/base.py``, "Operations"):

* ``INTAKE_TRUSTED_PROXIES``: networks (CIDR) the proxies' addresses are in;
* ``INTAKE_TRUSTED_PROXY_COUNT``: how many proxies stand in front of the app
  (when their addresses are not known in advance, as with a cloud balancer).
  Hop ``n`` (0 is ``REMOTE_ADDR``) is trusted when ``n`` < the count.

A hop is trusted if either says so. A malformed entry stops the walk at the
nearest trusted hop, which is then used as the address: it is the last one we
know to be real.

Why not django-ipware: python-ipware matches trusted proxies by string prefix
rather than by network, and without configuration it believes the left-most
``X-Forwarded-For`` entry, the one a client can forge. The rule above is short
enough to own and test (``tests/clinic/test_client_ip.py``).
"""

import functools
import ipaddress

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


@functools.lru_cache(maxsize=8)
def _networks(specs: tuple[str, ...]) -> tuple:
    try:
        return tuple(ipaddress.ip_network(spec.strip(), strict=False) for spec in specs if spec.strip())
    except ValueError as exc:
        raise ImproperlyConfigured(f"INTAKE_TRUSTED_PROXIES: {exc}") from exc


def _parse(value: str) -> IPAddress | None:
    """An address as proxies write it: bare, ``v4:port`` or ``[v6]:port``."""
    value = value.strip().strip('"')
    if value.startswith("["):  # [2001:db8::1]:443
        value = value[1:].partition("]")[0]
    elif value.count(":") == 1:  # 203.0.113.7:51234
        value = value.partition(":")[0]
    try:
        address = ipaddress.ip_address(value)
    except ValueError:
        return None
    # ::ffff:203.0.113.7 is 203.0.113.7 (dual-stack sockets report it so).
    mapped = getattr(address, "ipv4_mapped", None)
    return mapped or address


def resolve_client_ip(meta, *, trusted_networks=(), trusted_count: int = 0) -> str | None:
    """The client's address from a WSGI environ / ``request.META``.

    ``trusted_networks``: ``ip_network`` objects; ``trusted_count``: how many
    hops (``REMOTE_ADDR`` first) are proxies whatever their address.
    """
    remote = _parse(meta.get("REMOTE_ADDR") or "")
    if remote is None:
        return None
    forwarded = meta.get("HTTP_X_FORWARDED_FOR", "")
    hops = [hop for hop in forwarded.split(",") if hop.strip()] if forwarded else []

    current, depth = remote, 0
    while hops and (depth < trusted_count or any(current in net for net in trusted_networks)):
        previous = _parse(hops.pop())
        if previous is None:
            break
        current, depth = previous, depth + 1
    return str(current)


def client_ip_from_settings(meta) -> str | None:
    return resolve_client_ip(
        meta,
        trusted_networks=_networks(tuple(settings.INTAKE_TRUSTED_PROXIES)),
        trusted_count=settings.INTAKE_TRUSTED_PROXY_COUNT,
    )


def client_ip(request) -> str | None:
    """The request's client address: the one ``ClientIPMiddleware`` worked
    out, or worked out now for a request that did not pass through it.
    Also ``AXES_CLIENT_IP_CALLABLE``."""
    if request is None:
        return None
    try:
        return request.client_ip
    except AttributeError:
        address = client_ip_from_settings(request.META)
        try:
            request.client_ip = address
        except AttributeError:  # a request-like object that refuses attributes
            pass
        return address


class ClientIPMiddleware:
    """Sets ``request.client_ip`` once, before anything else reads it."""

    def __init__(self, get_response):
        self.get_response = get_response
        # Fail at start-up, not on the first request, if a network is malformed.
        _networks(tuple(settings.INTAKE_TRUSTED_PROXIES))

    def __call__(self, request):
        request.client_ip = client_ip_from_settings(request.META)
        return self.get_response(request)
