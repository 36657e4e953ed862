"""ClientHello parsing and JA3/JA4: a published vector, any chunking, hostile input, the compiled walk held
to the Python reference (tests/tls_reference.py), and the corpus."""

from __future__ import annotations

import contextlib
import hashlib
import re
import struct
from collections.abc import Callable

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import tls_reference
from minerwatch.protocols.tls import (
    MAX_HELLO,
    ClientHello,
    ClientHelloParser,
    State,
    TlsParseError,
    is_grease,
    parse_client_hello,
    parse_server_hello,
)

# A browser hello published with its fingerprints (ja4_ro / ja3_text of a browserleaks.com report):
# order as sent, so both the sorted JA4 and the ordered JA3 are exercised.
CIPHERS = [0x1301, 0x1302, 0x1303, 0xC02B, 0xC02F, 0xC02C, 0xC030, 0xCCA9, 0xCCA8, 0xC013, 0xC014]
CIPHERS += [0x009C, 0x009D, 0x002F, 0x0035]
EXT_ORDER = [0x002D, 0x0033, 0x0010, 0xFE0D, 0x0017, 0x44CD, 0x0000, 0x000B, 0x000A, 0x002B, 0xFF01]
EXT_ORDER += [0x0023, 0x0012, 0x0005, 0x000D, 0x001B]
SIGS = [0x0403, 0x0804, 0x0401, 0x0503, 0x0805, 0x0501, 0x0806, 0x0601]
GROUPS = [4588, 29, 23, 24]
PUBLISHED_JA4 = "t13d1516h2_8daaf6152771_d8a2da3f94cd"
PUBLISHED_JA3 = "98487aa16281980e7d1120d399efb6a4"


def u16s(values: list[int]) -> bytes:
    return struct.pack(f"!{len(values)}H", *values)


def vec(data: bytes, size: int) -> bytes:
    return len(data).to_bytes(size, "big") + data


def ext_body(ext: int, sni: str, alpn: list[str]) -> bytes:
    if ext == 0x0000:
        return vec(b"\0" + vec(sni.encode(), 2), 2)
    if ext == 0x0010:
        return vec(b"".join(vec(p.encode(), 1) for p in alpn), 2)
    if ext == 0x000A:
        return vec(u16s(GROUPS), 2)
    if ext == 0x000B:
        return vec(b"\0", 1)
    if ext == 0x000D:
        return vec(u16s(SIGS), 2)
    if ext == 0x002B:
        return vec(u16s([0x3A3A, 0x0304, 0x0303]), 1)
    return b"\0\0\0"


def hello_body(
    ciphers: list[int] = CIPHERS,
    extensions: list[int] = EXT_ORDER,
    sni: str = "tls.example",
    alpn: list[str] | None = None,
) -> bytes:
    alpn = ["h2", "http/1.1"] if alpn is None else alpn
    exts = b"".join(struct.pack("!H", e) + vec(ext_body(e, sni, alpn), 2) for e in extensions)
    return b"\x03\x03" + b"r" * 32 + vec(b"s" * 32, 1) + vec(u16s(ciphers), 2) + b"\x01\x00" + vec(exts, 2)


def records(body: bytes, record_size: int = 16384) -> bytes:
    msg = b"\x01" + vec(body, 3)
    return b"".join(
        b"\x16\x03\x01" + vec(msg[i : i + record_size], 2) for i in range(0, len(msg), record_size)
    )


def test_published_fingerprints() -> None:
    hello = parse_client_hello(hello_body())
    assert hello.ja4 == PUBLISHED_JA4
    assert hello.ja3 == PUBLISHED_JA3
    assert hello.sni == "tls.example"
    assert hello.alpn == ("h2", "http/1.1")


def test_grease_is_ignored_everywhere() -> None:
    plain = parse_client_hello(hello_body())
    greased = parse_client_hello(hello_body([0x0A0A, *CIPHERS], [0x1A1A, *EXT_ORDER, 0xFAFA]))
    assert greased.ja3 == plain.ja3
    assert greased.ja4 == plain.ja4
    assert is_grease(0xDADA) and not is_grease(0x0A1A)


