"""Reading one partition of the stream, from its first message (or the first after the correlator's
snapshot), in the stream's order.

The consumer is ephemeral and acknowledges nothing: the stream and the correlator's own snapshot
(snapshot.py) are its memory, read at every start (resume.py says what is then written), so there is no
consumer position to lose or to leave behind. Its sequence numbers are checked: a gap (messages the
server skipped) ends the run with an error rather than incidents built on a partial view.
"""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Callable

import nats.errors
from nats.js import JetStreamContext, api

from minerwatch.bus.correlator import BusCorrelator, Conclusions
from minerwatch.bus.jetstream import STREAM, BusError, connect, ensure_stream, reason, stream_state
from minerwatch.bus.snapshot import Snapshots
from minerwatch.bus.wire import BusMessageError, partition_filter
from minerwatch.errors import UsageError

FETCH = 512  # messages asked for at once
WAIT = 1.0  # seconds a fetch waits for messages (and a stop request waits for the fetch)
IN_FLIGHT_WAITS = 30  # empty fetches (of WAIT each) allowed for messages the server says it delivered
IDLE_CONSUMER = 120.0  # seconds after which the server forgets the consumer of a correlator gone


async def correlate(
    url: str,
    partition: int,
    partitions: int | None,
    follow: bool,
    make: Callable[[int], BusCorrelator],
    rejected: Callable[[int, str, BusMessageError], None],
    fetched: Callable[[], None],
    dropped: Callable[[int, int], None],
    snapshots: Snapshots | None = None,
) -> tuple[BusCorrelator, Conclusions]:
    """Feed the partition's messages to the correlator `make(partitions)` builds, until the stream is read
    (unless `follow`) or SIGTERM/SIGINT, and conclude; `rejected(seq, subject, error)` hears of each bad
    message, `fetched()` of each batch fed (the outputs are flushed), `dropped(first, last)` of the
    stream's messages its limits dropped before this correlator could read them. The facts the
    correlator shares with other partitions are published after each batch and after the conclusions
    (bus/facts.py). With `snapshots`, the correlator starts from its snapshot and reads only the messages
    after it, and is saved every so many messages and when it stops (bus/snapshot.py)."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    client, js = await connect(url, f"minerwatch correlator {partition}")
    try:
        found = await ensure_stream(js, partitions)
        if not 0 <= partition < found:
            raise UsageError(f"partition {partition} does not exist: the stream has {found} (0-{found - 1})")
        correlator = make(found)
        stream, first = await stream_state(js)
        covered = snapshots.load(correlator, stream) if snapshots is not None else 0
        if first > covered + 1:
            dropped(covered + 1, first - 1)
        config = api.ConsumerConfig(
            deliver_policy=api.DeliverPolicy.BY_START_SEQUENCE if covered else api.DeliverPolicy.ALL,
            opt_start_seq=covered + 1 if covered else None,
            ack_policy=api.AckPolicy.NONE,
            inactive_threshold=IDLE_CONSUMER,
        )
        try:
            sub = await js.pull_subscribe(partition_filter(partition), stream=STREAM, config=config)
        except (TimeoutError, nats.errors.Error) as exc:
            raise BusError(f"cannot read stream {STREAM}: {reason(exc)}") from None
        expected, waits = 1, 0
        while not stop.is_set():
            try:
                messages = await sub.fetch(FETCH, timeout=WAIT)
            except TimeoutError:  # asyncio's or the client's (its own subclass): nothing came
                if follow:  # idle: what other partitions wait for goes now
                    correlator.share_now()
                    await _publish(js, correlator)
                    continue
                if await _read_to_end(sub, expected - 1):
                    break
                waits += 1  # a slow server, or a batch on its way, is not the stream's end
                if waits > IN_FLIGHT_WAITS:
                    raise BusError(
                        f"messages of partition {partition} after {expected - 1:,} that the server delivered "
                        f"did not arrive in {IN_FLIGHT_WAITS * WAIT:.0f} s; run the correlator again "
                        "(it reads them again)"
                    ) from None
                continue
            except nats.errors.Error as exc:
                raise BusError(f"reading stream {STREAM}: {reason(exc)}") from None
            waits = 0
            for message in messages:
                sequence = message.metadata.sequence
                if sequence.consumer != expected:
                    raise BusError(
                        f"the server skipped messages {expected}-{sequence.consumer - 1} of partition "
                        f"{partition}; run the correlator again (it reads them again)"
                    )
                expected += 1
                try:
                    correlator.feed(sequence.stream, message.data)
                except BusMessageError as exc:
                    rejected(sequence.stream, message.subject, exc)
            await _publish(js, correlator)
            fetched()
            if snapshots is not None and snapshots.due(correlator):
                snapshots.save(correlator, stream)
            if not follow and messages and messages[-1].metadata.num_pending == 0:
                break
        if snapshots is not None:
            snapshots.save(correlator, stream)
        concluded = correlator.finish()
        await _publish(js, correlator)
    finally:
        await client.close()
    return correlator, concluded


async def _publish(js: JetStreamContext, correlator: BusCorrelator) -> None:
    """The facts the correlator made for other partitions, each acknowledged by the stream (one made
    again after a restart has the same message id: the stream keeps one)."""
    outgoing, correlator.outgoing = correlator.outgoing, []
    results = await asyncio.gather(
        *(
            js.publish(name, data, timeout=WAIT * 10, headers={"Nats-Msg-Id": msg_id})
            for name, msg_id, data in outgoing
        ),
        return_exceptions=True,
    )
    failed = [r for r in results if isinstance(r, BaseException)]
    if failed:
        raise BusError(f"{len(failed):,} fact(s) for other partitions not stored: {reason(failed[0])}")


async def _read_to_end(sub: JetStreamContext.PullSubscription, received: int) -> bool:
    """Has the correlator, which took `received` messages, read the whole partition? Only when the server
    has none left to deliver and delivered no more than that: under load, a fetch can time out while its
    batch is still on the way (the client keeps it for the next fetch), and the server already counts
    those messages as delivered."""
    try:
        info = await sub.consumer_info()
    except (TimeoutError, nats.errors.Error) as exc:
        raise BusError(f"reading stream {STREAM}: {reason(exc)}") from None
    delivered = info.delivered.consumer_seq if info.delivered is not None else 0
    return not info.num_pending and (delivered or 0) <= received
