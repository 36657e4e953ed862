"""Mining inside HTTP and WebSocket, read from the one shared HTTP parse (flows/http.py).

HTTP: getwork / getblocktemplate / submitblock (cgminer, bfgminer) and Ethereum getWork (eth_getWork,
eth_submitWork, eth_submitHashrate) as JSON-RPC request bodies, answered in the response bodies. The login
is not in the JSON: it is the HTTP Basic user, or the wallet in the URL (`/?miner=diff@wallet@rig`,
`/wallet/worker`); the agent is the User-Agent, with the X-Mining-Extensions it announces. A pool
answering `X-Stratum: stratum+tcp://...` sends the miner to Stratum: a `redirect` behaviour.
WebSocket: CoinHive-style {"type": ...} messages and proxies relaying Stratum/CryptoNote JSON-RPC.
Bodies and messages that are not JSON are tried under the encodings of protocols/encodings.py.
"""

from __future__ import annotations

import binascii
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

import orjson

from minerwatch.decode import Flow
from minerwatch.detectors.base import Detector, DetectorContext, DetectorParts, NoOptions
from minerwatch.detectors.pool_behaviour import Channel, PoolBehaviourDetector, make_detector
from minerwatch.flows.http import HttpConsumer, HttpMessage
from minerwatch.flows.http_interest import HttpInterest
from minerwatch.flows.info import FlowInfo
from minerwatch.identity import validate_wallet
from minerwatch.protocols.http import Request, Response
from minerwatch.protocols.mining import Job, Login, MiningMessage, PoolSession, Redirect, Reply
from minerwatch.protocols.mining.coinhive import CoinHiveSession, is_coinhive
from minerwatch.protocols.mining.dialects import HTTP_NAMES
from minerwatch.protocols.mining.obfuscated import SNIFF_BYTES, sniff
from minerwatch.protocols.websocket import Message

MAX_BODY = 256 * 1024  # JSON-RPC mining bodies are small; a getblocktemplate answer can reach ~100 KiB
MAX_LOGINS = 8  # distinct credentials remembered per flow
WALLET_KEYS = ("miner", "wallet", "address", "user", "login", "worker")


@dataclass
class HttpMiningStats:
    flows: int = 0
    encoded_bodies: int = 0
    websocket_flows: int = 0
    redirects: int = 0


@dataclass
class _FlowState:
    session: PoolSession = field(default_factory=PoolSession)
    coinhive: CoinHiveSession = field(default_factory=CoinHiveSession)
    logins: set[tuple[str, str | None]] = field(default_factory=set)
    pending_logins: dict[int, Login] = field(default_factory=dict)  # id(request HttpMessage) -> login
    host: str | None = None
    websocket: bool = False


