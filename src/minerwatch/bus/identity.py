"""Observation keys: the same observation of the same capture by the same sensor has the same key, however
often it is published, so that a sensor run again over a capture it already published adds nothing.

A run's (run, seq) ids cannot say this: the run id is new each time, and a sequence number shifts as soon
as one observation more or less comes before (new intel, other rules). A key is BLAKE2b-128 of the sensor
name, the capture's identity (its files' sizes and contents: `capture_identity`), the observation's kind
and fields without the sensor's event ids (which shift the same way), and the fixed fields of the event it
cites (type, capture time, flow, addresses, ports). Two observations of one run with all of that alike
(two shares in one TCP segment) are told apart by their order among such twins. The analysis of a file
depends on the file alone (capture time, never the wall clock), so a run again makes the same keys; what
a new configuration adds (an alert from new intel) has keys of its own and counts.

Live capture has no identity (its traffic is never read twice): its messages have no key, and copies are
known by (run, seq) only. The stream drops a key it stored within its duplicate window (the Nats-Msg-Id
header), the correlator one it saw among its last KEYS_KEPT (bus/correlator.py).
"""

from __future__ import annotations

import dataclasses
import hashlib
import stat
from collections import OrderedDict
from pathlib import Path
from typing import Any

import orjson

from minerwatch.correlate.observations import ContactObservation, Observation

DIGEST = 16  # bytes
# The fields of a cited event that place it in the capture; its body may name the sensor's event ids.
EVENT_FIELDS = ("event_type", "timestamp", "flow_id", "src_ip", "src_port", "dest_ip", "dest_port", "proto")
TWINS_KEPT = 65_536  # recent keys of a run whose twins are counted (twins are made together)
CHUNK = 1 << 20


def capture_identity(paths: list[Path]) -> str | None:
    """BLAKE2b-128 of every capture's size and content, in order; None when one is not a regular file
    (standard input, a pipe: read once, by the analysis). Costs one more read of the captures."""
    identity = hashlib.blake2b(b"minerwatch captures 1", digest_size=DIGEST)
    try:
        for path in paths:
            if str(path) == "-" or not stat.S_ISREG(path.stat().st_mode):
                return None
            with path.open("rb") as f:
                content = hashlib.file_digest(f, lambda: hashlib.blake2b(digest_size=DIGEST))
            identity.update(b"%d:%s" % (path.stat().st_size, content.digest()))
    except OSError:
        return None  # the analysis says why it cannot be read
    return identity.hexdigest()


class ObservationKeys:
    """The keys of one run's observations, in the order they are published."""

    def __init__(self, sensor: str, capture: str) -> None:
        self.prefix = b"%s\0%s\0" % (sensor.encode(), capture.encode())
        self.twins: OrderedDict[bytes, int] = OrderedDict()  # key -> how many were made (recent ones)

    def key(self, kind: str, observation: Observation, event: dict[str, Any] | None) -> str:
        if not isinstance(observation, ContactObservation):  # the others cite an event by the sensor's id
            observation = dataclasses.replace(observation, event_id=0)
        placed = [event.get(name) for name in EVENT_FIELDS] if event is not None else None
        content = orjson.dumps([kind, observation, placed], option=orjson.OPT_NON_STR_KEYS)
        key = hashlib.blake2b(self.prefix + content, digest_size=DIGEST).digest()
        made = self.twins.pop(key, 0)
        self.twins[key] = made + 1
        if len(self.twins) > TWINS_KEPT:
            self.twins.popitem(last=False)
        if made:
            key = hashlib.blake2b(key + b"%d" % made, digest_size=DIGEST).digest()
        return key.hex()
