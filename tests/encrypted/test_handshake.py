"""The handshake reader on a real TLS 1.3 connection (XMRig 6.16.0 with OpenSSL 1.1.1), in any chunking,
and on hostile bytes."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from minerwatch.encrypted.handshake import MAX_RECORDS, TlsHandshake
from recorded_streams import streams

RECORDING = (
    Path(__file__).resolve().parents[1] / "fixtures" / "recordings" / "xmrig-6.16.0-cryptonote-tls.pcapng"
)


def test_xmrig_handshake() -> None:
    data = streams(RECORDING, 3443)
    handshake = TlsHandshake()
    handshake.feed(True, data[True])
    handshake.feed(False, data[False])
    facts = handshake.facts()
    assert facts.client_hello is not None and facts.server_hello is not None
    assert facts.tls13 and not facts.client_certificate
    assert facts.client_hello.ja4 == "t13i310900_e8f1e7e78f70_5ac7197df9d2"
    # ClientHello, ChangeCipherSpec, then the encrypted Finished before the login: 69 bytes, as the
    # server chose TLS_AES_256_GCM_SHA384 (a SHA-384 Finished)
    assert facts.server_hello.cipher == 0x1302
    assert facts.client_records[:3] == ((22, facts.client_records[0][1]), (20, 1), (23, 69))
    assert [kind for kind, _ in facts.server_records] == [22, 20, 23]  # each side stops at its first 23
    assert not handshake.wants_more(100)


MTLS = RECORDING.with_name("openssl-3.0.19-mtls.pcapng")


@pytest.mark.parametrize(
    ("port", "tls13", "certificate"),
    [(8443, True, True), (8444, True, False), (8445, False, True), (8446, False, False)],
)
def test_client_certificates_are_seen_through_the_encryption(
    port: int, tls13: bool, certificate: bool
) -> None:
    """OpenSSL's s_client and s_server, with and without a client certificate, TLS 1.3 and 1.2."""
    data = streams(MTLS, port)
    handshake = TlsHandshake()
    for to_server in (True, False):
        handshake.feed(to_server, data[to_server])
    facts = handshake.facts()
    assert (facts.tls13, facts.client_certificate) == (tls13, certificate)
    assert facts.client_hello is not None and facts.client_hello.sni is None


@settings(max_examples=50, deadline=None)
@given(st.lists(st.integers(1, 400), min_size=1, max_size=40))
def test_chunking_changes_nothing(cuts: list[int]) -> None:
    data = streams(RECORDING, 3443)
    whole = TlsHandshake()
    for to_server in (True, False):
        whole.feed(to_server, data[to_server])
    chunked = TlsHandshake()
    for to_server in (True, False):
        stream, pos = data[to_server], 0
        for cut in cuts * (len(stream) // max(1, sum(cuts)) + 1):
            chunked.feed(to_server, stream[pos : pos + cut])
            pos += cut
            if pos >= len(stream):
                break
    assert chunked.facts() == whole.facts()


@settings(deadline=None)
@given(st.lists(st.tuples(st.booleans(), st.binary(max_size=200)), max_size=40))
def test_fuzz_any_bytes(chunks: list[tuple[bool, bytes]]) -> None:
    handshake = TlsHandshake()
    for to_server, data in chunks:
        handshake.feed(to_server, data)
    facts = handshake.facts()
    assert len(facts.client_records) <= MAX_RECORDS and len(facts.server_records) <= MAX_RECORDS


@settings(deadline=None)
@given(st.lists(st.tuples(st.sampled_from([20, 21, 22, 23]), st.integers(0, 300)), max_size=20))
def test_record_headers_are_walked_over_any_body(records: list[tuple[int, int]]) -> None:
    stream = b"".join(bytes([kind, 3, 3]) + size.to_bytes(2, "big") + b"\0" * size for kind, size in records)
    handshake = TlsHandshake()
    handshake.feed(False, stream)
    until = next((n + 1 for n, (kind, _) in enumerate(records) if kind == 23), len(records))
    assert handshake.facts().server_records == tuple(records[: min(until, MAX_RECORDS)])
