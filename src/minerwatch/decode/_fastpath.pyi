"""Types of the compiled hot path (_fastpath.pyx) for the type checker; the .pyx is the reference."""

from collections.abc import Iterable, Sized
from typing import Any

from minerwatch.decode._flowstats import CheckpointGate, StatsAccumulator
from minerwatch.decode._httpgate import GateConfig, HttpGate
from minerwatch.decode._tlsrecords import TlsRecords

Buffer = bytes | bytearray | memoryview

MAX_RECORD_BYTES: int
SUPPORTED_LINKTYPES: frozenset[int]

class Flow:
    flow_id: int
    proto: int
    ip_version: int
    client_addr: bytes
    server_addr: bytes
    client_port: int
    server_port: int
    first_ts: float
    last_ts: float
    pkts_toserver: int
    pkts_toclient: int
    bytes_toserver: int
    bytes_toclient: int
    bypassed_pkts: int
    inspect: bool
    tcp_flags: int
    isn_toserver: int | None
    isn_toclient: int | None
    skip_toserver: int | None
    skip_toclient: int | None
    state: Any  # the sink's own per-flow state, opaque to the engine
    gate: HttpGate | None
    stats: StatsAccumulator | None
    tls: TlsRecords | None  # None until the flow's first payload segment, while tls_records is on
    foreign: bool  # a replicated flow (DNS) another worker owns (scale/)

class Counters:
    packets: int
    bytes: int
    truncated_packets: int
    bad_timestamps: int
    unsupported_linktype: int
    non_ip: int
    other_ip_proto: int
    ip_fragments: int
    ip_reassembled: int
    bad_ip_header: int
    flows_created: int
    flows_expired: int
    flows_evicted: int
    packets_inspected: int
    packets_bypassed: int
    packets_skipped: int
    packets_gated: int
    packets_other_workers: int
    def as_dict(self) -> dict[str, int]: ...

class Engine:
    counters: Counters
    shadow: Counters  # what this worker did for replicated flows other workers own (scale/)
    bucket: int
    buckets: int
    foreign: bool
    ending: int
    id_stride: int
    id_offset: int
    idle_timeout: float
    closed_timeout: float
    max_flows: int
    first_request_gate: GateConfig | None
    gate_blockers: tuple[Sized, ...]
    stats_hook: Any  # encrypted/flowstats.py StatsHook, or None: no flow statistics kept
    stats_gate: CheckpointGate | None
    stats_interval: float
    tls_records: bool
    now: float
    def __init__(
        self,
        sink: Any,  # the sink interface of the class docstring (flows/inspector.py's Inspector)
        idle_timeout: float = 300.0,
        closed_timeout: float = 30.0,
        max_flows: int = 500000,
        first_request_gate: GateConfig | None = None,
        gate_blockers: tuple[Sized, ...] = (),
    ) -> None: ...
    @property
    def active_flows(self) -> int: ...
    def shard(self, bucket: int, buckets: int, replicated: Iterable[int] = ()) -> None: ...
    def finish(self) -> None: ...
    def feed_pcap(
        self, buf: Buffer, swapped: bool, nanosecond: bool, linktype: int
    ) -> tuple[int, str | None]: ...
    def feed_pcapng(
        self, buf: Buffer, interfaces: list[tuple[int, float]], swapped: bool
    ) -> tuple[int, int, str | None]: ...
    def feed_tpacket_block(self, block: Buffer, linktype: int, skip_outgoing: bool) -> int: ...
