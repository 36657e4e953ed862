"""One HTTP parse per flow, shared by every detector that reads HTTP (mining over HTTP, exploits, files).

`HttpStreamAnalyzer` turns the flow's bytes into complete `HttpMessage`s (head + body up to a cap) and
hands each to the registered `HttpConsumer`s; after a WebSocket upgrade it hands them text and binary
messages instead. The flow stays inspected while the connection stays HTTP and some consumer wants more.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Protocol

from minerwatch.decode import Flow
from minerwatch.flows.http_interest import BodyChoice, HttpInterest
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
)
from minerwatch.protocols.websocket import Message, WebSocketParser

MAX_BODY = 16 << 20  # per message: most miner binaries are several MiB
MAX_BUFFERED = 256 << 20  # over all flows at once


@dataclass(slots=True)
class HttpMessage:
    """A request or a response with its (decoded, capped) body; a response knows its request."""

    head: Request | Response
    ts: float
    from_client: bool
    body: bytearray = field(default_factory=bytearray)
    end: EndOfMessage | None = None
    request: HttpMessage | None = None  # for a response: the request it answers
    body_wanted: bool | None = None  # decided at the first body bytes by the consumers' declared choices
    wanted_by: tuple[HttpConsumer, ...] = ()  # the consumers that chose to read the body
    body_limit: int | None = None  # the longest prefix they read (None: the whole body); the rest is skipped
    clipped: bool = False  # the body was cut short to keep all flows' buffered bodies within budget


class HttpConsumer(Protocol):
    """Receives complete messages of the flow's one shared HTTP parse.

    `interest` is what the consumer may act on, declared once: the compiled gate hands a message to Python
    only when some consumer's interest covers it, and the Python parse keeps the bodies its `bodies`
    choice reads (flows/http_interest.py). The defaults below are what a consumer that subclasses this
    protocol gets without writing them."""

    @property
    def interest(self) -> HttpInterest: ...

    def on_http(self, flow: FlowInfo, message: HttpMessage) -> None: ...

    def on_websocket(self, flow: FlowInfo, ts: float, from_client: bool, message: Message) -> None:
        return None

    def on_http_end(self, flow: FlowInfo, flow_counters: Flow, reason: str) -> None:
        return None

    def keeps_flow(self, flow: FlowInfo) -> bool:
        """True keeps the connection parsed past the stream depth (a long getwork session known to mine)."""
        return False


@dataclass
class HttpStats:
    flows: int = 0
    messages: int = 0
    protocol_errors: int = 0
    websocket_flows: int = 0
    bodies_skipped: int = 0  # nobody read them: skipped whole
    bodies_cut: int = 0  # read up to the longest prefix a consumer asked for, the rest skipped
    bodies_clipped: int = 0
    buffered: int = 0  # body bytes held right now, over all flows (bounded by MAX_BUFFERED)
    flows_gated: int = 0  # framed by the compiled gate from their first request (decode/_httpgate.pyx)
    handovers: int = 0  # of those, handed to the Python parser at a message some detector may want


BodyReaders = list[tuple[HttpConsumer, BodyChoice]]  # the consumers that declared a body choice, with it


class HttpStreamAnalyzer:
    def __init__(
        self,
        info: FlowInfo,
        consumers: list[HttpConsumer],
        readers: BodyReaders,
        depth: int,
        stats: HttpStats,
    ) -> None:
        self.info = info
        self.consumers = consumers
        self.readers = readers
        self.depth = depth
        self.stats = stats
        self.current: dict[bool, HttpMessage | None] = {True: None, False: None}
        self.unanswered: list[HttpMessage] = []
        self.websocket: dict[bool, WebSocketParser] | None = None
        self.failed = False
        self.parsed = 0
        self.last_response: Response | None = None
        stats.flows += 1

    @cached_property
    def connection(self) -> HttpConnection:
        """Made at the first bytes: most connections are framed by the compiled gate and never need it."""
        return HttpConnection(max_body=MAX_BODY)

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
        if message is None or message.body_wanted is None:
            return None
        if message.body_wanted and (message.body_limit is None or len(message.body) < message.body_limit):
            return None
        skipped, ending = self.connection.skip_body(side)
        if not skipped:
            return None
        if message.body_wanted:
            self.stats.bodies_cut += 1
        else:
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
            current = self.current[from_client]
            if current is not None:
                self._hold(current, event.data)
                if current.body_wanted is None:
                    self._ask_consumers(current)
        elif isinstance(event, EndOfMessage):
            current = self.current[from_client]
            if current is not None:
                current.end = event
                self._dispatch(from_client, current)
        elif isinstance(event, Upgrade):
            if event.protocol == b"websocket" and self.last_response is not None:
                if self.websocket is None:
                    self.websocket = {}
                    self.stats.websocket_flows += 1
                side: Side = "client" if from_client else "server"
                self.websocket[from_client] = WebSocketParser.from_handshake(self.last_response, side)
                if event.leftover:
                    self._websocket(from_client, event.leftover, ts)
            else:
                self.failed = True  # CONNECT tunnels and other protocols are not followed yet
        elif isinstance(event, ProtocolError):
            self.stats.protocol_errors += 1
            self.failed = True

    def _ask_consumers(self, message: HttpMessage) -> None:
        """At the first body bytes: who reads this body, and how much of it."""
        answers = [(c, want) for c, reads in self.readers if (want := reads(self.info, message))]
        message.wanted_by = tuple(c for c, _ in answers)
        message.body_wanted = bool(answers)
        prefixes = [want for _, want in answers if want is not True]
        if answers and len(prefixes) == len(answers):
            message.body_limit = max(prefixes)
            excess = len(message.body) - message.body_limit
            if excess > 0:
                del message.body[message.body_limit :]
                self.stats.buffered -= excess

    def _hold(self, message: HttpMessage, data: bytes) -> None:
        """Keep body bytes while the budget shared by all flows allows; beyond it the body is clipped."""
        if message.body_limit is not None:
            data = data[: max(message.body_limit - len(message.body), 0)]
        room = MAX_BUFFERED - self.stats.buffered
        if len(data) > room:
            self.stats.bodies_clipped += not message.clipped
            message.clipped = True
            data = data[: max(room, 0)]
        message.body += data
        self.stats.buffered += len(data)

    def _release(self, message: HttpMessage) -> None:
        self.stats.buffered -= len(message.body)
        message.body = bytearray()

    def _dispatch(self, from_client: bool, message: HttpMessage) -> None:
        """Hand a complete message to the consumers. A request's body is kept until its response has been
        handed over too (consumers pair them); then both are released from the shared budget."""
        self.current[from_client] = None
        self.stats.messages += 1
        if from_client:
            self.unanswered.append(message)
            for forgotten in self.unanswered[:-64]:  # bounded: a client that is never answered
                self._release(forgotten)
            del self.unanswered[:-64]
        for consumer in self.consumers:
            consumer.on_http(self.info, message)
        if not from_client:
            self._release(message)
            if message.request is not None:
                self._release(message.request)

    def _websocket(self, from_client: bool, data: bytes, ts: float) -> None:
        assert self.websocket is not None
        parser = self.websocket.get(from_client)
        if parser is None:
            return
        for event in parser.feed(data):
            if isinstance(event, Message):
                for consumer in self.consumers:
                    consumer.on_websocket(self.info, ts, from_client, event)

    def wants_more(self, bytes_seen: int) -> bool:
        """HTTP is followed while it parses; `depth` bounds the bytes actually parsed (skipped bodies
        do not count), so long keep-alive connections stay visible at the cost of their heads. A body a
        consumer wants is followed to its end (up to MAX_BODY), past the depth."""
        if self.failed:
            return False
        receiving = any(m is not None and m.body_wanted for m in self.current.values())
        if self.websocket is not None or receiving or self.parsed <= self.depth:
            return True
        return any(c.keeps_flow(self.info) for c in self.consumers)

    def end(self, flow: Flow, ts: float, reason: str) -> None:
        """The connection is over: a body delimited by the close ends now; a message cut short is still
        handed to the consumers, with `end` None, so a partial download is reported as partial."""
        if not self.failed and self.websocket is None:
            for side in ("client", "server"):
                for event_side, event in self.connection.feed_eof(side):
                    if not isinstance(event, ProtocolError):  # "closed inside a body" is expected here
                        self._event(event_side == "client", event, ts)
        for from_client, message in list(self.current.items()):
            if message is not None:
                self._dispatch(from_client, message)
        for message in self.unanswered:
            self._release(message)
        self.unanswered.clear()
        for consumer in self.consumers:
            consumer.on_http_end(self.info, flow, reason)
