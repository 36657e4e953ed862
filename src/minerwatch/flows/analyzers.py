"""The contract between the flow layer and application analysers (mining pools, HTTP, brute force...).

At a TCP flow's first payload every registered `StreamFactory` that takes what the stream opens with
(TLS, SSH, HTTP or anything else: flows/opening.py) is asked, with those first bytes, whether the flow
speaks its protocol; each that says yes returns a `StreamAnalyzer` that then receives the flow's
reassembled bytes in order. When no analyser wants more, the flow is bypassed. UDP works the same way
with `DatagramFactory`, chosen at the flow's first packet.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sized
from dataclasses import dataclass
from typing import Protocol, TypeVar

from minerwatch.decode import Flow
from minerwatch.flows.info import FlowInfo


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
StreamFactory = Callable[[FlowInfo, bytes, bool], StreamAnalyzer | None]


@dataclass(frozen=True)
class ExpectedFlows:
    """A factory for flows another flow announced (an FTP data channel, from PORT or PASV): asked at a
    flow's first payload, whatever it opens with, but only while `pending` (the announced endpoints) is
    not empty, so that it costs nothing per flow the rest of the time (Suricata's app-layer expectations).
    """

    pending: Sized
    factory: StreamFactory


# (flow) -> analyser, or None; decided at the first packet from ports and addresses alone.
DatagramFactory = Callable[[FlowInfo], DatagramAnalyzer | None]
# Called for every new flow, inspected or not (address intelligence); must be cheap.
FlowStartObserver = Callable[[Flow], None]
# Called for every flow that ends, inspected or not (connection counting); must be cheap. One that is
# declared `@to_ports(...)` is called only for flows to those server ports.
FlowEndObserver = Callable[[Flow, str], None]

Observer = TypeVar("Observer", bound=FlowEndObserver)


def to_ports(ports: Iterable[int]) -> Callable[[Observer], Observer]:
    """Declare the server ports whose flows a flow-end observer wants: the inspector then finds it with one
    dict lookup per ended flow, instead of calling it for every flow (most flows are to other ports)."""

    def declare(observer: Observer) -> Observer:
        observer.server_ports = frozenset(ports)  # type: ignore[attr-defined]
        return observer

    return declare