def test_ja4_parts_follow_the_hello() -> None:
    hello = parse_client_hello(hello_body(CIPHERS[:3], [0x000D, 0x002B], sni="", alpn=[]))
    a, b, c = hello.ja4.split("_")
    assert a == "t13i0302" + "00"
    assert b == hashlib.sha256(b"1301,1302,1303").hexdigest()[:12]
    sigs = ",".join(f"{s:04x}" for s in SIGS)
    assert c == hashlib.sha256(f"000d,002b_{sigs}".encode()).hexdigest()[:12]


def test_fingerprints_of_one_shape_still_follow_each_hello() -> None:
    """Fingerprints are remembered per shape of hello (its fields but the random, session and SNI): what
    the shape leaves out must still show in JA4 (an SNI or not), and another shape gets its own."""
    named, unnamed = parse_client_hello(hello_body()), parse_client_hello(hello_body(sni=""))
    assert (named.ja4[3], unnamed.ja4[3]) == ("d", "i") and named.ja4[4:] == unnamed.ja4[4:]
    h1 = parse_client_hello(hello_body(alpn=["http/1.1"]))
    assert (named.ja4[8:10], h1.ja4[8:10]) == ("h2", "h1") and h1.ja3 == named.ja3
    fewer = parse_client_hello(hello_body(CIPHERS[:3]))
    assert fewer.ja3 != named.ja3 and fewer.ja4 != named.ja4


@pytest.mark.parametrize("alpn, expected", [(["http/1.1"], "h1"), (["\x01x\xff"], "0f"), ([""], "00")])
def test_ja4_alpn_characters(alpn: list[str], expected: str) -> None:
    assert parse_client_hello(hello_body(alpn=alpn)).ja4[8:10] == expected


@pytest.mark.parametrize("record_size", [1, 100, 16384])
@pytest.mark.parametrize("chunk", [1, 5, 333, 100000])
def test_records_and_segments_split_anywhere(record_size: int, chunk: int) -> None:
    stream = records(hello_body(), record_size) + b"\x17\x03\x03\x00\x05hello"
    parser = ClientHelloParser()
    found = [h for i in range(0, len(stream), chunk) if (h := parser.feed(stream[i : i + chunk]))]
    assert [h.ja4 for h in found] == [PUBLISHED_JA4]
    assert parser.state is State.DONE


def test_not_tls() -> None:
    parser = ClientHelloParser()
    assert parser.feed(b'{"id":1,"method":"login"}\n') is None
    assert parser.state is State.NOT_TLS


def test_oversized_hello_gives_up() -> None:
    parser = ClientHelloParser()
    parser.feed(b"\x16\x03\x01\x00\x04\x01" + (MAX_HELLO + 1).to_bytes(3, "big"))
    assert parser.state is State.FAILED
    assert "exceeds" in (parser.error or "")


def test_one_byte_records_end_when_the_announced_length_is_reached() -> None:
    parser = ClientHelloParser()
    parser.feed(b"\x16\x03\x01\x00\x04\x01\x00\xff\xff")
    for _ in range(0xFFFF):
        parser.feed(b"\x16\x03\x01\x00\x01x")
        if parser.state is not State.NEED_DATA:
            break
    assert parser.state is State.DONE or parser.state is State.FAILED


def test_truncated_bodies_fail_cleanly() -> None:
    body = hello_body()
    for cut in range(0, len(body), 3):
        parser = ClientHelloParser()
        msg = b"\x01" + vec(body[:cut], 3)
        parser.feed(b"\x16\x03\x01" + vec(msg, 2))
        assert parser.state in (State.FAILED, State.DONE)


@given(st.binary(max_size=400))
def test_fuzz_after_a_valid_header(body: bytes) -> None:
    parser = ClientHelloParser()
    parser.feed(b"\x16\x03\x01" + vec(b"\x01" + vec(body, 3), 2))
    assert parser.state in (State.FAILED, State.DONE)


