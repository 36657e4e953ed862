"""What crosses the bus: one typed observation per message, with the event it cites, as JSON.

The bus is a network boundary: anyone who can publish to the stream can send anything, so a message is
read as hostile input. It must be small (MAX_MESSAGE, also the stream's own limit), JSON (orjson:
strict, no NaN, nesting limited), an envelope of known fields, and an observation whose every field has
the type its dataclass declares (msgspec, strict: no "1" for 1, no unknown enum value), whose hosts are
IP addresses and whose scores lie in [0, 1]. Anything else is a BusMessageError with one line saying why;
nothing from the wire is ever unpickled or evaluated.

Envelope: {"v": 1, "sensor": NAME, "run": RUN, "seq": N, "kind": KIND, "obs": {...}, "event": {...}|null,
"key": HEX|null}. (run, seq) is the message's id: a sensor's run numbers its messages from 1, so a message
published twice (a lost acknowledgement, retried) is known for what it is by the correlator
(bus/correlator.py) and by the stream's own duplicate window (the Nats-Msg-Id header). `key`, when the
capture has an identity (a file, not live traffic), is the observation's across runs (bus/identity.py):
the same observation of the same capture published by a run again is known by it.
"""

from __future__ import annotations

import hashlib
import ipaddress
import re
from dataclasses import dataclass
from typing import Any

import msgspec
import orjson

from minerwatch.correlate.observations import (
    BehaviourObservation,
    ContactObservation,
    EncryptedObservation,
    IntelObservation,
    Observation,
    StageObservation,
)
from minerwatch.errors import InputError

VERSION = 1
MAX_MESSAGE = 64 * 1024  # bytes: an observation and one event; the stream refuses larger ones too
SUBJECT_ROOT = "minerwatch.obs"

# kind -> (the observation's type, the field naming the host whose partition owns it)
KINDS: dict[str, tuple[type[Any], str]] = {
    "behaviour": (BehaviourObservation, "miner_ip"),
    "intel": (IntelObservation, "host"),
    "stage": (StageObservation, "host"),
    "encrypted": (EncryptedObservation, "host"),
    "contact": (ContactObservation, "client"),
}
KIND_OF = {cls: kind for kind, (cls, _) in KINDS.items()}
# Fields that are addresses (always, or when set) and fields that are scores in [0, 1].
ADDRESSES = ("miner_ip", "pool_ip", "host", "peer_ip", "client", "server")
SCORES = ("level", "confidence")
PORTS = ("pool_port", "peer_port", "server_port")
# The events an observation may cite: what detectors make as evidence, never a conclusion (verdict,
# incident, host, stats), which only the correlator makes.
EVIDENCE_TYPES = frozenset({"alert", "mining", "flow", "file", "bruteforce", "scan", "encrypted"})
NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")  # sensor names and run ids: subject-safe
KEY = re.compile(r"[0-9a-f]{32}")  # bus/identity.py: BLAKE2b-128, in hex
TIMESTAMP = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z")


class BusMessageError(InputError):
    """A message from the bus that is not one minerwatch sensors send: skipped, counted, said in a line."""


@dataclass(frozen=True, slots=True)
class BusMessage:
    sensor: str
    run: str
    seq: int
    observation: Observation
    event: dict[str, Any] | None  # the event the observation cites, as the sensor wrote it
    key: str | None = None  # the observation's across runs over one capture (bus/identity.py)

    @property
    def kind(self) -> str:
        return KIND_OF[type(self.observation)]

    @property
    def host(self) -> str:
        return str(getattr(self.observation, KINDS[self.kind][1]))

    @property
    def msg_id(self) -> str:
        """The stream's message id (Nats-Msg-Id, with the sensor's name): the key when there is one."""
        return f"k{self.key}" if self.key else f"{self.run}-{self.seq}"


def partition_of(host: str, partitions: int) -> int:
    """The partition that owns `host`, the same for every sensor: BLAKE2b of the address text (CRC-32
    spreads addresses that differ in one digit badly: 10.1.1.20-22 all had the same parity)."""
    return int.from_bytes(hashlib.blake2b(host.encode(), digest_size=8).digest(), "big") % partitions


def subject(host: str, partitions: int) -> str:
    """minerwatch.obs.PARTITION.HOST, the address's dots written as _ (a dot separates subject tokens)."""
    return f"{SUBJECT_ROOT}.{partition_of(host, partitions)}.{host.replace('.', '_')}"


def partition_filter(partition: int) -> str:
    return f"{SUBJECT_ROOT}.{partition}.>"


