"""DNS parsing: fed bytes built here, hostile shapes, TCP framing, the compiled walk held to the Python
reference (tests/dns_reference.py), and the corpus compared with dpkt."""

from __future__ import annotations

import ipaddress
import struct
from collections.abc import Callable

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import dns_reference
from minerwatch.protocols.dns import (
    TYPE_A,
    TYPE_AAAA,
    TYPE_CNAME,
    DnsMessage,
    DnsParseError,
    DnsStreamParser,
    parse_message,
)


def encode_name(name: str) -> bytes:
    return b"".join(bytes([len(p)]) + p.encode() for p in name.split(".") if p) + b"\0"


def header(qd: int, an: int, response: bool = True, ident: int = 0x1234) -> bytes:
    return struct.pack("!HHHHHH", ident, 0x8180 if response else 0x0100, qd, an, 0, 0)


def question(name: str, qtype: int = TYPE_A) -> bytes:
    return encode_name(name) + struct.pack("!HH", qtype, 1)


def record(owner: bytes, rtype: int, rdata: bytes, ttl: int = 300) -> bytes:
    return owner + struct.pack("!HHIH", rtype, 1, ttl, len(rdata)) + rdata


def pool_response() -> bytes:
    """xmr.pool.example CNAME lb.example (compressed), lb.example A and AAAA."""
    msg = header(1, 3) + question("xmr.pool.example")
    qname_ptr = b"\xc0\x0c"
    cname_rdata = encode_name("lb.example")
    msg += record(qname_ptr, TYPE_CNAME, cname_rdata)
    target_offset = len(msg) - len(cname_rdata)
    target_ptr = bytes([0xC0 | (target_offset >> 8), target_offset & 0xFF])
    msg += record(target_ptr, TYPE_A, ipaddress.ip_address("192.0.2.7").packed, ttl=60)
    msg += record(target_ptr, TYPE_AAAA, ipaddress.ip_address("2001:db8::7").packed, ttl=60)
    return msg


def test_query_is_parsed() -> None:
    msg = parse_message(header(1, 0, response=False, ident=7) + question("Pool.Example", TYPE_AAAA))
    assert not msg.is_response
    assert msg.id == 7
    assert [(q.name, q.qtype) for q in msg.questions] == [("Pool.Example", TYPE_AAAA)]
    assert msg.answers == ()


def test_response_with_cname_and_compression() -> None:
    msg = parse_message(pool_response())
    assert msg.is_response
    assert msg.answers[0].name == "xmr.pool.example"
    assert msg.answers[0].data == "lb.example"
    addresses = [(a.name, a.data, a.ttl) for a in msg.answers if a.rtype in (TYPE_A, TYPE_AAAA)]
    assert addresses == [("lb.example", "192.0.2.7", 60), ("lb.example", "2001:db8::7", 60)]


def test_other_record_types_are_skipped_by_length() -> None:
    msg = header(1, 2) + question("x.example")
    msg += record(b"\xc0\x0c", 16, b"\x05hello")  # TXT
    msg += record(b"\xc0\x0c", TYPE_A, bytes([198, 51, 100, 1]))
    parsed = parse_message(msg)
    assert [a.data for a in parsed.answers] == [None, "198.51.100.1"]


@pytest.mark.parametrize(
    "name_bytes, reason",
    [
        (b"\xc0\x0c\0\1\0\1", "backwards"),  # points at itself
        (b"\x01a\xc0\x0e\0\1\0\1", "backwards"),  # points forward into its own labels
        (b"\x01a\xc0\xff\0\1\0\1", "backwards"),  # points past the end
        (b"\x80abc\0\0\1\0\1", "label type"),
        (b"\x05ab", "past the end"),
        (b"\x01a\xc0", "truncated"),
    ],
)
def test_hostile_names_are_rejected(name_bytes: bytes, reason: str) -> None:
    with pytest.raises(DnsParseError, match=reason):
        parse_message(header(1, 0) + name_bytes)


def test_pointer_chain_cannot_loop() -> None:
    # Two names that point at each other: the second pointer must go below the first.
    body = b"\x01a\xc0\x10" + b"\x01b\xc0\x0c"
    with pytest.raises(DnsParseError, match="backwards"):
        parse_message(header(2, 0) + body)