@given(st.lists(st.binary(max_size=64), max_size=30))
def test_fuzz_any_stream(chunks: list[bytes]) -> None:
    parser = ClientHelloParser()
    for data in chunks:
        parser.feed(data)


@given(st.one_of(st.binary(max_size=400), st.builds(hello_body)), st.integers(0, 8), st.binary(max_size=8))
def test_a_whole_hello_in_one_segment_reads_as_records_collected_byte_by_byte(
    body: bytes, slack: int, tail: bytes
) -> None:
    """The parser reads a segment that holds a whole first record and hello at once; fed the same bytes one
    at a time, it collects them record by record: the outcome must be the same."""
    hello = b"\x01" + vec(body, 3)
    stream = b"\x16\x03\x01" + vec(hello + bytes(slack), 2) + tail
    whole, split = ClientHelloParser(), ClientHelloParser()
    found = whole.feed(stream)
    found_split = [h for i in range(len(stream)) if (h := split.feed(stream[i : i + 1]))]
    assert ([found] if found else []) == found_split
    assert (whole.state, whole.error) == (split.state, split.error)


def _outcome(parse: Callable[[bytes], ClientHello], body: bytes) -> ClientHello | str:
    try:
        return parse(body)
    except TlsParseError as exc:
        return f"error: {exc}"


@given(st.binary(max_size=400))
@settings(max_examples=300)
def test_compiled_walk_agrees_with_the_python_reference(body: bytes) -> None:
    body = hello_body()[:35] + body  # past the fixed start, so that the lengths that follow are random
    assert _outcome(parse_client_hello, body) == _outcome(tls_reference.parse_client_hello, body)


@given(st.integers(0, 1000), st.binary(min_size=1, max_size=4), st.sampled_from(["replace", "insert", "cut"]))
@settings(max_examples=500)
def test_compiled_walk_agrees_on_mutated_hellos(at: int, patch: bytes, how: str) -> None:
    """A real hello with a few bytes changed reaches every length check (ciphers, extensions and each
    field the fingerprints read) with both walks: the same hello, or the same error text."""
    full = hello_body(alpn=["h2", "http/1.1"])
    at %= len(full)
    body = {
        "replace": full[:at] + patch + full[at + len(patch) :],
        "insert": full[:at] + patch + full[at:],
        "cut": full[:at],
    }[how]
    assert _outcome(parse_client_hello, body) == _outcome(tls_reference.parse_client_hello, body)


@given(st.binary(max_size=400))
def test_fuzz_server_hello_bodies(body: bytes) -> None:
    """Any ServerHello body (the engine collects them: tests/encrypted/test_handshake.py) parses or is a
    TlsParseError."""
    with contextlib.suppress(TlsParseError):
        parse_server_hello(body)


def test_corpus_fingerprints_match_ndpi(corpus) -> None:
    """nDPI's own expected output for its capture names the JA3 and JA4 we must compute (the JA3S:
    tests/encrypted/test_handshake.py)."""
    dpkt = pytest.importorskip("dpkt")
    expected = (corpus / "nDPI" / "443-curl.pcap.ndpi.out").read_text()
    ja3 = re.search(r"JA3C: ([0-9a-f]{32})", expected).group(1)
    ja4 = re.search(r"JA4: (t[0-9a-z_]+)", expected).group(1)
    sni = re.search(r"Hostname/SNI: ([^]]+)", expected).group(1)
    parser = ClientHelloParser()
    hello = None
    with open(corpus / "nDPI" / "443-curl.pcap", "rb") as fh:
        for _ts, buf in dpkt.pcap.UniversalReader(fh):
            tcp = dpkt.ethernet.Ethernet(buf).data.data
            if isinstance(tcp, dpkt.tcp.TCP) and tcp.dport == 443 and tcp.data:
                hello = parser.feed(bytes(tcp.data)) or hello
    assert hello is not None
    assert (hello.ja3, hello.ja4, hello.sni) == (ja3, ja4, sni)
