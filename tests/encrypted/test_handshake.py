"""The handshake of real TLS connections (XMRig 6.16.0 with OpenSSL 1.1.1, OpenSSL 3.0's s_client with and
without a client certificate, curl from nDPI's corpus): the ClientHello read in Python, the ServerHello and
the shape of the client's records read by the engine (decode/_tlsrecords.pyx) in the flow's segments, in
any segmentation; and hostile bytes."""

from __future__ import annotations

import re
import struct
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from minerwatch.capture import feed_capture
from minerwatch.capture.writer import TCP_ACK, TCP_PSH, TCP_SYN, frame, tcp_segment
from minerwatch.decode import Engine, Flow
from minerwatch.decode._tlsrecords import HELD_BUDGET, RECORDS, TlsRecords, budget, set_budget
from minerwatch.encrypted.handshake import TlsFacts, facts
from minerwatch.protocols.tls import ClientHelloParser, parse_server_hello
from recorded_streams import streams

RECORDING = (
    Path(__file__).resolve().parents[1] / "fixtures" / "recordings" / "xmrig-6.16.0-cryptonote-tls.pcapng"
)
MTLS = RECORDING.with_name("openssl-3.0.19-mtls.pcapng")
CLIENT_ISN, SERVER_ISN = 7000, 90000
Segment = tuple[bool, int, bytes]  # to the server, offset from the side's first byte, payload


class Bypass:
    """An engine sink that bypasses each flow at its first payload, as the inspector does once the
    ClientHello is read (the engine reads on in bypassed flows), and keeps the flows."""

    def __init__(self) -> None:
        self.flows: list[Flow] = []

    def flow_start(self, flow: Flow) -> None:
        self.flows.append(flow)

    def tcp_segment(self, flow: Flow, ts: float, to_server: bool, seq: int, flags: int, data: bytes) -> None:
        flow.inspect = False

    def flow_end(self, flow: Flow, reason: str) -> None:
        """Nothing to end."""


def read(segments: list[Segment], syn: bool = True) -> TlsRecords:
    """What the engine reads of a connection's payload `segments`, in that order, after its SYN and SYN+ACK
    (or with neither seen)."""
    frames = []
    if syn:
        frames.append(frame("10.0.0.1", "10.0.0.2", 6, tcp_segment(40000, 443, CLIENT_ISN, 0, TCP_SYN)))
        syn_ack = tcp_segment(443, 40000, SERVER_ISN, CLIENT_ISN + 1, TCP_SYN | TCP_ACK)
        frames.append(frame("10.0.0.2", "10.0.0.1", 6, syn_ack))
    for to_server, offset, payload in segments:
        if to_server:
            seg = tcp_segment(40000, 443, CLIENT_ISN + 1 + offset, 1, TCP_PSH | TCP_ACK, payload)
            frames.append(frame("10.0.0.1", "10.0.0.2", 6, seg))
        else:
            seg = tcp_segment(443, 40000, SERVER_ISN + 1 + offset, 1, TCP_PSH | TCP_ACK, payload)
            frames.append(frame("10.0.0.2", "10.0.0.1", 6, seg))
    sink = Bypass()
    engine = Engine(sink)
    engine.tls_records = True
    records = b"".join(struct.pack("<IIII", 1, i, len(f), len(f)) + f for i, f in enumerate(frames))
    _used, error = engine.feed_pcap(records, False, False, 1)
    assert error is None and len(sink.flows) == 1 and sink.flows[0].tls is not None
    return sink.flows[0].tls


def cut(data: bytes, sizes: list[int], to_server: bool = True) -> list[Segment]:
    """`data` in segments of the given sizes, repeated to the end; the client's first holds at least two
    bytes, as a flow is told TLS by them (here as in the inspector's choice of analysers)."""
    out: list[Segment] = []
    pos, n = 0, 0
    while pos < len(data):
        size = max(sizes[n % len(sizes)], 2 - pos if to_server else 1)
        out.append((to_server, pos, data[pos : pos + size]))
        pos, n = pos + size, n + 1
    return out


def conversation(client: bytes, server: bytes, sizes: list[int]) -> list[Segment]:
    """The client's first segment, then the server's, then the rest of the client's (the engine reads
    each side on its own)."""
    first, *rest = cut(client, sizes)
    return [first, *cut(server, sizes, to_server=False), *rest]


def handshake(recording: Path, port: int, sizes: list[int] | None = None) -> TlsFacts:
    data = streams(recording, port)
    # what is read is within the first flights
    records = read(conversation(data[True][:8192], data[False][:8192], sizes or [1448]))
    assert records.server_done
    return facts(ClientHelloParser().feed(data[True]), records)


