"""Who talked to which server, kept so that the other clients of a confirmed pool can be named as suspects.

Why: one miner speaking cleartext Stratum confirms a pool endpoint. Other hosts that reach the same server
in the same period are probably miners too, even when their own traffic shows no pool protocol: Stratum
over TLS, a session the capture caught too late, an encoding minerwatch does not peel off. The verdict
engine (verdicts.py) asks, at the end, which clients contacted each confirmed pool's address.

Memory is bounded whatever the traffic: at most `max_servers` server addresses (the least recently
contacted is forgotten first, counted in `servers_forgotten`), `max_clients` clients per server (later ones
counted in `clients_dropped`), and a few ports and flow ids per contact. Cost: one call per ended TCP flow.
"""

from __future__ import annotations

import socket
from collections import OrderedDict
from dataclasses import dataclass

from minerwatch.decode import Flow
from minerwatch.flows.info import ip_text

LISTED = 8  # ports and flow ids kept per contact


@dataclass
class Contact:
    """Every TCP connection from one client to one server address (made from the table at the end)."""

    first_seen: float
    last_seen: float
    flows: int
    ports: list[int]
    flow_ids: list[int]


class PoolPeers:
    def __init__(self, max_servers: int = 100_000, max_clients: int = 256) -> None:
        self.max_servers = max_servers
        self.max_clients = max_clients
        # server address -> client address -> [first seen, last seen, flows, ports, flow ids]: lists, not
        # objects, because this runs for every TCP flow of the capture
        self.servers: OrderedDict[bytes, dict[bytes, list]] = OrderedDict()
        self.stats = {"servers_forgotten": 0, "clients_dropped": 0}

    def flow_ended(self, flow: Flow, reason: str) -> None:
        """FlowEndObserver: remember a TCP connection that carried packets both ways."""
        if flow.proto != 6 or not flow.pkts_toclient:
            return
        servers = self.servers
        clients = servers.get(flow.server_addr)
        if clients is None:
            clients = servers[flow.server_addr] = {}
            if len(servers) > self.max_servers:
                servers.popitem(last=False)
                self.stats["servers_forgotten"] += 1
        else:
            servers.move_to_end(flow.server_addr)
        contact = clients.get(flow.client_addr)
        if contact is None:
            if len(clients) >= self.max_clients:
                self.stats["clients_dropped"] += 1
                return
            clients[flow.client_addr] = [flow.first_ts, flow.last_ts, 1, [flow.server_port], [flow.flow_id]]
            return
        contact[0] = min(contact[0], flow.first_ts)
        contact[1] = max(contact[1], flow.last_ts)
        contact[2] += 1
        ports, flow_ids = contact[3], contact[4]
        if flow.server_port not in ports and len(ports) < LISTED:
            ports.append(flow.server_port)
        if len(flow_ids) < LISTED:
            flow_ids.append(flow.flow_id)

    def clients_of(self, server_ip: str) -> dict[str, Contact]:
        """Every remembered client of `server_ip` (text), by client address text."""
        family = socket.AF_INET6 if ":" in server_ip else socket.AF_INET
        try:
            key = socket.inet_pton(family, server_ip)
        except OSError:
            return {}
        return {
            ip_text(client): Contact(first, last, flows, list(ports), list(ids))
            for client, (first, last, flows, ports, ids) in self.servers.get(key, {}).items()
        }
