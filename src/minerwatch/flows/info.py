"""The Python view of a flow for events: printable addresses and the Community ID, computed once, lazily.

Most flows never produce an event, so nothing here is computed for them.
"""

from __future__ import annotations

import socket
from functools import cached_property
from typing import Any

import communityid

from minerwatch.decode import Flow
from minerwatch.events import iso_timestamp

_PROTO_NAMES = {6: "TCP", 17: "UDP"}
_COMMUNITY_ID = communityid.CommunityID()


def ip_text(raw: bytes) -> str:
    return socket.inet_ntop(socket.AF_INET if len(raw) == 4 else socket.AF_INET6, raw)


class FlowInfo:
    """Satisfies events.FlowLike for one engine Flow; text forms are computed only when asked for."""

    __slots__ = ("__dict__", "client_port", "flow", "flow_id", "server_port")

    def __init__(self, flow: Flow) -> None:
        self.flow = flow
        self.flow_id: int = flow.flow_id
        self.client_port: int = flow.client_port
        self.server_port: int = flow.server_port

    @cached_property
    def proto(self) -> str:
        return _PROTO_NAMES.get(self.flow.proto, str(self.flow.proto))

    @cached_property
    def client_ip(self) -> str:
        return ip_text(self.flow.client_addr)

    @cached_property
    def server_ip(self) -> str:
        return ip_text(self.flow.server_addr)

    @cached_property
    def community_id(self) -> str:
        """The Community ID v1 flow hash (seed 0), as Zeek and Suricata print it."""
        make = communityid.FlowTuple.make_tcp if self.flow.proto == 6 else communityid.FlowTuple.make_udp
        return _COMMUNITY_ID.calc(make(self.client_ip, self.server_ip, self.client_port, self.server_port))


def flow_counters(flow: Flow) -> dict[str, Any]:
    """A flow's time span and packet and byte counts per direction, as flow-describing events show them."""
    return {
        "start": iso_timestamp(flow.first_ts),
        "end": iso_timestamp(flow.last_ts),
        "pkts_toserver": flow.pkts_toserver,
        "pkts_toclient": flow.pkts_toclient,
        "bytes_toserver": flow.bytes_toserver,
        "bytes_toclient": flow.bytes_toclient,
    }