def test_overlong_name_is_rejected() -> None:
    name = ".".join(["a" * 63] * 5)
    with pytest.raises(DnsParseError, match="longer than 255"):
        parse_message(header(1, 0) + question(name))


def test_counts_larger_than_the_message_fail_cleanly() -> None:
    with pytest.raises(DnsParseError, match="past the end"):
        parse_message(header(65535, 65535) + question("a.example"))


def test_bad_address_length() -> None:
    msg = header(1, 1) + question("a.example") + record(b"\xc0\x0c", TYPE_A, b"\1\2\3")
    with pytest.raises(DnsParseError, match="address of 3 bytes"):
        parse_message(msg)


def test_every_truncation_fails_cleanly() -> None:
    full = pool_response()
    for cut in range(len(full)):
        with pytest.raises(DnsParseError):
            parse_message(full[:cut])


@given(st.binary(max_size=600))
@settings(max_examples=400)
def test_fuzz_only_dns_errors(data: bytes) -> None:
    try:
        msg = parse_message(data)
    except DnsParseError:
        return
    assert all(len(q.name) <= 4 * 255 for q in msg.questions)


def _outcome(parse: Callable[[bytes], DnsMessage], data: bytes) -> DnsMessage | str:
    try:
        return parse(data)
    except DnsParseError as exc:
        return f"error: {exc}"


@given(st.binary(max_size=600))
@settings(max_examples=400)
def test_compiled_walk_agrees_with_the_python_reference(data: bytes) -> None:
    assert _outcome(parse_message, data) == _outcome(dns_reference.parse_message, data)


@given(st.integers(0, 200), st.binary(min_size=1, max_size=4), st.sampled_from(["replace", "insert", "cut"]))
@settings(max_examples=400)
def test_compiled_walk_agrees_on_mutated_responses(at: int, patch: bytes, how: str) -> None:
    """Random bytes rarely get past the header; a real response with a few bytes changed reaches every
    branch (pointers, label kinds, address sizes, truncation) with both walks."""
    full = pool_response()
    at %= len(full)
    data = {
        "replace": full[:at] + patch + full[at + len(patch) :],
        "insert": full[:at] + patch + full[at:],
        "cut": full[:at],
    }[how]
    assert _outcome(parse_message, data) == _outcome(dns_reference.parse_message, data)


def frame(msg: bytes) -> bytes:
    return struct.pack("!H", len(msg)) + msg


def test_tcp_stream_in_any_chunking() -> None:
    stream = frame(pool_response()) + frame(b"\0" * 5) + frame(pool_response())
    for size in (1, 2, 3, 7, 64, len(stream)):
        parser = DnsStreamParser()
        messages = []
        for i in range(0, len(stream), size):
            messages += parser.feed(stream[i : i + size])
        assert len(messages) == 2
        assert parser.malformed == 1
        assert parser.buffered == 0


def test_tcp_buffer_holds_only_the_incomplete_frame() -> None:
    parser = DnsStreamParser()
    assert parser.feed(frame(pool_response()) + b"\xff\xff" + b"x" * 1000) != []
    assert parser.buffered == 1002


@given(st.lists(st.binary(max_size=80), max_size=20))
def test_fuzz_tcp_stream(chunks: list[bytes]) -> None:
    parser = DnsStreamParser()
    for chunk in chunks:
        parser.feed(chunk)
    assert parser.buffered <= 65537


def test_corpus_dns_names_agree_with_dpkt(corpus) -> None:
    dpkt = pytest.importorskip("dpkt")
    seen = 0
    with open(corpus / "nDPI" / "dns.pcap", "rb") as fh:
        for _ts, buf in dpkt.pcap.UniversalReader(fh):
            udp = _find_udp(dpkt, dpkt.ethernet.Ethernet(buf))
            if udp is None or 53 not in (udp.sport, udp.dport):
                continue
            ours = parse_message(bytes(udp.data))
            theirs = dpkt.dns.DNS(bytes(udp.data))
            assert [q.name for q in ours.questions] == [q.name for q in theirs.qd]
            assert len(ours.answers) == len(theirs.an)
            seen += 1
    assert seen > 0


def _find_udp(dpkt, layer):
    """Walk through VLAN/PPPoE encapsulation to the UDP layer, if any."""
    for _ in range(6):
        if isinstance(layer, dpkt.udp.UDP):
            return layer
        layer = getattr(layer, "data", None)
        if isinstance(layer, bytes | None):
            return None
    return None