class MiningHttpConsumer(HttpConsumer):
    """An HttpConsumer: turns mining JSON-RPC in HTTP and WebSocket messages into pool behaviours."""

    def __init__(self, detector: PoolBehaviourDetector, stats: HttpMiningStats) -> None:
        self.detector = detector
        self.stats = stats
        self._flows: dict[int, _FlowState] = {}

    def keeps_flow(self, flow: FlowInfo) -> bool:
        """A connection that carried pool protocol is evidence to its end, like a Stratum flow."""
        return flow.flow_id in self._flows

    @property
    def interest(self) -> HttpInterest:
        """Pool protocol over HTTP is POSTed (getwork, getblocktemplate, eth_getWork) or upgraded to a
        WebSocket: the gate hands both over itself; a plain GET and its answer say nothing here."""
        return HttpInterest(bodies=self._reads_body)

    def _reads_body(self, flow: FlowInfo, message: HttpMessage) -> bool:
        """Requests that start like JSON or an encoded pool request, and every answer on a flow already
        known to mine; other bodies may be skipped by the HTTP layer."""
        if not message.from_client:
            return flow.flow_id in self._flows
        start = bytes(message.body[:SNIFF_BYTES]).lstrip()
        return start[:1] in (b"{", b"[") or sniff(start) is not None

    def on_http(self, flow: FlowInfo, message: HttpMessage) -> None:
        head = message.head
        if isinstance(head, Request):
            self._request(flow, message, head)
        elif message.request is not None and (state := self._flows.get(flow.flow_id)) is not None:
            self._response(flow, message, head, state)

    def _request(self, flow: FlowInfo, message: HttpMessage, head: Request) -> None:
        state = self._flows.get(flow.flow_id)
        if head.headers.get(b"upgrade", b"").lower() == b"websocket":
            state = state or self._flows.setdefault(flow.flow_id, _FlowState())
            state.host = _host(head)
            return
        objects, encoding = _json_objects(bytes(message.body[:MAX_BODY]), self.stats)
        if not objects:
            return
        session = state.session if state is not None else PoolSession()
        found = [m for obj in objects for _, m in session.feed_object(True, obj)]
        if not found:
            return
        if state is None:
            state = self._flows[flow.flow_id] = _FlowState(session=session)
        state.host = state.host or _host(head)
        channel = Channel("http", encoding, state.host)
        _relabel(found)
        login = _login(head, found[0].dialect)
        if login is not None and self._new_login(state, login):
            state.pending_logins[id(message)] = login
            self.detector.on_mining(flow, message.ts, True, login, channel)
        for mining in found:
            self.detector.on_mining(flow, message.ts, True, mining, channel)

    @staticmethod
    def _new_login(state: _FlowState, login: Login) -> bool:
        """A login is reported once per flow and credentials (a getwork miner sends them every request)."""
        key = (login.login, login.password)
        if key in state.logins or len(state.logins) >= MAX_LOGINS:
            return False
        state.logins.add(key)
        return True

    def _response(self, flow: FlowInfo, message: HttpMessage, head: Response, state: _FlowState) -> None:
        objects, encoding = _json_objects(bytes(message.body[:MAX_BODY]), self.stats)
        channel = Channel("http", encoding, state.host)
        login = state.pending_logins.pop(id(message.request), None)
        found: list[MiningMessage] = []
        if login is not None:
            ok = 200 <= head.status < 300
            found.append(
                Reply(
                    dialect=login.dialect,
                    method=login.method,
                    from_miner=False,
                    request=login,
                    ok=ok,
                    error=None if ok else f"HTTP {head.status}",
                )
            )
        found += [m for obj in objects for _, m in state.session.feed_object(False, obj)]
        _relabel(found)
        long_polling = head.headers.get(b"x-long-polling")
        for mining in found:
            if isinstance(mining, Job) and long_polling:
                mining.fields["long_polling"] = long_polling[:256].decode("latin-1")
        stratum = head.headers.get(b"x-stratum")
        if stratum and state.session.mining_messages:
            self.stats.redirects += 1
            dialect = next((m.dialect for m in found), "getwork")
            target = stratum[:256].decode("latin-1").strip()
            found.append(Redirect(dialect=dialect, method="X-Stratum", from_miner=False, target=target))
        for mining in found:
            self.detector.on_mining(flow, message.ts, False, mining, channel)

    def on_websocket(self, flow: FlowInfo, ts: float, from_client: bool, message: Message) -> None:
        state = self._flows.get(flow.flow_id)
        if state is None:
            state = self._flows[flow.flow_id] = _FlowState()
        if not state.websocket:
            state.websocket = True
            self.stats.websocket_flows += 1
        objects, encoding = _json_objects(message.payload[:MAX_BODY], self.stats)
        channel = Channel("websocket", encoding, state.host)
        for obj in objects:
            if is_coinhive(obj):
                found = state.coinhive.feed(from_client, obj)
                state.session.mining_messages += len(found)
            else:
                found = [m for _, m in state.session.feed_object(from_client, obj)]
            for mining in found:
                self.detector.on_mining(flow, ts, from_client, mining, channel)

    def on_http_end(self, flow: FlowInfo, flow_counters: Flow, reason: str) -> None:
        state = self._flows.pop(flow.flow_id, None)
        if state is not None and state.session.mining_messages:
            self.stats.flows += 1
            app_proto = "websocket" if state.websocket else "http"
            self.detector.on_flow_end(flow, flow_counters, state.session, reason, app_proto)


