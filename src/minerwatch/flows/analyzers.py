"""The contract between the flow layer and application analysers (mining pools, HTTP, brute force...).

At a TCP flow's first payload every registered `StreamFactory` that takes what the stream opens with
(TLS, SSH, HTTP or anything else: flows/opening.py) and the flow's server port is asked, with those first
bytes, whether the flow speaks its protocol; each that says yes returns a `StreamAnalyzer` that then
receives the flow's reassembled bytes in order. When no analyser wants more, the flow is bypassed. UDP
works the same way with `DatagramFactory`, chosen at the flow's first packet.
"""

from __future__ import annotations

from collections.abc import Callable, Sized
from dataclasses import dataclass
from typing import Protocol

from minerwatch.decode import Flow
from minerwatch.flows.info import FlowInfo
from minerwatch.flows.opening import Opening


class StreamAnalyzer(Protocol):
    def data(self, to_server: bool, data: bytes, ts: float, gap: bool) -> int | None:
        """In-order bytes of one direction; `gap` says bytes were lost just before them.

        May return a number of bytes of this direction, following `data`, that the analyser does not need
        (e.g. the rest of an HTTP body nobody reads). When every analyser on the flow says so, the flow
        layer skips them without handing them up (the hot path drops those segments).
        """

    def wants_more(self, bytes_seen: int) -> bool:
        """False once the analyser has finished or given up (e.g. past its inspection depth)."""

    def end(self, flow: Flow, ts: float, reason: str) -> None:
        """The flow ended (FIN/RST and timeout, eviction, end of capture), or the analyser stopped
        wanting bytes or the flow was bypassed ("bypass")."""


class DatagramAnalyzer(Protocol):
    def datagram(self, to_server: bool, payload: bytes, ts: float) -> None: ...

    def end(self, flow: Flow, ts: float, reason: str) -> None: ...


# (flow, first bytes, their direction) -> analyser, or None when the protocol is not its own.
MakeStream = Callable[[FlowInfo, bytes, bool], StreamAnalyzer | None]
# (flow) -> analyser, or None; decided at the first packet from ports and addresses alone.
MakeDatagram = Callable[[FlowInfo], DatagramAnalyzer | None]


@dataclass(frozen=True)
class StreamFactory:
    """Asked at a TCP flow's first payload, only when the stream opens with one of `openings` and, when
    `ports` is given, goes to one of those server ports. Both are promises: `make` returns None for every
    other flow (tests hold the shipped factories to them), so the inspector skips it without a call."""

    make: MakeStream
    openings: Opening = Opening.ANY
    ports: frozenset[int] | None = None


@dataclass(frozen=True)
class DatagramFactory:
    """Asked at a UDP flow's first packet, only when one of its ports (either end: which end is the
    server is a guess for UDP) is in `ports`, when given."""

    make: MakeDatagram
    ports: frozenset[int] | None = None


@dataclass(frozen=True)
class ExpectedFlows:
    """A factory for flows another flow announced (an FTP data channel, from PORT or PASV): asked at a
    flow's first payload, whatever it opens with, but only while `pending` (the announced endpoints) is
    not empty, so that it costs nothing per flow the rest of the time (Suricata's app-layer expectations).
    """

    pending: Sized
    make: MakeStream


@dataclass(frozen=True)
class FlowEndObserver:
    """Called for every flow that ends, inspected or not (connection counting), so it must be cheap; with
    `ports`, only for flows to those server ports: one dict lookup per ended flow finds it."""

    observe: Callable[[Flow, str], None]
    ports: frozenset[int] | None = None


# Called for every new flow, inspected or not (address intelligence); must be cheap.
FlowStartObserver = Callable[[Flow], None]
