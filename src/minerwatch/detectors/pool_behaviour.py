"""Pool behaviour detector: typed pool-protocol messages in, one `mining` event per behaviour out.

The five behaviours are registration, job dispatch, login, share submission and difficulty change (plus the
miner's own hashrate reports). A request's event waits for its answer so that it carries the outcome
(login accepted? share rejected, and why?); requests never answered are emitted when the flow ends.
The miner is whoever sends miner requests, the pool whoever sends work, whichever side opened the flow.
Every transport (TCP, HTTP, WebSocket, a decoded obfuscated stream) feeds the same engine through
`on_mining` with a `Channel` naming the transport and the encoding peeled off.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from minerwatch.correlate.observations import Behaviour, BehaviourObservation
from minerwatch.decode import Flow
from minerwatch.detectors.base import Detector, DetectorContext, DetectorParts, NoOptions
from minerwatch.detectors.mining_identity import (
    agent_fields,
    job_algorithm,
    login_fields,
    normalised_algorithms,
)
from minerwatch.detectors.sightings import Kind, Sighting
from minerwatch.events import Event, EventFactory
from minerwatch.flows.analyzers import StreamFactory
from minerwatch.flows.info import FlowInfo, flow_counters
from minerwatch.flows.opening import Opening, opening
from minerwatch.identity import WalletInfo
from minerwatch.protocols.mining import (
    Difficulty,
    Hashrate,
    Job,
    Login,
    MiningMessage,
    PoolSession,
    Redirect,
    Registration,
    Reply,
    Submit,
)
from minerwatch.protocols.mining.dialects import LOGIN_REGISTERS

# JSON lines without a single pool message before a flow is given up (a mid-session pickup shows a job
# or share within a few lines; subscribe/login come first in a whole session).
MAX_OTHER_LINES = 64


@dataclass(frozen=True, slots=True)
class Channel:
    """How the messages reached us: transport (tcp | http | websocket), encoding peeled off, pool host."""

    transport: str = "tcp"
    encoding: str | None = None
    pool_host: str | None = None


TCP = Channel()
Pending = tuple[float, Behaviour, MiningMessage, bool, Channel]


class PoolBehaviourDetector:
    def __init__(
        self,
        events: EventFactory,
        emit: Callable[[Event], None],
        observe: Callable[[BehaviourObservation], None],
        sight: Callable[[Sighting], None] | None = None,
    ) -> None:
        self.events = events
        self.emit = emit
        self.observe = observe
        self.sight = sight
        self._awaiting: dict[int, dict[int, Pending]] = {}  # flow id -> id(request) -> pending behaviour
        self._difficulty: dict[int, float] = {}  # flow id -> last difficulty seen

    def on_mining(
        self, flow: FlowInfo, ts: float, to_server: bool, message: MiningMessage, channel: Channel = TCP
    ) -> None:
        miner_is_client = message.from_miner == to_server
        if isinstance(message, Registration | Login | Submit):
            behaviour = (
                Behaviour.REGISTRATION
                if isinstance(message, Registration)
                else Behaviour.LOGIN
                if isinstance(message, Login)
                else Behaviour.SUBMIT
            )
            if message.id is None:
                self._behaviour(flow, ts, behaviour, message, miner_is_client, channel, None, None)
            else:
                pending = (ts, behaviour, message, miner_is_client, channel)
                self._awaiting.setdefault(flow.flow_id, {})[id(message)] = pending
        elif isinstance(message, Reply):
            found = self._awaiting.get(flow.flow_id, {}).pop(id(message.request), None)
            if found is not None:
                sent_ts, behaviour, request, miner_side, sent_on = found
                outcome = "accepted" if message.ok else "rejected"
                error = message.error
                self._behaviour(flow, sent_ts, behaviour, request, miner_side, sent_on, outcome, error)
        elif isinstance(message, Job):
            self._behaviour(flow, ts, Behaviour.JOB, message, miner_is_client, channel, None, None)
            if message.difficulty is not None:
                self._difficulty_change(flow, ts, message, miner_is_client, channel, message.difficulty)
        elif isinstance(message, Difficulty):
            self._difficulty_change(flow, ts, message, miner_is_client, channel, message.difficulty)
        elif isinstance(message, Hashrate):
            self._behaviour(flow, ts, Behaviour.HASHRATE, message, miner_is_client, channel, None, None)
        elif isinstance(message, Redirect):
            self._behaviour(flow, ts, Behaviour.REDIRECT, message, miner_is_client, channel, None, None)

    def on_flow_end(
        self, info: FlowInfo, flow: Flow, pool: PoolSession, reason: str, app_proto: str = "mining"
    ) -> None:
        """Emit what still waits for an answer, then the flow's own event."""
        for ts, behaviour, request, miner_side, channel in self._awaiting.pop(info.flow_id, {}).values():
            self._behaviour(info, ts, behaviour, request, miner_side, channel, "unanswered", None)
        self._difficulty.pop(info.flow_id, None)
        body = {
            "app_proto": app_proto,
            **flow_counters(flow),
            "reason": reason,
            "mining_messages": pool.mining_messages,
            "methods": dict(pool.methods),
            "other_lines": pool.other_lines,
        }
        self.emit(self.events.make("flow", flow.last_ts, body, info))

    def _difficulty_change(
        self,
        flow: FlowInfo,
        ts: float,
        message: MiningMessage,
        miner_is_client: bool,
        channel: Channel,
        value: float | None,
    ) -> None:
        if value is not None and self._difficulty.get(flow.flow_id) == value:
            return
        if value is not None:
            self._difficulty[flow.flow_id] = value
        self._behaviour(
            flow, ts, Behaviour.DIFFICULTY, message, miner_is_client, channel, None, None, difficulty=value
        )

    def _behaviour(
        self,
        flow: FlowInfo,
        ts: float,
        behaviour: Behaviour,
        message: MiningMessage,
        miner_is_client: bool,
        channel: Channel,
        outcome: str | None,
        error: str | None,
        difficulty: float | None = None,
    ) -> None:
        body: dict[str, Any] = {
            "behaviour": str(behaviour),
            "dialect": message.dialect,
            "method": message.method,
            "transport": channel.transport,
        }
        if channel.encoding is not None:
            body["encoding"] = channel.encoding
        if channel.pool_host is not None:
            body["pool_host"] = channel.pool_host
        if outcome is not None:
            body["outcome"] = outcome
        if error is not None:
            body["error"] = error
        details, wallet = self._details(message, behaviour, difficulty)
        body.update(details)
        event = self.events.make("mining", ts, body, flow, reverse=not miner_is_client)
        self.emit(event)  # masks secrets in a copy of `body`: the correlator below gets the raw login
        miner, pool = (
            (flow.client_ip, flow.server_ip) if miner_is_client else (flow.server_ip, flow.client_ip)
        )
        pool_port = flow.server_port if miner_is_client else flow.client_port
        indicators: list[tuple[Kind, str]] = []
        keys: tuple[tuple[Kind, str], ...] = (("wallet", "login"), ("agent", "agent"))
        for kind, key in keys:
            if body.get(key):
                indicators.append((kind, body[key]))
        indicators += [("url", url) for url in body.get("urls", ())]
        if indicators and self.sight is not None:
            self.sight(
                Sighting(
                    ts,
                    event["event_id"],
                    flow,
                    not miner_is_client,
                    miner,
                    pool,
                    f"mining {behaviour}",
                    tuple(indicators),
                )
            )
        self.observe(
            BehaviourObservation(
                behaviour=behaviour,
                ts=ts,
                miner_ip=miner,
                pool_ip=pool,
                pool_port=pool_port,
                dialect=message.dialect,
                event_id=event["event_id"],
                outcome=outcome,
                login=body.get("login"),
                agent=body.get("agent"),
                algorithm=body.get("algorithm"),
                job_shape=body.get("job_shape"),
                difficulty=body.get("difficulty"),
                registers=isinstance(message, Login) and message.dialect in LOGIN_REGISTERS,
                transport=channel.transport,
                encoding=channel.encoding,
                pool_host=channel.pool_host,
                wallet=wallet,
                redirect=message.target if isinstance(message, Redirect) else None,
            )
        )

    def _details(
        self, message: MiningMessage, behaviour: Behaviour, difficulty: float | None
    ) -> tuple[dict[str, Any], WalletInfo | None]:
        """The behaviour's own fields, with identity (wallet, agent, algorithm) where the message has it."""
        if behaviour is Behaviour.DIFFICULTY:
            target = message.target if isinstance(message, Difficulty | Job) else None
            return _present(difficulty=difficulty, target=target), None
        if isinstance(message, Registration):
            fields = _present(agent=message.agent, protocol=message.protocol)
            if message.agent:
                fields["agent_info"] = agent_fields(message.agent)
            return fields, None
        if isinstance(message, Login):
            return self._login(message)
        if isinstance(message, Job):
            algorithm, basis = job_algorithm(message)
            return _present(
                job_id=message.job_id,
                job_shape=message.shape,
                algorithm=algorithm,
                algorithm_raw=message.algorithm if message.algorithm != algorithm else None,
                algorithm_basis=basis,
                target=message.target,
                difficulty=message.difficulty,
                height=message.height,
                seed_hash=message.seed_hash,
                clean_jobs=message.clean,
                long_polling=message.fields.get("long_polling"),
            ), None
        if isinstance(message, Submit):
            return _present(job_id=message.job_id, login=message.login, nonce=message.nonce), None
        if isinstance(message, Hashrate):
            return _present(hashrate=message.hashrate), None
        if isinstance(message, Redirect):
            return {"target": message.target, "urls": [message.target]}, None
        return {}, None

    def _login(self, message: Login) -> tuple[dict[str, Any], WalletInfo | None]:
        fields = _present(
            login=message.login,
            password=message.password,  # masked with the login's own password by output/secrets.py
            worker=message.worker,
            agent=message.agent,
            algorithms=list(message.algorithms) or None,
            algorithms_normalised=normalised_algorithms(message.algorithms) or None,
            rigid=message.rigid,
            extensions=list(message.extensions) or None,
            registration=message.dialect in LOGIN_REGISTERS or None,
        )
        identity, wallet = login_fields(message.login, message.password)
        for key, value in identity.items():
            fields.setdefault(key, value)
        if message.agent:
            fields["agent_info"] = agent_fields(message.agent)
        return fields, wallet


