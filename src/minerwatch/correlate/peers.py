"""Who talked to which server, kept so that the other clients of a confirmed pool can be named as suspects.

Why: one miner speaking cleartext Stratum confirms a pool endpoint. Other hosts that reach the same server
in the same period are probably miners too, even when their traffic shows no pool protocol: Stratum over
TLS, a session the capture caught too late, an encoding minerwatch does not peel off. The verdict engine
(verdicts.py) asks, at the end, which clients contacted each confirmed pool's address.

Memory is bounded whatever the traffic: one small tuple per (client, server address) pair, at most
`max_contacts` of them (the least recently updated is forgotten first, counted in `contacts_forgotten`);
about 450 bytes each with the dict's own overhead (6.5 MiB for the 15,000 pairs of the 1.1M-packet
benchmark capture), so at most about 45 MiB. Cost: one call per ended TCP flow, about 1.2 microseconds.
"""

from __future__ import annotations

import socket
from collections import OrderedDict
from dataclasses import dataclass

from minerwatch.decode import Flow
from minerwatch.flows.info import ip_text

LISTED = 8  # ports and flow ids kept per contact

# first seen, last seen, flows, ports (first LISTED), flow ids (first LISTED): a tuple, not an object,
# because one is made for every TCP connection of the capture
_Record = tuple[float, float, int, tuple[int, ...], tuple[int, ...]]


@dataclass(frozen=True)
class Contact:
    """Every TCP connection from one client to one server address."""

    first_seen: float
    last_seen: float
    flows: int
    ports: tuple[int, ...]
    flow_ids: tuple[int, ...]


class PoolPeers:
    def __init__(self, max_contacts: int = 100_000) -> None:
        self.max_contacts = max_contacts
        self.contacts: OrderedDict[tuple[bytes, bytes], _Record] = OrderedDict()  # (server, client) ->
        self.stats = {"contacts_forgotten": 0}
        self._by_server: dict[bytes, list[tuple[bytes, _Record]]] | None = None
        self.updates = 0  # connections remembered so far (live updates look for new ones)

    def flow_ended(self, flow: Flow, reason: str) -> None:
        """FlowEndObserver: remember a TCP connection that carried packets both ways."""
        if flow.proto != 6 or not flow.pkts_toclient:
            return
        self._by_server = None
        self.updates += 1
        key = (flow.server_addr, flow.client_addr)
        old = self.contacts.get(key)
        if old is None:
            self.contacts[key] = (flow.first_ts, flow.last_ts, 1, (flow.server_port,), (flow.flow_id,))
            if len(self.contacts) > self.max_contacts:
                self.contacts.popitem(last=False)
                self.stats["contacts_forgotten"] += 1
            return
        first, last, flows, ports, ids = old
        if flow.server_port not in ports and len(ports) < LISTED:
            ports += (flow.server_port,)
        if len(ids) < LISTED:
            ids += (flow.flow_id,)
        self.contacts[key] = (min(first, flow.first_ts), max(last, flow.last_ts), flows + 1, ports, ids)
        self.contacts.move_to_end(key)

    def clients_of(self, server_ip: str) -> dict[str, Contact]:
        """Every remembered client of `server_ip` (text), by client address text."""
        family = socket.AF_INET6 if ":" in server_ip else socket.AF_INET
        try:
            server = socket.inet_pton(family, server_ip)
        except OSError:
            return {}
        if self._by_server is None:  # built once when the verdicts are made, not per query
            self._by_server = {}
            for (address, client), record in self.contacts.items():
                self._by_server.setdefault(address, []).append((client, record))
        return {ip_text(client): Contact(*record) for client, record in self._by_server.get(server, [])}
