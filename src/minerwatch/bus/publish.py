"""A sensor's side of the bus (`analyze --nats`, `live --nats`): every observation its correlators take is
also published, with the event it cites, under its host's subject.

The analysis is synchronous; the NATS client runs in a thread of its own (jetstream.LoopThread). Messages
go in batches whose publications are acknowledged by the stream; at most IN_FLIGHT batches wait for their
acknowledgements, so a slow or stalled bus slows the analysis instead of filling memory. A batch the
stream did not acknowledge is published again under the same message ids (the stream and the correlator
drop the copies: at least once, never twice); still unacknowledged after ATTEMPTS, it ends the run with
a BusError, so a sensor never reports success for observations that were not stored.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import socket
import uuid
from collections import OrderedDict, deque
from concurrent.futures import Future

import nats.errors

from minerwatch.bus.identity import ObservationKeys
from minerwatch.bus.jetstream import BusError, LoopThread, connect, ensure_stream, reason
from minerwatch.bus.wire import KIND_OF, BusMessage, BusMessageError, encode, subject
from minerwatch.correlate.observations import IntelObservation, Observation
from minerwatch.events import Event
from minerwatch.pipeline import Analysis

BATCH = 256  # messages per batch
IN_FLIGHT = 8  # batches awaiting their acknowledgements
ATTEMPTS = 5
ACK_TIMEOUT = 30.0  # seconds a batch may wait for its acknowledgements
RECENT_EVENTS = 4096  # events kept for the observations that cite them (made just before them)
_UNSAFE_NAME = re.compile(r"[^A-Za-z0-9_.-]+")

Batch = list[tuple[str, str, bytes]]  # (subject, message id, data)


def sensor_name(name: str | None) -> str:
    """The name a sensor publishes under: `name`, else this machine's host name, made subject-safe."""
    chosen = _UNSAFE_NAME.sub("-", name or socket.gethostname()).strip("-.")[:64]
    return chosen or "sensor"


class BusPublisher:
    def __init__(self, url: str, sensor: str, capture: str | None = None) -> None:
        """`capture`: the identity of the captures analysed (identity.capture_identity), None for live
        traffic: with it, every message carries its observation's key across runs."""
        self.sensor = sensor
        self.run = uuid.uuid4().hex[:16]  # one run of this sensor: with seq, each message's id
        self.seq = 0
        self.capture = capture
        self.keys = ObservationKeys(sensor, capture) if capture else None
        self.url = url
        self.loop = LoopThread()
        try:
            self.client, self.js = self.loop.run(connect(url, f"minerwatch sensor {sensor}"))
            self.partitions = self.loop.run(ensure_stream(self.js, None))
        except BaseException:
            self.loop.stop()
            raise
        self.recent: OrderedDict[int, Event] = OrderedDict()
        self.batch: Batch = []
        self.in_flight: deque[Future[int]] = deque()
        self.stats = {"published": 0, "duplicates": 0, "too_large": 0, "retries": 0}
        self.stored = 0  # acknowledged by the stream (the last batches are, after the last stats event)

    def attach(self, analysis: Analysis) -> None:
        """Publish what `analysis` observes; its `stats` events get a `bus` section."""
        analysis.sinks.append(self.event)
        analysis.correlator.tap = analysis.correlator.peers.tap = analysis.incidents.tap = self.observe
        analysis.extra_stats["bus"] = lambda: {
            "sensor": self.sensor,
            "run": self.run,
            "capture": self.capture,
            **self.stats,
        }

    def event(self, event: Event) -> None:
        """EventSink: keeps the latest events (masked, as written) for the observations that cite them."""
        self.recent[event["event_id"]] = event
        if len(self.recent) > RECENT_EVENTS:
            self.recent.popitem(last=False)

    def observe(self, obs: Observation) -> None:
        """ObservationTap: publish `obs` with the event it cites."""
        if isinstance(obs, IntelObservation) and obs.weak:
            return  # a weak hit only feeds this sensor's own encrypted detector, by its flow
        self.seq += 1
        event = self.recent.get(getattr(obs, "event_id", 0))
        key = self.keys.key(KIND_OF[type(obs)], obs, event) if self.keys else None
        self.send(BusMessage(self.sensor, self.run, self.seq, obs, event, key))

    def send(self, message: BusMessage) -> None:
        try:
            data = encode(message)
        except BusMessageError:
            self.stats["too_large"] += 1
            return
        self.batch.append((subject(message.host, self.partitions), f"{self.sensor}-{message.msg_id}", data))
        self.stats["published"] += 1
        if len(self.batch) >= BATCH:
            self._send()

    def _send(self) -> None:
        if self.batch:
            self.in_flight.append(self.loop.submit(self._publish(self.batch)))
            self.batch = []
        while len(self.in_flight) > IN_FLIGHT:
            self._settle(self.in_flight.popleft())

    def _settle(self, future: Future[int]) -> None:
        self.stored += future.result(ACK_TIMEOUT * ATTEMPTS)

    async def _publish(self, batch: Batch) -> int:
        """Publish `batch`, again for what was not acknowledged; returns how many were acknowledged."""
        pending, why = batch, ""
        for attempt in range(ATTEMPTS):
            if attempt:
                self.stats["retries"] += 1
                await asyncio.sleep(0.2 * 2**attempt)
            results = await asyncio.gather(
                *(
                    self.js.publish(name, data, timeout=ACK_TIMEOUT, headers={"Nats-Msg-Id": msg_id})
                    for name, msg_id, data in pending
                ),
                return_exceptions=True,
            )
            failed = []
            for item, result in zip(pending, results, strict=True):
                if isinstance(result, BaseException):
                    failed.append(item)
                    why = reason(result)
                elif result.duplicate:
                    self.stats["duplicates"] += 1
            pending = failed
            if not pending:
                return len(batch)
        raise BusError(
            f"{len(pending):,} message(s) not stored by NATS at {self.url} after {ATTEMPTS} tries: {why}"
        )

    def close(self) -> int:
        """Publish what is left and wait until the stream has stored all of it; returns how many it stored."""
        try:
            self._send()
            while self.in_flight:
                self._settle(self.in_flight.popleft())
            self.loop.run(self.client.drain(), 10)
        except (nats.errors.Error, TimeoutError) as exc:
            raise BusError(f"NATS at {self.url}: {reason(exc)}") from None
        finally:
            self.stop()
        return self.stored

    def stop(self) -> None:
        """End the client without waiting (an analysis that failed); safe to call twice."""
        if self.loop.loop.is_running():
            if not self.client.is_closed:
                with contextlib.suppress(nats.errors.Error, TimeoutError):
                    self.loop.run(self.client.close(), 5)
            self.loop.stop()
