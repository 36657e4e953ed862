"""The NATS JetStream side: connecting, the one stream every sensor and correlator shares, and the
thread that runs the asyncio client for code that is not asynchronous (a sensor's analysis).

The stream is made by whichever comes first and records its number of partitions in its description,
so that every sensor files a host under the same partition as the correlators read it from
(wire.partition_of). Messages larger than wire.MAX_MESSAGE are refused by the server itself.
"""

from __future__ import annotations

import asyncio
import re
import threading
from collections.abc import Coroutine
from concurrent.futures import Future
from typing import Any, TypeVar

import nats
import nats.errors
import nats.js.errors
from nats.aio.client import Client
from nats.js import JetStreamContext, api

from minerwatch.bus.wire import MAX_MESSAGE, SUBJECT_ROOT
from minerwatch.errors import InputError, UsageError

STREAM = "MINERWATCH"
DUPLICATE_WINDOW = 300.0  # seconds in which the server drops a message id it has already stored
_PARTITIONS = re.compile(r"partitions=(\d+)")

T = TypeVar("T")


class BusError(InputError):
    """The NATS server cannot be reached, or its JetStream refuses what minerwatch asks of it."""


async def connect(url: str, name: str) -> tuple[Client, JetStreamContext]:
    try:
        client = await nats.connect(
            url,
            name=name,
            connect_timeout=2,
            allow_reconnect=True,
            max_reconnect_attempts=10,
            error_cb=_quiet,
        )
    except (TimeoutError, nats.errors.Error, OSError) as exc:
        raise BusError(f"cannot connect to NATS at {url}: {reason(exc)}") from None
    return client, client.jetstream(timeout=10)


async def ensure_stream(js: JetStreamContext, partitions: int | None) -> int:
    """The stream's number of partitions; the stream is made (with `partitions`, default 1) when missing.
    A `partitions` other than the existing stream's is a UsageError: hosts would be filed twice."""
    try:
        info = await js.stream_info(STREAM)
    except nats.js.errors.NotFoundError:
        info = None
    except (TimeoutError, nats.errors.Error) as exc:
        raise BusError(f"JetStream does not answer (is the server run with -js?): {reason(exc)}") from None
    if info is None:
        wanted = partitions or 1
        config = api.StreamConfig(
            name=STREAM,
            description=f"minerwatch observations by host; partitions={wanted}",
            subjects=[f"{SUBJECT_ROOT}.>"],
            storage=api.StorageType.FILE,
            max_msg_size=MAX_MESSAGE,
            duplicate_window=DUPLICATE_WINDOW,
        )
        try:
            await js.add_stream(config)
        except nats.js.errors.BadRequestError:  # another sensor made it meanwhile: read it again
            return await ensure_stream(js, partitions)
        except (TimeoutError, nats.errors.Error) as exc:
            raise BusError(f"cannot create the JetStream stream {STREAM}: {reason(exc)}") from None
        return wanted
    found = _PARTITIONS.search(info.config.description or "")
    if found is None:
        raise BusError(f"stream {STREAM} exists but was not made by minerwatch (no partitions= in it)")
    existing = int(found.group(1))
    if partitions is not None and partitions != existing:
        raise UsageError(f"stream {STREAM} has {existing} partition(s), not {partitions}")
    return existing


async def stream_state(js: JetStreamContext) -> tuple[str, int]:
    """The stream's identity (its name and creation time: a stream made again is another one) and the
    sequence number of its first message (those before were dropped by its limits)."""
    try:
        info = await js.stream_info(STREAM)
    except (TimeoutError, nats.errors.Error) as exc:
        raise BusError(f"reading stream {STREAM}: {reason(exc)}") from None
    return f"{STREAM} created {info.created}", int(info.state.first_seq or 0)


async def _quiet(exc: Exception) -> None:
    """The client's error callback: its default logs a traceback; a failure that matters reaches the call
    that needed the server as an exception, said in one line."""


def reason(exc: BaseException) -> str:
    return str(exc) or type(exc).__name__


class LoopThread:
    """An asyncio loop in a daemon thread: synchronous code hands it coroutines and gets futures."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, name="minerwatch-bus", daemon=True)
        self._thread.start()

    def submit(self, coroutine: Coroutine[Any, Any, T]) -> Future[T]:
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop)

    def run(self, coroutine: Coroutine[Any, Any, T], timeout: float | None = None) -> T:
        return self.submit(coroutine).result(timeout)

    def stop(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(5)
        if not self._thread.is_alive():
            self.loop.close()
