"""The caller's address: the one definition for sign-in limits (django-axes'
AXES_CLIENT_IP_CALLABLE), rate limits and anything else that keys on who is calling.

X-Forwarded-For is anyone's to write. It is read only when the request comes from a proxy
listed in settings.TRUSTED_PROXIES (addresses or networks), and then from the right: each
trusted proxy appends the address it saw, so the first hop from the right that is not a
trusted proxy is the client. Whatever a client wrote further left is never used. With no
trusted proxies (the default) the address is REMOTE_ADDR, always.
"""

from functools import lru_cache
from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network, ip_address, ip_network

from django.conf import settings
from django.http import HttpRequest

Address = IPv4Address | IPv6Address
Network = IPv4Network | IPv6Network
UNKNOWN = "0.0.0.0"  # noqa: S104 - a stand-in address to count by, never one to bind to


@lru_cache(maxsize=8)
def _networks(proxies: tuple[str, ...]) -> tuple[Network, ...]:
    return tuple(ip_network(proxy.strip(), strict=False) for proxy in proxies if proxy.strip())


def trusted_networks() -> tuple[Network, ...]:
    """settings.TRUSTED_PROXIES parsed (the settings refuse a wrong entry at start-up)."""
    return _networks(tuple(getattr(settings, "TRUSTED_PROXIES", ())))


def _parse(text: str) -> Address | None:
    try:
        return ip_address(text.strip())
    except ValueError:
        return None


def _is_trusted(address: Address, networks: tuple[Network, ...]) -> bool:
    return any(address in network for network in networks)


def client_ip(request: HttpRequest) -> str:
    peer = _parse(request.META.get("REMOTE_ADDR", ""))
    if peer is None:
        return UNKNOWN
    networks = trusted_networks()
    if not _is_trusted(peer, networks):
        return str(peer)
    client = peer
    hops = request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")
    for hop in reversed(hops):
        address = _parse(hop)
        if address is None:
            break  # garbage from the client: stop at the last address a proxy vouched for
        client = address
        if not _is_trusted(address, networks):
            break
    return str(client)
