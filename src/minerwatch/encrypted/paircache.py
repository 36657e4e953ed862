"""Which (miner, pool) address pairs are known to mine, so that their later encrypted flows are counted.

Why: a miner that once spoke cleartext Stratum to a pool (a behaviour-confirmed pool, correlate/verdicts.py)
or that reached an address threat intelligence knows as a pool, and then talks TLS to the same address,
is mining over TLS: nothing else in those flows is needed to say so. nDPI keeps such caches (its
`ookla`/`bittorrent` LRU caches with a time-to-live) for the same reason.

Memory is bounded: at most `max_pairs` entries (the least recently used is evicted and counted); an entry
not confirmed or used for `ttl` seconds of capture time expires (counted when found stale). Each entry is one
small object (about 300 bytes), so the default 50,000 pairs cost at most about 15 MiB.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass, field

DEFAULT_MAX_PAIRS = 50_000
DEFAULT_TTL = 24 * 3600.0  # a miner reconnects to its pool for days; a day without contact forgets it
LISTED = 8  # flow ids kept per pair


@dataclass(slots=True)
class PairEntry:
    """A confirmed pair and the encrypted flows counted on it since."""

    basis: str  # "behaviour" (cleartext pool protocol reached a stage) or "intel" (a known pool address)
    confidence: float  # of the confirmation: the pool's verdict confidence, or the indicator's
    confirmed_at: float
    last_used: float
    event_ids: tuple[int, ...] = ()  # the events that confirmed it
    flows: int = 0  # encrypted flows counted on the pair
    bytes: int = 0
    flow_ids: list[int] = field(default_factory=list)


class PairCache:
    """LRU of (client address, server address), as text, -> PairEntry, with expiry in capture time."""

    def __init__(self, max_pairs: int = DEFAULT_MAX_PAIRS, ttl: float = DEFAULT_TTL) -> None:
        self.max_pairs = max_pairs
        self.ttl = ttl
        self._pairs: OrderedDict[tuple[str, str], PairEntry] = OrderedDict()
        # client -> its pairs here: the encrypted detector's compiled checkpoint gate asks whether a client
        # has any (encrypted/_checkpoints.pyx) without a Python call
        self.clients: dict[str, int] = {}
        self.stats = {"pairs_confirmed": 0, "pairs_evicted": 0, "pairs_expired": 0, "encrypted_flows": 0}

    def __len__(self) -> int:
        return len(self._pairs)

    def confirm(
        self,
        client: str,
        server: str,
        ts: float,
        basis: str,
        confidence: float,
        event_ids: tuple[int, ...] = (),
    ) -> None:
        """Mark the pair as mining; a behaviour confirmation outranks an intel one, then confidence."""
        key = (client, server)
        entry = self.get(*key, ts)
        if entry is None:
            self._pairs[key] = PairEntry(basis, confidence, ts, ts, event_ids)
            self.clients[client] = self.clients.get(client, 0) + 1
            self.stats["pairs_confirmed"] += 1
            if len(self._pairs) > self.max_pairs:
                self._forget(self._pairs.popitem(last=False)[0])
                self.stats["pairs_evicted"] += 1
            return
        if (basis == "behaviour", confidence) > (entry.basis == "behaviour", entry.confidence):
            entry.basis, entry.confidence, entry.event_ids = basis, confidence, event_ids
        entry.last_used = max(entry.last_used, ts)
        self._pairs.move_to_end(key)

    def count(self, client: str, server: str, ts: float, flow_id: int, size: int) -> PairEntry | None:
        """The pair's entry, with this encrypted flow counted on it; None when the pair is not known."""
        key = (client, server)
        entry = self.get(*key, ts)
        if entry is None:
            return None
        entry.flows += 1
        entry.bytes += size
        if len(entry.flow_ids) < LISTED:
            entry.flow_ids.append(flow_id)
        entry.last_used = max(entry.last_used, ts)
        self._pairs.move_to_end(key)
        self.stats["encrypted_flows"] += 1
        return entry

    def get(self, client: str, server: str, ts: float) -> PairEntry | None:
        """The pair's entry, without counting a flow (None when unknown or expired at `ts`)."""
        key = (client, server)
        entry = self._pairs.get(key)
        if entry is not None and ts - entry.last_used > self.ttl:
            del self._pairs[key]
            self._forget(key)
            self.stats["pairs_expired"] += 1
            return None
        return entry

    def _forget(self, key: tuple[str, str]) -> None:
        """A pair left the cache: its client's count goes down (and out at 0)."""
        client = key[0]
        if self.clients[client] == 1:
            del self.clients[client]
        else:
            self.clients[client] -= 1
