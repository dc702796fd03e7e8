"""Which client sent a request: the peer address, or the ``X-Forwarded-For`` hop a trusted proxy vouches for.

``X-Forwarded-For`` is written by whoever sends the request, so it is read only when the peer itself is a
proxy named in ``PRIVACYBOT_TRUSTED_PROXIES``; then the hops are walked from the right (the ones our own
proxies appended) and the first address that is not one of our proxies is the client.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from dataclasses import dataclass

from aiohttp import web

IpNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


def parse_networks(values: Iterable[str]) -> tuple[IpNetwork, ...]:
    """``10.0.0.1``, ``10.0.0.0/8``, ``::1`` as networks; raises ValueError on anything else."""
    return tuple(ipaddress.ip_network(value.strip(), strict=False) for value in values if value.strip())


@dataclass(frozen=True)
class ClientAddresses:
    """Reads the client address of a request, trusting ``X-Forwarded-For`` only from ``proxies``."""

    proxies: tuple[IpNetwork, ...] = ()

    def _trusted(self, address: str) -> bool:
        try:
            ip = ipaddress.ip_address(address)
        except ValueError:
            return False
        return any(ip in network for network in self.proxies)

    def of(self, request: web.BaseRequest) -> str:
        """The client's address (``-`` when the peer is unknown, as on a Unix socket)."""
        peer = request.remote or "-"
        if not self.proxies or not self._trusted(peer):
            return peer
        hops = [
            hop.strip()
            for value in request.headers.getall("X-Forwarded-For", [])
            for hop in value.split(",")
            if hop.strip()
        ]
        for hop in reversed(hops):
            if self._trusted(hop):
                continue
            try:
                return str(ipaddress.ip_address(hop))
            except ValueError:
                return peer  # a garbled hop: nothing to the left of it can be believed
        return hops[0] if hops else peer