def encode(message: BusMessage) -> bytes:
    """The message as JSON; a BusMessageError when it would pass MAX_MESSAGE even without its event."""
    envelope = {
        "v": VERSION,
        "sensor": message.sensor,
        "run": message.run,
        "seq": message.seq,
        "kind": message.kind,
        "obs": message.observation,
        "event": message.event,
        "key": message.key,
    }
    data = orjson.dumps(envelope, option=orjson.OPT_NON_STR_KEYS)
    if len(data) <= MAX_MESSAGE:
        return data
    envelope["event"] = None  # an oversized event (a huge alert) is left out; the observation still goes
    data = orjson.dumps(envelope, option=orjson.OPT_NON_STR_KEYS)
    if len(data) > MAX_MESSAGE:
        raise BusMessageError(f"a {message.kind} observation of {len(data):,} bytes passes the bus limit")
    return data


def decode(data: bytes, partitions: int, partition: int) -> BusMessage:
    """A message read from `partition` of `partitions`; BusMessageError says what is wrong with it."""
    return observation(envelope(data), partitions, partition)


def envelope(data: bytes) -> dict[str, Any]:
    """A message's JSON object, of a version this program reads."""
    if len(data) > MAX_MESSAGE:
        raise BusMessageError(f"{len(data):,} bytes, over the {MAX_MESSAGE:,}-byte limit")
    try:
        raw = orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        raise BusMessageError(f"not JSON ({str(exc).splitlines()[0][:80]})") from None
    if not isinstance(raw, dict):
        raise BusMessageError("not a JSON object")
    if raw.get("v") != VERSION or isinstance(raw.get("v"), bool):
        raise BusMessageError(f"unknown message version {str(raw.get('v'))[:20]!r}")
    return raw


def observation(raw: dict[str, Any], partitions: int, partition: int) -> BusMessage:
    """A sensor's observation, from its message's envelope."""
    sensor, run, seq, kind = (
        name_field(raw, "sensor"),
        name_field(raw, "run"),
        raw.get("seq"),
        raw.get("kind"),
    )
    if not isinstance(seq, int) or isinstance(seq, bool) or not 0 < seq < 1 << 62:
        raise BusMessageError(f"bad sequence number {str(seq)[:24]!r}")
    if not isinstance(kind, str) or kind not in KINDS:
        raise BusMessageError(f"unknown kind {str(kind)[:40]!r}")
    cls, host_field = KINDS[kind]
    try:
        obs = msgspec.convert(raw.get("obs"), cls, strict=True)
    except msgspec.ValidationError as exc:
        raise BusMessageError(f"{kind} observation: {exc}") from None
    _check(obs)
    host = getattr(obs, host_field)
    if partition_of(host, partitions) != partition:
        raise BusMessageError(f"host {host} belongs to partition {partition_of(host, partitions)}")
    event = raw.get("event")
    if event is not None:
        check_event(event, getattr(obs, "event_id", None))
    key = raw.get("key")
    if key is not None and (not isinstance(key, str) or not KEY.fullmatch(key)):
        raise BusMessageError(f"bad observation key {str(key)[:40]!r}")
    return BusMessage(sensor, run, seq, obs, event, key)


def name_field(raw: dict[str, Any], what: str) -> str:
    value = raw.get(what)
    if not isinstance(value, str) or not NAME.fullmatch(value):
        raise BusMessageError(f"bad {what} name {str(value)[:40]!r}")
    return value


def _check(observation: Observation) -> None:
    """What types do not say: addresses are addresses, scores are in [0, 1], ports are ports."""
    for name in ADDRESSES:
        value = getattr(observation, name, None)
        if value is not None:
            check_address(name, value)
    for name in SCORES:
        value = getattr(observation, name, None)
        if value is not None and not 0.0 <= value <= 1.0:
            raise BusMessageError(f"{name} {value!r} is not between 0 and 1")
    for name in PORTS:
        value = getattr(observation, name, None)
        if value is not None and not 0 <= value <= 65535:
            raise BusMessageError(f"{name} {value!r} is not a port")


def check_address(name: str, value: str) -> None:
    try:
        ipaddress.ip_address(value)
    except ValueError:
        raise BusMessageError(f"{name} {value[:60]!r} is not an IP address") from None


def check_event(event: Any, cited: int | None) -> dict[str, Any]:
    """`event`, when it is an evidence event, the one cited, with a timestamp."""
    if not isinstance(event, dict):
        raise BusMessageError("event is not a JSON object")
    event_type = event.get("event_type")
    if event_type not in EVIDENCE_TYPES:
        raise BusMessageError(f"event type {str(event_type)[:30]!r} is not evidence")
    if not isinstance(event.get(event_type), dict):
        raise BusMessageError(f"{event_type} event without its {event_type} object")
    if event.get("event_id") != cited:
        raise BusMessageError("event is not the one the observation cites")
    if not isinstance(event.get("timestamp"), str) or not TIMESTAMP.fullmatch(event["timestamp"]):
        raise BusMessageError("event without an ISO 8601 UTC timestamp")
    return event