def _present(**fields: Any) -> dict[str, Any]:
    return {k: v for k, v in fields.items() if v is not None}


@dataclass
class PoolProtocolStats:
    flows: int = 0
    overlong_lines: int = 0
    invalid_json_lines: int = 0
    dropped_requests: int = 0


class PoolStreamAnalyzer:
    """Attaches a PoolSession to one TCP flow and hands its messages to the detector."""

    def __init__(self, detector: PoolBehaviourDetector, info: FlowInfo, depth: int, stats: PoolProtocolStats):
        self.detector = detector
        self.info = info
        self.depth = depth
        self.stats = stats
        self.session = PoolSession()

    def data(self, to_server: bool, data: bytes, ts: float, gap: bool) -> None:
        if gap:
            self.session.gap(to_server)
        for direction, message in self.session.feed(to_server, data):
            self.detector.on_mining(self.info, ts, direction, message)

    def wants_more(self, bytes_seen: int) -> bool:
        """A pool flow is evidence to its end; anything else only up to the stream depth, or until
        MAX_OTHER_LINES lines have gone by with no pool message (a JSON log or API stream)."""
        if self.session.mining_messages > 0:
            return True
        return bytes_seen <= self.depth and self.session.other_lines < MAX_OTHER_LINES

    def end(self, flow: Flow, ts: float, reason: str) -> None:
        for framer in self.session.framers.values():
            self.stats.overlong_lines += framer.stats.overlong_lines
            self.stats.invalid_json_lines += framer.stats.invalid_json
        self.stats.dropped_requests += self.session.dropped_requests
        if self.session.mining_messages:
            self.stats.flows += 1
            self.detector.on_flow_end(self.info, flow, self.session, reason)


