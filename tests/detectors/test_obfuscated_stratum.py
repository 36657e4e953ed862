"""Stratum under an encoding on raw TCP: every encoding reaches the same verdict and names itself; ordinary
base64 (a MIME attachment over SMTP) and binary traffic are left alone."""

from __future__ import annotations

import base64
import gzip
import json
import os
import zlib
from urllib.parse import quote_from_bytes

import pytest

from minerwatch.capture.writer import TcpConversation

WALLET = "44AFFq5kSiGBoZ4NMDwYtN18obc8AemS33DBLWs3H7otXft3XjrpDtQGv7SqSsaBYBb98uNbr2VBBEt7f2wfn3RVGQBEP3A"
JOB = {"blob": "0707" + "ab" * 74, "job_id": "1", "target": "ffff0000", "seed_hash": "cd" * 32}
MINER_LINES = [
    {"id": 1, "method": "login", "params": {"login": WALLET, "pass": "x", "agent": "XMRig/6.21.0"}},
    {"id": 2, "method": "submit", "params": {"id": "a", "job_id": "1", "nonce": "00000001"}},
]
POOL_LINES = [
    {"id": 1, "result": {"id": "a", "job": JOB, "status": "OK"}, "error": None},
    {"id": 2, "result": {"status": "OK"}, "error": None},
]

ENCODERS = {
    "base64": lambda b: base64.b64encode(b.rstrip(b"\n")) + b"\n",
    "hex": lambda b: b.hex().encode(),
    "url": lambda b: quote_from_bytes(b, safe="").encode(),
    "zlib": zlib.compress,
    "gzip": gzip.compress,
    "xor:0x3c": lambda b: bytes(x ^ 0x3C for x in b),
}


def line(obj: dict) -> bytes:
    return json.dumps(obj).encode() + b"\n"


def session(encode_miner, encode_pool) -> TcpConversation:
    c = TcpConversation("10.2.0.7", 50123, "198.51.100.77", 8443).open()
    for request, reply in zip(MINER_LINES, POOL_LINES, strict=True):
        c.send(True, encode_miner(line(request))).send(False, encode_pool(line(reply)))
    return c.close()


def mining(events: list[dict]) -> list[dict]:
    return [e["mining"] for e in events if e["event_type"] == "mining"]


@pytest.mark.parametrize("encoding", sorted(ENCODERS))
def test_each_encoding_gives_the_cleartext_verdict_and_names_itself(write_capture, analyse, encoding):
    encode = ENCODERS[encoding]
    events = analyse(write_capture(session(encode, encode).packets))
    found = mining(events)
    assert {m["behaviour"] for m in found} >= {"login", "job", "submit"}
    assert {m["encoding"] for m in found} == {encoding}
    [verdict] = [e["verdict"] for e in events if e["event_type"] == "verdict"]
    assert verdict["stages"] == [1, 2] and verdict["encodings"] == [encoding]
    assert verdict["wallets"][0]["address"] == WALLET


def test_a_pool_answering_in_cleartext_is_read_as_such(write_capture, analyse):
    events = analyse(write_capture(session(ENCODERS["hex"], lambda b: b).packets))
    by_behaviour = {m["behaviour"]: m for m in mining(events)}
    assert by_behaviour["login"]["encoding"] == "hex" and by_behaviour["login"]["outcome"] == "accepted"
    assert "encoding" not in by_behaviour["job"]


def test_a_base64_mime_attachment_over_smtp_is_not_mining(write_capture, analyse):
    attachment = base64.encodebytes(b"\x89PNG\r\n\x1a\n" + os.urandom(6000))
    c = TcpConversation("10.2.0.8", 50200, "198.51.100.25", 25).open()
    c.send(False, b"220 mx.example.org ESMTP\r\n").send(True, b"EHLO pc\r\n").send(False, b"250 OK\r\n")
    c.send(True, b"DATA\r\n").send(False, b"354 go\r\n")
    c.send(True, b"Content-Type: image/png\r\nContent-Transfer-Encoding: base64\r\n\r\n" + attachment)
    events = analyse(write_capture(c.close().packets))
    assert mining(events) == [] and not any(e["event_type"] == "verdict" for e in events)


def test_a_raw_base64_stream_of_an_image_is_not_mining(write_capture, analyse):
    c = TcpConversation("10.2.0.9", 50300, "198.51.100.26", 9000).open()
    c.send(True, base64.b64encode(b"\xff\xd8\xff\xe0" + os.urandom(5000)))
    events = analyse(write_capture(c.close().packets))
    assert mining(events) == []


def test_a_capture_starting_inside_a_hex_blob_is_still_read_as_json_lines():
    from minerwatch.detectors.pool_behaviour import looks_like_json

    assert looks_like_json(b"ab" * 40 + b'","job_id":"1"}}\n{"id":2,"method":"submit"}\n')
    assert not looks_like_json(b'POST / HTTP/1.1\r\nHost: a\r\n\r\n{"id":1,"method":"getwork"}\n')