def test_xmrig_handshake() -> None:
    found = handshake(RECORDING, 3443)
    assert found.client_hello is not None and found.server_hello is not None
    assert found.tls13 and not found.client_certificate
    assert found.client_hello.ja4 == "t13i310900_e8f1e7e78f70_5ac7197df9d2"
    # ClientHello, ChangeCipherSpec, then the encrypted Finished before the login: 69 bytes, as the
    # server chose TLS_AES_256_GCM_SHA384 (a SHA-384 Finished); the walk ends at that first record
    assert found.server_hello.cipher == 0x1302
    assert found.client_records == ((22, found.client_records[0][1]), (20, 1), (23, 69))


@pytest.mark.parametrize(
    ("port", "tls13", "certificate"),
    [(8443, True, True), (8444, True, False), (8445, False, True), (8446, False, False)],
)
def test_client_certificates_are_seen_through_the_encryption(
    port: int, tls13: bool, certificate: bool
) -> None:
    """OpenSSL's s_client and s_server, with and without a client certificate, TLS 1.3 and 1.2."""
    found = handshake(MTLS, port)
    assert (found.tls13, found.client_certificate) == (tls13, certificate)
    assert found.client_hello is not None and found.client_hello.sni is None


@settings(max_examples=50, deadline=None)
@given(st.lists(st.integers(1, 400), min_size=1, max_size=40))
def test_segmentation_changes_nothing(sizes: list[int]) -> None:
    """Record headers, the ServerHello and first body bytes split anywhere across segments (a TLS 1.2
    client certificate is told by the first byte of its record's body)."""
    for recording, port in ((RECORDING, 3443), (MTLS, 8445), (MTLS, 8443)):
        assert handshake(recording, port, sizes) == handshake(recording, port)


def test_the_server_hello_of_ndpis_curl_capture_gives_ndpis_ja3s(corpus: Path) -> None:
    """nDPI's expected output for its capture names the JA3S; the engine reads the ServerHello in it."""
    expected = (corpus / "nDPI" / "443-curl.pcap.ndpi.out").read_text()
    ja3s = re.search(r"JA3S: ([0-9a-f]{32})", expected)
    sink = Bypass()
    engine = Engine(sink)
    engine.tls_records = True
    feed_capture(corpus / "nDPI" / "443-curl.pcap", engine)
    hellos = [f.tls.server_hello for f in sink.flows if f.tls is not None and f.tls.server_hello]
    assert ja3s is not None and [parse_server_hello(h).ja3s for h in hellos] == [ja3s.group(1)]


def record(kind: int, body: bytes) -> bytes:
    return bytes([kind, 3, 3]) + len(body).to_bytes(2, "big") + body


# TLS 1.3: legacy version, random, no session id, TLS_AES_128_GCM_SHA256, no compression, supported_versions
SERVER_HELLO = bytes.fromhex("0303") + bytes(32) + bytes.fromhex("00 1301 00 0006 002b 0002 0304")


@settings(deadline=None)
@given(st.integers(1, 60), st.lists(st.integers(1, 300), min_size=1, max_size=8))
def test_the_server_hello_is_read_across_records_and_segments(record_size: int, sizes: list[int]) -> None:
    message = b"\x02" + len(SERVER_HELLO).to_bytes(3, "big") + SERVER_HELLO
    flight = b"".join(record(22, message[i : i + record_size]) for i in range(0, len(message), record_size))
    server = flight + record(20, b"\x01") + record(23, bytes(300))
    found = read(conversation(record(22, b"\x01\x00\x00\x00"), server, sizes))
    assert found.server_done and found.server_hello == SERVER_HELLO
    assert parse_server_hello(SERVER_HELLO).version == 0x0304


@pytest.mark.parametrize(
    "server",
    [
        record(22, b"\x01\x00\x00\x02\x03\x03"),  # a ClientHello is not a ServerHello
        record(23, bytes(40)),  # not a handshake record
        record(22, b"\x02\x00\x40\x01"),  # longer than MAX_SERVER_HELLO (16 KiB)
        b"SSH-2.0-OpenSSH_9.6\r\n",
    ],
)
def test_what_is_not_a_server_hello_is_not_read(server: bytes) -> None:
    found = read(conversation(record(22, b"\x01\x00\x00\x00"), server, [1448]))
    assert found.server_done and found.server_hello is None