def _json_objects(body: bytes, stats: HttpMiningStats) -> tuple[list[dict[str, Any]], str | None]:
    """The JSON objects of a body (one object, a batch, or JSON lines), after peeling off an encoding."""
    text = body.strip()
    if not text:
        return [], None
    encoding = None
    if text[:1] not in (b"{", b"["):
        decoder = sniff(text)
        if decoder is None:
            return [], None
        text, encoding = decoder.feed(text).strip(), decoder.name
        stats.encoded_bodies += 1
    try:
        parsed = [orjson.loads(text)]
    except orjson.JSONDecodeError:
        parsed = []
        for line in text.splitlines()[:256]:
            try:
                parsed.append(orjson.loads(line))
            except orjson.JSONDecodeError:
                continue
    objects = [o for p in parsed for o in (p if isinstance(p, list) else [p]) if isinstance(o, dict)]
    return objects[:256], encoding


def _relabel(messages: list[MiningMessage]) -> None:
    for message in messages:
        message.dialect = HTTP_NAMES.get(message.dialect, message.dialect)


def _host(head: Request) -> str | None:
    host = head.headers.get(b"host")
    if not host:
        return None
    name = host[:260].decode("latin-1").strip()
    return name.rsplit(":", 1)[0] if name.count(":") == 1 else name


def _login(head: Request, dialect: str) -> Login | None:
    """The account a miner speaks for over HTTP: a wallet in the URL, else the Basic credentials."""
    agent_header = head.headers.get(b"user-agent")
    agent = agent_header[:256].decode("latin-1") if agent_header else None
    announced = b" ".join(head.headers.get_all(b"x-mining-extensions"))[:512].replace(b",", b" ")
    extensions = tuple(t.decode("latin-1")[:32] for t in announced.split()[:16])
    found: tuple[str, str | None, str | None] | None = _url_wallet(head.target[:2048].decode("latin-1"))
    method = "url"
    if found is None:
        found = _basic_auth(head.headers.get(b"authorization"))
        method = "basic-auth"
    if found is None:
        return None
    login, password, worker = found
    return Login(
        dialect=dialect,
        method=method,
        from_miner=True,
        id=method,
        login=login,
        password=password,
        worker=worker,
        agent=agent,
        extensions=extensions,
    )


def _url_wallet(target: str) -> tuple[str, None, str | None] | None:
    """(wallet, None, worker) from `?miner=diff@wallet@rig`-style queries or a `/wallet/worker` path."""
    parts = urlsplit(target)
    for key, value in parse_qsl(parts.query)[:32]:
        if key.lower() in WALLET_KEYS:
            pieces = value.split("@")[:8]
            for index, piece in enumerate(pieces):
                if validate_wallet(piece) is not None:
                    worker = pieces[index + 1] if index + 1 < len(pieces) else None
                    return piece, None, worker or None
    segments = [unquote(s) for s in parts.path.split("/") if s][:4]
    if segments and validate_wallet(segments[0]) is not None:
        return segments[0], None, segments[1] if len(segments) > 1 else None
    return None


def _basic_auth(header: bytes | None) -> tuple[str, str | None, None] | None:
    if not header or header[:6].lower() != b"basic ":
        return None
    try:
        decoded = binascii.a2b_base64(header[6:512].strip(), strict_mode=True).decode("utf-8", "replace")
    except binascii.Error:
        return None
    user, _, password = decoded.partition(":")
    return (user, password or None, None) if user else None


def setup(ctx: DetectorContext, options: NoOptions) -> DetectorParts:
    stats = HttpMiningStats()
    consumer = MiningHttpConsumer(make_detector(ctx), stats)
    return DetectorParts(http_consumers=[consumer], stats=lambda: vars(stats).copy())


DETECTOR = Detector("mining_http", NoOptions, setup)
