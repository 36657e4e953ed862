"""The handshake of real TLS connections (XMRig 6.16.0 with OpenSSL 1.1.1, OpenSSL 3.0's s_client with and
without a client certificate): the hellos read in Python, the shape of the client's records walked by the
engine (decode/_tlsrecords.pyx) in the flow's segments, in any segmentation; and hostile bytes."""

from __future__ import annotations

import struct
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from minerwatch.capture.writer import TCP_ACK, TCP_PSH, TCP_SYN, frame, tcp_segment
from minerwatch.decode import Engine, Flow
from minerwatch.decode._tlsrecords import RECORDS, ClientRecords
from minerwatch.encrypted.handshake import TlsFacts, TlsHellos, facts
from recorded_streams import streams

RECORDING = (
    Path(__file__).resolve().parents[1] / "fixtures" / "recordings" / "xmrig-6.16.0-cryptonote-tls.pcapng"
)
MTLS = RECORDING.with_name("openssl-3.0.19-mtls.pcapng")
CLIENT_ISN = 7000


class Bypass:
    """An engine sink that bypasses each flow at its first payload, as the inspector does once the hellos
    are read (the walk goes on in bypassed flows), and keeps the flows."""

    def __init__(self) -> None:
        self.flows: list[Flow] = []

    def flow_start(self, flow: Flow) -> None:
        self.flows.append(flow)

    def tcp_segment(self, flow: Flow, ts: float, to_server: bool, seq: int, flags: int, data: bytes) -> None:
        flow.inspect = False


def walked(segments: list[tuple[int, bytes]], syn: bool = True, server_first: bytes = b"") -> ClientRecords:
    """The engine's walk of the client's records after its `segments` (offset from its first byte, payload)
    in that order, after its SYN (or without one) and, when given, a server payload segment first."""
    frames = []
    if syn:
        frames.append(frame("10.0.0.1", "10.0.0.2", 6, tcp_segment(40000, 443, CLIENT_ISN, 0, TCP_SYN)))
    if server_first:
        frames.append(frame("10.0.0.2", "10.0.0.1", 6, tcp_segment(443, 40000, 1, 0, TCP_ACK, server_first)))
    for offset, payload in segments:
        seg = tcp_segment(40000, 443, CLIENT_ISN + 1 + offset, 1, TCP_PSH | TCP_ACK, payload)
        frames.append(frame("10.0.0.1", "10.0.0.2", 6, seg))
    sink = Bypass()
    engine = Engine(sink)
    engine.tls_records = True
    records = b"".join(struct.pack("<IIII", 1, i, len(f), len(f)) + f for i, f in enumerate(frames))
    _used, error = engine.feed_pcap(records, False, False, 1)
    assert error is None and len(sink.flows) == 1 and sink.flows[0].tls is not None
    return sink.flows[0].tls


def cut(data: bytes, sizes: list[int]) -> list[tuple[int, bytes]]:
    """`data` in segments of the given sizes, repeated to the end; the first holds at least two bytes, as
    a flow is told TLS by them (here as in the inspector's choice of analysers)."""
    out: list[tuple[int, bytes]] = []
    pos, n = 0, 0
    while pos < len(data):
        size = max(sizes[n % len(sizes)], 2 - pos)
        out.append((pos, data[pos : pos + size]))
        pos, n = pos + size, n + 1
    return out


def handshake(recording: Path, port: int, sizes: list[int] | None = None) -> TlsFacts:
    data = streams(recording, port)
    hellos = TlsHellos()
    for to_server in (True, False):
        hellos.feed(to_server, data[to_server])
    records = walked(cut(data[True][:8192], sizes or [1448]))  # the walk ends within the first flights
    return facts(hellos, records)


def test_xmrig_handshake() -> None:
    data = streams(RECORDING, 3443)
    hellos = TlsHellos()
    assert hellos.wants_more(0)
    hellos.feed(True, data[True])
    assert hellos.wants_more(100)  # the ServerHello is awaited
    hellos.feed(False, data[False])
    assert not hellos.wants_more(100)
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
    """Record headers and first body bytes split anywhere across segments (a TLS 1.2 client certificate
    is told by the first byte of its record's body)."""
    for recording, port in ((RECORDING, 3443), (MTLS, 8445), (MTLS, 8443)):
        assert handshake(recording, port, sizes) == handshake(recording, port)


def record(kind: int, body: bytes) -> bytes:
    return bytes([kind, 3, 3]) + len(body).to_bytes(2, "big") + body


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
    walk = walked(cut(stream, sizes))
    kept, tls13, tls12 = shape([(22, b"\x01"), *records])
    assert walk.records == kept and not walk.failed
    assert walk.done == (len(kept) == RECORDS or kept[-1][0] == 23)
    assert (walk.client_certificate(True), walk.client_certificate(False)) == (tls13, tls12)


def test_retransmissions_are_walked_once_and_a_hole_ends_the_walk() -> None:
    stream = record(22, b"\x01" * 300) + record(20, b"\x01") + record(23, bytes(500))
    segments = cut(stream, [100])
    again = [*segments[:3], (50, stream[50:250]), *segments[2:]]  # overlapping copies: the first counts
    assert walked(again).records == ((22, 300), (20, 1), (23, 500))
    holed = walked(segments[:2] + segments[3:])  # a segment lost (or late): the rest is unknown
    assert holed.failed and holed.done and holed.records == ((22, 300),)


def test_only_a_client_opening_with_a_handshake_record_in_order_is_walked() -> None:
    hello = record(22, b"\x01" * 40)
    assert walked([(0, hello)], syn=False).records == ((22, 40),)
    for walk in (
        walked([(0, b"GET / HTTP/1.1\r\n\r\n")]),  # not TLS
        walked([(0, hello)], server_first=b"220 ready\r\n"),  # the server spoke first
        walked([(10, hello)]),  # not the first byte after the SYN
    ):
        assert walk.done and walk.records == ()


@settings(deadline=None)
@given(st.lists(st.binary(max_size=300), max_size=30))
def test_fuzz_any_bytes(chunks: list[bytes]) -> None:
    stream = b"\x16\x03" + b"".join(chunks)
    walk = walked(cut(stream, [len(c) or 1 for c in chunks] or [2]))
    assert len(walk.records) <= RECORDS
    hellos = TlsHellos()
    hellos.feed(True, stream)
    facts(hellos, walk)