def shape(records: list[tuple[int, bytes]]) -> tuple[tuple[tuple[int, int], ...], bool, bool]:
    """The definition: the records up to the first application-data one, at most RECORDS of them; a TLS 1.3
    client certificate is a first application-data record longer than a SHA-384 Finished (69 bytes), a
    TLS 1.2 one the second handshake record starting with a Certificate message (type 11)."""
    until = next((n + 1 for n, (kind, _) in enumerate(records) if kind == 23), len(records))
    kept = records[: min(until, RECORDS)]
    encrypted = [len(body) for kind, body in kept if kind == 23]
    handshakes = [body[:1] for kind, body in kept if kind == 22]
    tls13 = bool(encrypted) and encrypted[0] > 69
    tls12 = len(handshakes) > 1 and handshakes[1] == b"\x0b"
    return tuple((kind, len(body)) for kind, body in kept), tls13, tls12


RECORD = st.tuples(
    st.sampled_from([20, 21, 22, 23]),
    st.one_of(st.binary(max_size=80), st.builds(bytes, st.integers(60, 3000)), st.just(b"\x0b" * 90)),
)


@settings(deadline=None)
@given(st.lists(RECORD, min_size=1, max_size=20), st.lists(st.integers(1, 700), min_size=1, max_size=8))
def test_record_shapes_follow_the_definition(records: list[tuple[int, bytes]], sizes: list[int]) -> None:
    stream = record(22, b"\x01") + b"".join(record(kind, body) for kind, body in records)
    walk = read(cut(stream, sizes))
    kept, tls13, tls12 = shape([(22, b"\x01"), *records])
    assert walk.records == kept and not walk.failed
    assert walk.client_done == (len(kept) == RECORDS or kept[-1][0] == 23)
    assert (walk.client_certificate(True), walk.client_certificate(False)) == (tls13, tls12)


def test_retransmissions_are_read_once_and_a_hole_ends_the_reading() -> None:
    stream = record(22, b"\x01" * 300) + record(20, b"\x01") + record(23, bytes(500))
    segments = cut(stream, [100])
    again = [*segments[:3], (True, 50, stream[50:250]), *segments[2:]]  # overlapping copies: the first counts
    assert read(again).records == ((22, 300), (20, 1), (23, 500))
    holed = read(segments[:2] + segments[3:])  # a segment lost (or late): the rest is unknown
    assert holed.failed and holed.client_done and holed.records == ((22, 300),)
    message = b"\x02" + len(SERVER_HELLO).to_bytes(3, "big") + SERVER_HELLO
    server = cut(record(22, message), [20], to_server=False)
    assert read([segments[0], *server[:1], *server[2:]]).server_hello is None
    assert read([segments[0], *server[:2], *server[1:]]).server_hello == SERVER_HELLO


def test_only_a_client_opening_with_a_handshake_record_in_order_is_read() -> None:
    hello = record(22, b"\x01" * 40)
    assert read([(True, 0, hello)], syn=False).records == ((22, 40),)
    for found in (
        read([(True, 0, b"GET / HTTP/1.1\r\n\r\n")]),  # not TLS
        read([(False, 0, b"220 ready\r\n"), (True, 0, hello)]),  # the server spoke first
        read([(True, 10, hello)]),  # not the first byte after the SYN
    ):
        assert found.done and found.records == () and found.server_hello is None


@settings(deadline=None)
@given(st.lists(st.tuples(st.booleans(), st.binary(max_size=300)), max_size=30))
def test_fuzz_any_bytes(chunks: list[tuple[bool, bytes]]) -> None:
    offsets = {True: 2, False: 0}
    segments: list[Segment] = [(True, 0, b"\x16\x03")]
    for to_server, data in chunks:
        segments.append((to_server, offsets[to_server], data))
        offsets[to_server] += len(data)
    found = read(segments)
    assert len(found.records) <= RECORDS
    assert found.server_hello is None or len(found.server_hello) <= 16384
    facts(None, found)


def test_the_server_hellos_held_at_once_are_capped_and_counted() -> None:
    """Hellos are held until their flows end: past the process's budget one is not read, and counted;
    a reader freed gives its bytes back."""
    message = b"\x02" + len(SERVER_HELLO).to_bytes(3, "big") + SERVER_HELLO
    flows = conversation(record(22, b"\x01\x00\x00\x00"), record(22, message), [1448])
    held, over = budget()
    set_budget(held + 2 * len(message))
    try:
        kept = [read(flows), read(flows)]
        assert all(r.server_hello == SERVER_HELLO for r in kept) and budget()[0] == held + 2 * len(message)
        refused = read(flows)
        assert refused.server_done and refused.server_hello is None and budget()[1] == over + 1
        del kept[0]
        assert budget()[0] == held + len(message) and read(flows).server_hello == SERVER_HELLO
    finally:
        set_budget(HELD_BUDGET)
    del kept, refused
    assert budget()[0] == held
