"""Pool behaviour detector: typed pool-protocol messages in, one `mining` event per behaviour out.

The five behaviours are registration, job dispatch, login, share submission and difficulty change (plus the
miner's own hashrate reports). A request's event waits for its answer so that it carries the outcome
(login accepted? share rejected, and why?); requests never answered are emitted when the flow ends.
The miner is whoever sends miner requests, the pool whoever sends work, whichever side opened the flow.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from minerwatch.correlate.observations import Behaviour, BehaviourObservation
from minerwatch.decode import Flow
from minerwatch.detectors.base import DetectorContext, DetectorPlugin
from minerwatch.events import Event, EventFactory, iso_timestamp
from minerwatch.flows.info import FlowInfo
from minerwatch.protocols.mining import (
    Difficulty,
    Hashrate,
    Job,
    Login,
    MiningMessage,
    PoolSession,
    Registration,
    Reply,
    Submit,
)

# Dialects with no separate subscribe: their login is also the registration.
LOGIN_REGISTERS = frozenset({"cryptonote", "eth-proxy"})
MASK = "********"

Pending = tuple[float, Behaviour, MiningMessage, bool]


class PoolBehaviourDetector:
    def __init__(
        self,
        events: EventFactory,
        emit: Callable[[Event], None],
        observe: Callable[[BehaviourObservation], None],
        show_secrets: bool = False,
    ) -> None:
        self.events = events
        self.emit = emit
        self.observe = observe
        self.show_secrets = show_secrets
        self._awaiting: dict[int, dict[int, Pending]] = {}  # flow id -> id(request) -> pending behaviour
        self._difficulty: dict[int, float] = {}  # flow id -> last difficulty seen

    def on_mining(self, flow: FlowInfo, ts: float, to_server: bool, message: MiningMessage) -> None:
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
                self._behaviour(flow, ts, behaviour, message, miner_is_client, None, None)
            else:
                self._awaiting.setdefault(flow.flow_id, {})[id(message)] = (
                    ts,
                    behaviour,
                    message,
                    miner_is_client,
                )
        elif isinstance(message, Reply):
            pending = self._awaiting.get(flow.flow_id, {}).pop(id(message.request), None)
            if pending is not None:
                sent_ts, behaviour, request, miner_side = pending
                outcome = "accepted" if message.ok else "rejected"
                self._behaviour(flow, sent_ts, behaviour, request, miner_side, outcome, message.error)
        elif isinstance(message, Job):
            self._behaviour(flow, ts, Behaviour.JOB, message, miner_is_client, None, None)
            if message.difficulty is not None:
                self._difficulty_change(flow, ts, message, miner_is_client, message.difficulty)
        elif isinstance(message, Difficulty):
            self._difficulty_change(flow, ts, message, miner_is_client, message.difficulty)
        elif isinstance(message, Hashrate):
            self._behaviour(flow, ts, Behaviour.HASHRATE, message, miner_is_client, None, None)

    def on_flow_end(self, info: FlowInfo, flow: Flow, pool: PoolSession, reason: str) -> None:
        """Emit what still waits for an answer, then the flow's own event."""
        for ts, behaviour, request, miner_side in self._awaiting.pop(info.flow_id, {}).values():
            self._behaviour(info, ts, behaviour, request, miner_side, "unanswered", None)
        self._difficulty.pop(info.flow_id, None)
        body = {
            "app_proto": "mining",
            "start": iso_timestamp(flow.first_ts),
            "end": iso_timestamp(flow.last_ts),
            "pkts_toserver": flow.pkts_toserver,
            "pkts_toclient": flow.pkts_toclient,
            "bytes_toserver": flow.bytes_toserver,
            "bytes_toclient": flow.bytes_toclient,
            "reason": reason,
            "mining_messages": pool.mining_messages,
            "other_lines": pool.other_lines,
        }
        self.emit(self.events.make("flow", flow.last_ts, body, info))

    def _difficulty_change(
        self, flow: FlowInfo, ts: float, message: MiningMessage, miner_is_client: bool, value: float | None
    ) -> None:
        if value is not None and self._difficulty.get(flow.flow_id) == value:
            return
        if value is not None:
            self._difficulty[flow.flow_id] = value
        self._behaviour(
            flow, ts, Behaviour.DIFFICULTY, message, miner_is_client, None, None, difficulty=value
        )

    def _behaviour(
        self,
        flow: FlowInfo,
        ts: float,
        behaviour: Behaviour,
        message: MiningMessage,
        miner_is_client: bool,
        outcome: str | None,
        error: str | None,
        difficulty: float | None = None,
    ) -> None:
        body: dict[str, Any] = {
            "behaviour": str(behaviour),
            "dialect": message.dialect,
            "method": message.method,
        }
        if outcome is not None:
            body["outcome"] = outcome
        if error is not None:
            body["error"] = error
        body.update(self._details(message, behaviour, difficulty))
        event = self.events.make("mining", ts, body, flow, reverse=not miner_is_client)
        self.emit(event)
        self.observe(
            BehaviourObservation(
                behaviour=behaviour,
                ts=ts,
                miner_ip=event["src_ip"],
                pool_ip=event["dest_ip"],
                pool_port=event["dest_port"],
                dialect=message.dialect,
                event_id=event["event_id"],
                outcome=outcome,
                login=body.get("login"),
                agent=body.get("agent"),
                algorithm=body.get("algorithm"),
                job_shape=body.get("job_shape"),
                difficulty=body.get("difficulty"),
                registers=isinstance(message, Login) and message.dialect in LOGIN_REGISTERS,
            )
        )

    def _details(
        self, message: MiningMessage, behaviour: Behaviour, difficulty: float | None
    ) -> dict[str, Any]:
        if behaviour is Behaviour.DIFFICULTY:
            target = message.target if isinstance(message, Difficulty | Job) else None
            return _present(difficulty=difficulty, target=target)
        if isinstance(message, Registration):
            return _present(agent=message.agent, protocol=message.protocol)
        if isinstance(message, Login):
            password = message.password if self.show_secrets else (MASK if message.password else None)
            return _present(
                login=message.login,
                password=password,
                worker=message.worker,
                agent=message.agent,
                algorithms=list(message.algorithms) or None,
                rigid=message.rigid,
                registration=message.dialect in LOGIN_REGISTERS or None,
            )
        if isinstance(message, Job):
            return _present(
                job_id=message.job_id,
                job_shape=message.shape,
                algorithm=message.algorithm,
                target=message.target,
                difficulty=message.difficulty,
                height=message.height,
                seed_hash=message.seed_hash,
                clean_jobs=message.clean,
            )
        if isinstance(message, Submit):
            return _present(job_id=message.job_id, login=message.login, nonce=message.nonce)
        if isinstance(message, Hashrate):
            return _present(hashrate=message.hashrate)
        return {}


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
        """A pool flow is evidence to its end; anything else only up to the stream depth."""
        return self.session.mining_messages > 0 or bytes_seen <= self.depth

    def end(self, flow: Flow, ts: float, reason: str) -> None:
        for framer in self.session.framers.values():
            self.stats.overlong_lines += framer.stats.overlong_lines
            self.stats.invalid_json_lines += framer.stats.invalid_json
        self.stats.dropped_requests += self.session.dropped_requests
        if self.session.mining_messages:
            self.stats.flows += 1
            self.detector.on_flow_end(self.info, flow, self.session, reason)


def looks_like_json(data: bytes) -> bool:
    """First bytes of a JSON-lines stream, also when the capture starts mid-line."""
    head = data[:4096].lstrip()
    return head[:1] in (b"{", b"[") or b"\n{" in head


def pool_analyzer_factory(detector: PoolBehaviourDetector, depth: int, stats: PoolProtocolStats):
    """StreamFactory for flows whose first bytes look like JSON lines."""

    def make(info: FlowInfo, first: bytes, to_server: bool) -> PoolStreamAnalyzer | None:
        return PoolStreamAnalyzer(detector, info, depth, stats) if looks_like_json(first) else None

    return make


def plugin(ctx: DetectorContext) -> DetectorPlugin:
    stats = PoolProtocolStats()
    detector = PoolBehaviourDetector(ctx.events, ctx.emit, ctx.correlator.observe, ctx.options.show_secrets)
    return DetectorPlugin(
        name="pool_protocols",
        stream_factories=[pool_analyzer_factory(detector, ctx.options.stream_depth, stats)],
        stats=lambda: vars(stats).copy(),
    )