def looks_like_json(data: bytes) -> bool:
    """First bytes of a JSON-lines stream, also when the capture starts mid-line (a line then follows),
    unless the stream opens like another protocol. A whole HTTP request or status line is left to the
    shared HTTP parse (detectors/mining_http.py), which frames JSON-RPC bodies properly; that test is
    strict so that a pickup inside a long hex blob still counts as JSON lines."""
    head = data[:4096].lstrip()
    if head[:1] in (b"{", b"["):
        return True
    return b"\n{" in head and opening(head) is Opening.OTHER


def pool_analyzer_factory(
    detector: PoolBehaviourDetector, depth: int, stats: PoolProtocolStats
) -> StreamFactory:
    """Flows whose first bytes look like JSON lines."""

    def make(info: FlowInfo, first: bytes, to_server: bool) -> PoolStreamAnalyzer | None:
        return PoolStreamAnalyzer(detector, info, depth, stats) if looks_like_json(first) else None

    return StreamFactory(make, Opening.OTHER)


def make_detector(ctx: DetectorContext) -> PoolBehaviourDetector:
    """A behaviour engine for one plugin; engines keep per-flow state only, so plugins need not share one."""
    return PoolBehaviourDetector(ctx.events, ctx.emit, ctx.correlator.observe, ctx.sight)


def setup(ctx: DetectorContext, options: NoOptions) -> DetectorParts:
    stats = PoolProtocolStats()
    detector = make_detector(ctx)
    return DetectorParts(
        stream_factories=[pool_analyzer_factory(detector, ctx.options.stream_depth, stats)],
        stats=lambda: vars(stats).copy(),
    )


DETECTOR = Detector("pool_protocols", NoOptions, setup)
