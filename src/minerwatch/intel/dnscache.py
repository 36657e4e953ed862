"""Which names recently resolved to which addresses, so a connection to a bare IP can be attributed.

A miner that resolved `xmr.pool.example` (perhaps through CNAMEs) and then connects to 192.0.2.7
shows no name in that flow; `names_for("192.0.2.7", ts)` gives the names back so they can be matched.

Time is capture time. An entry lives for the record's TTL, clamped to [MIN_TTL, MAX_TTL]: resolvers
and miners keep using addresses past short TTLs, and a hostile huge TTL must not pin memory. The cache
holds at most `capacity` addresses, least recently seen dropped first, so memory is bounded.
"""

from __future__ import annotations

import socket
from collections import OrderedDict

from minerwatch.protocols.dns import TYPE_A, TYPE_AAAA, TYPE_CNAME, DnsMessage

MIN_TTL = 300.0
MAX_TTL = 86400.0
_MAX_CHAIN = 16
_MAX_NAMES_PER_IP = 8


_V4_MAPPED = bytes(10) + b"\xff\xff"


def _key(ip: str | bytes) -> bytes | None:
    """The packed address (IPv4-mapped IPv6 as IPv4). socket.inet_pton is an order of magnitude cheaper
    than ipaddress, and this runs for every DNS answer and every new flow."""
    if isinstance(ip, str):
        try:
            packed = socket.inet_pton(socket.AF_INET6 if ":" in ip else socket.AF_INET, ip)
        except (OSError, ValueError):
            return None
    elif len(ip) == 4:  # a flow's IPv4 address, the usual case
        return bytes(ip)
    elif len(ip) == 16:
        packed = bytes(ip)
    else:
        return None
    return packed[12:] if len(packed) == 16 and packed.startswith(_V4_MAPPED) else packed


def _expiry(ttl: float, ts: float) -> float:
    ttl = float(ttl)  # clamped with comparisons: min() and max() are two calls per DNS answer
    return ts + (MIN_TTL if ttl < MIN_TTL else MAX_TTL if ttl > MAX_TTL else ttl)


class DnsCache:
    def __init__(self, capacity: int = 100_000) -> None:
        self.capacity = capacity
        self._entries: OrderedDict[bytes, dict[str, float]] = OrderedDict()  # ip -> name -> expiry

    def __len__(self) -> int:
        return len(self._entries)

    def add(self, name: str, ip: str | bytes, ttl: float, ts: float) -> None:
        """Remember that `name` resolved to `ip` at capture time `ts`."""
        key = _key(ip)
        if key is not None and name:
            self._remember(key, name.rstrip(".").lower(), _expiry(ttl, ts))

    def _remember(self, key: bytes, name: str, expiry: float) -> None:
        """`name` (normalised) resolved to `key` until `expiry`: the address becomes the most recent."""
        entries = self._entries
        names = entries.get(key)
        if names is None:
            names = entries[key] = {}
            while len(entries) > self.capacity:
                entries.popitem(last=False)
        else:
            entries.move_to_end(key)
        names[name] = expiry
        if len(names) > _MAX_NAMES_PER_IP:
            del names[min(names, key=names.__getitem__)]

    def observe(self, message: DnsMessage, ts: float) -> None:
        """Learn from a DNS response: each address is linked to its owner and the names CNAMEd to it."""
        if not message.is_response:
            return
        aliases: dict[str, set[str]] = {}  # target -> names that are CNAMEs of it
        for name, rtype, _, data in message.answers:
            if rtype == TYPE_CNAME and data:
                aliases.setdefault(data.lower(), set()).add(name.lower())
        for owner, rtype, ttl, data in message.answers:  # the A and AAAA answers, unpacked in place
            if (rtype != TYPE_A and rtype != TYPE_AAAA) or not data or (key := _key(data)) is None:
                continue
            expiry = _expiry(ttl, ts)
            owner = owner.lower()
            for name in chain(owner, aliases) if aliases else (owner,):
                if name:
                    self._remember(key, name.rstrip("."), expiry)

    def names_for(self, ip: str | bytes, ts: float) -> tuple[str, ...]:
        """Names that resolved to `ip` and had not expired at capture time `ts`."""
        # A flow's IPv4 server address (every new flow asks) is its own key: no conversion to make.
        if isinstance(ip, bytes) and len(ip) == 4:
            names = self._entries.get(ip)
        else:
            key = _key(ip)
            names = self._entries.get(key) if key else None
        if not names:
            return ()
        return tuple(sorted(n for n, expiry in names.items() if ts <= expiry))


def chain(owner: str, aliases: dict[str, set[str]]) -> list[str]:
    """The owner and every name that leads to it through CNAMEs (bounded, cycle-safe)."""
    seen = [owner]
    frontier = [owner]
    while frontier and len(seen) < _MAX_CHAIN:
        frontier = [a for name in frontier for a in aliases.get(name, ()) if a not in seen]
        seen += frontier
    return seen[:_MAX_CHAIN]
