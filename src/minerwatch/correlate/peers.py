"""Who talked to which server, kept so that the other clients of a confirmed pool can be named as suspects.

Why: one miner speaking cleartext Stratum confirms a pool endpoint. Other hosts that reach the same server
in the same period are probably miners too, even when their traffic shows no pool protocol: Stratum over
TLS, a session the capture caught too late, an encoding minerwatch does not peel off. The verdict engine
(verdicts.py) asks, at the end, which clients contacted each confirmed pool's address.

Memory is bounded whatever the traffic: one small tuple per (client, server address) pair, at most
`max_contacts` of them (the least recently updated is forgotten first, counted in `contacts_forgotten`);
about 450 bytes each with the dict's own overhead (6.5 MiB for the 15,000 pairs of the 1.1M-packet
benchmark capture), so at most about 45 MiB. Cost: one call per ended TCP flow, about 1.2 microseconds.
`minerwatch ingest` feeds it the answered TCP connections of sensor logs (`connection`), so that the same
suspects come from Suricata's and Zeek's logs.
"""

from __future__ import annotations

import socket
from collections import OrderedDict
from dataclasses import dataclass

from minerwatch.correlate.observations import ContactObservation, ObservationTap
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


def answered_tcp(flow: Flow) -> bool:
    """Is the flow a contact worth remembering (with workers, checked before it is sent: scale/worker.py)?"""
    return flow.proto == 6 and flow.pkts_toclient > 0


class PoolPeers:
    def __init__(self, max_contacts: int = 100_000) -> None:
        self.max_contacts = max_contacts
        self.contacts: OrderedDict[tuple[bytes, bytes], _Record] = OrderedDict()  # (server, client) ->
        self.stats = {"contacts_forgotten": 0}
        self._by_server: dict[bytes, list[tuple[bytes, _Record]]] | None = None
        self.updates = 0  # connections remembered so far (live updates look for new ones)
        self.tap: ObservationTap | None = None  # sees each connection remembered (bus/publish.py)

    def flow_ended(self, flow: Flow, reason: str) -> None:
        """FlowEndObserver: remember a TCP connection that carried packets both ways."""
        if not answered_tcp(flow):
            return
        if self.tap is not None:
            client, server = ip_text(flow.client_addr), ip_text(flow.server_addr)
            self.tap(
                ContactObservation(
                    flow.first_ts, flow.last_ts, client, server, flow.server_port, flow.flow_id
                )
            )
        key = (flow.server_addr, flow.client_addr)
        self._remember(key, flow.first_ts, flow.last_ts, flow.server_port, flow.flow_id)

    def connection(
        self, client: str, server: str, server_port: int, first: float, last: float, flow_id: int | None
    ) -> None:
        """A TCP connection a sensor's log reported answered (minerwatch ingest: EVE flow, Zeek conn), or
        a sensor published (minerwatch correlate)."""
        packed = _packed(server), _packed(client)
        if packed[0] is not None and packed[1] is not None:
            self._remember((packed[0], packed[1]), first, last, server_port, flow_id)

    def _remember(
        self, key: tuple[bytes, bytes], first_ts: float, last_ts: float, port: int, flow_id: int | None
    ) -> None:
        self._by_server = None
        self.updates += 1
        ids_seen = () if flow_id is None else (flow_id,)
        old = self.contacts.get(key)
        if old is None:
            self.contacts[key] = (first_ts, last_ts, 1, (port,), ids_seen)
            if len(self.contacts) > self.max_contacts:
                self.contacts.popitem(last=False)
                self.stats["contacts_forgotten"] += 1
            return
        first, last, flows, ports, ids = old
        if port not in ports and len(ports) < LISTED:
            ports += (port,)
        if len(ids) < LISTED:
            ids += ids_seen
        self.contacts[key] = (min(first, first_ts), max(last, last_ts), flows + 1, ports, ids)
        self.contacts.move_to_end(key)

    def clients_of(self, server_ip: str) -> dict[str, Contact]:
        """Every remembered client of `server_ip` (text), by client address text."""
        server = _packed(server_ip)
        if server is None:
            return {}
        if self._by_server is None:  # built once when the verdicts are made, not per query
            self._by_server = {}
            for (address, client), record in self.contacts.items():
                self._by_server.setdefault(address, []).append((client, record))
        return {ip_text(client): Contact(*record) for client, record in self._by_server.get(server, [])}


def _packed(address: str) -> bytes | None:
    """An address text in the flow table's form (4 or 16 bytes); None when it is none."""
    try:
        return socket.inet_pton(socket.AF_INET6 if ":" in address else socket.AF_INET, address)
    except OSError:
        return None
