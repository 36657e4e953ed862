"""One HTTP parse per flow, shared by every detector that reads HTTP (mining over HTTP, exploits, files).

`HttpStreamAnalyzer` turns the flow's bytes into complete `HttpMessage`s (head + body up to a cap) and
hands each to the registered `HttpConsumer`s; after a WebSocket upgrade it hands them text and binary
messages instead. The flow stays inspected while the connection stays HTTP and some consumer wants more.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

from minerwatch.decode import Flow
from minerwatch.flows.info import FlowInfo
from minerwatch.protocols.http import (
    Data,
    EndOfMessage,
    HttpConnection,
    ProtocolError,
    Request,
    Response,
    Side,
    Upgrade,
    looks_like_http_request,
    looks_like_http_response,
)
from minerwatch.protocols.websocket import Message, WebSocketParser


@dataclass(slots=True)
class HttpMessage:
    """A request or a response with its (decoded, capped) body; a response knows its request."""

    head: Request | Response
    ts: float
    from_client: bool
    body: bytearray = field(default_factory=bytearray)
    end: EndOfMessage | None = None
    request: HttpMessage | None = None  # for a response: the request it answers
    body_wanted: bool | None = None  # decided at the first body bytes by asking the consumers


class HttpConsumer(Protocol):
    """Receives complete messages. A consumer may also define `wants_body(flow, message) -> bool`, asked
    once per message at its first body bytes (already in `message.body`); a body no consumer wants is
    skipped when its length is known, so its packets never reach Python. Without it: always wanted."""

    def on_http(self, flow: FlowInfo, message: HttpMessage) -> None: ...

    def on_websocket(self, flow: FlowInfo, ts: float, from_client: bool, message: Message) -> None: ...

    def on_http_end(self, flow: FlowInfo, flow_counters: Flow, reason: str) -> None: ...


@dataclass
class HttpStats:
    flows: int = 0
    messages: int = 0
    protocol_errors: int = 0
    websocket_flows: int = 0
    bodies_skipped: int = 0


class HttpStreamAnalyzer:
    def __init__(self, info: FlowInfo, consumers: list[HttpConsumer], depth: int, stats: HttpStats) -> None:
        self.info = info
        self.consumers = consumers
        self.depth = depth
        self.stats = stats
        self.connection = HttpConnection()
        self.current: dict[bool, HttpMessage | None] = {True: None, False: None}
        self.unanswered: list[HttpMessage] = []
        self.websocket: dict[bool, WebSocketParser] | None = None
        self.failed = False
        self.parsed = 0
        self.last_response: Response | None = None
        stats.flows += 1

    def data(self, to_server: bool, data: bytes, ts: float, gap: bool) -> int | None:
        if self.failed:
            return None
        if self.websocket is not None:
            self._websocket(to_server, data, ts)
            return None
        if gap:
            self.failed = True  # HTTP framing cannot be recovered after lost bytes
            return None
        self.parsed += len(data)
        side: Side = "client" if to_server else "server"
        for event_side, event in self.connection.feed(side, data):
            self._event(event_side == "client", event, ts)
        message = self.current[to_server]
        if message is None or message.body_wanted is not False:
            return None
        skipped, ending = self.connection.skip_body(side)
        if not skipped:
            return None
        self.stats.bodies_skipped += 1
        for event_side, event in ending:
            self._event(event_side == "client", event, ts)
        return skipped

    def _event(self, from_client: bool, event: object, ts: float) -> None:
        if isinstance(event, Request | Response):
            message = HttpMessage(event, ts, from_client)
            if isinstance(event, Response):
                self.last_response = event
                if self.unanswered and event.status >= 200:
                    message.request = self.unanswered.pop(0)
            self.current[from_client] = message
        elif isinstance(event, Data):
            message = self.current[from_client]
            if message is not None:
                message.body += event.data
                if message.body_wanted is None:
                    message.body_wanted = any(self._wants_body(c, message) for c in self.consumers)
        elif isinstance(event, EndOfMessage):
            message = self.current[from_client]
            self.current[from_client] = None
            if message is not None:
                message.end = event
                self.stats.messages += 1
                if from_client:
                    self.unanswered.append(message)
                    del self.unanswered[:-64]  # bounded: a client that is never answered
                for consumer in self.consumers:
                    consumer.on_http(self.info, message)
        elif isinstance(event, Upgrade):
            if event.protocol == b"websocket" and self.last_response is not None:
                if self.websocket is None:
                    self.websocket = {}
                    self.stats.websocket_flows += 1
                side = "client" if from_client else "server"
                self.websocket[from_client] = WebSocketParser.from_handshake(self.last_response, side)
                if event.leftover:
                    self._websocket(from_client, event.leftover, ts)
            else:
                self.failed = True  # CONNECT tunnels and other protocols are not followed yet
        elif isinstance(event, ProtocolError):
            self.stats.protocol_errors += 1
            self.failed = True

    def _websocket(self, from_client: bool, data: bytes, ts: float) -> None:
        assert self.websocket is not None
        parser = self.websocket.get(from_client)
        if parser is None:
            return
        for event in parser.feed(data):
            if isinstance(event, Message):
                for consumer in self.consumers:
                    consumer.on_websocket(self.info, ts, from_client, event)

    def _wants_body(self, consumer: HttpConsumer, message: HttpMessage) -> bool:
        wants = getattr(consumer, "wants_body", None)
        return True if wants is None else wants(self.info, message)

    def wants_more(self, bytes_seen: int) -> bool:
        """HTTP is followed while it parses; `depth` bounds the bytes actually parsed (skipped bodies
        do not count), so long keep-alive connections stay visible at the cost of their heads."""
        return not self.failed and (self.websocket is not None or self.parsed <= self.depth)

    def end(self, flow: Flow, ts: float, reason: str) -> None:
        for consumer in self.consumers:
            consumer.on_http_end(self.info, flow, reason)


def http_analyzer_factory(
    consumers: list[HttpConsumer], depth: int, stats: HttpStats
) -> Callable[[FlowInfo, bytes, bool], HttpStreamAnalyzer | None]:
    """StreamFactory for flows whose first bytes are an HTTP request (or a response, if picked up late)."""

    def make(info: FlowInfo, first: bytes, to_server: bool) -> HttpStreamAnalyzer | None:
        if looks_like_http_request(first) or looks_like_http_response(first):
            return HttpStreamAnalyzer(info, consumers, depth, stats)
        return None

    return make
