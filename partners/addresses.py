"""The bucket a client address counts in, for calls without a valid key.

One IPv4 address is one bucket. An IPv6 client usually holds a whole /64 (and
can pick any address in it for each request), so its /64 is one bucket: else
a single machine could write one audit entry per address per minute without
end, and never meet the per-address limit.
"""

import ipaddress


def address_bucket(address: str) -> str:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address  # "unknown" (no address), kept as it is
    if ip.version == 6:
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)  # ::ffff:a.b.c.d is the IPv4 client a.b.c.d
        return str(ipaddress.ip_network(f"{ip}/64", strict=False))
    return str(ip)
