"""Streaming decoders (any split gives the same bytes, garbage never raises, zlib output is capped) and the
mining sniff: every encoding of a pool login is recognised, ordinary base64/compressed content is not."""

from __future__ import annotations

import base64
import gzip
import os
import zlib
from urllib.parse import quote_from_bytes

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from minerwatch.protocols.encodings import (
    Base64Decoder,
    HexDecoder,
    UrlDecoder,
    XorDecoder,
    ZlibDecoder,
    candidates,
)
from minerwatch.protocols.mining.obfuscated import sniff

LOGIN = (
    b'{"id":1,"jsonrpc":"2.0","method":"login","params":{"login":"44AFFq5kSiGBoZ4NMDwYtN18obc8AemS33DBLWs3H7ot'
    b'Xft3XjrpDtQGv7SqSsaBYBb98uNbr2VBBEt7f2wfn3RVGQBEP3A","pass":"x","agent":"XMRig/6.21.0"}}\n'
)
SUBMIT = b'{"id":2,"jsonrpc":"2.0","method":"submit","params":{"id":"1","job_id":"j","nonce":"aa"}}\n'
STREAM = LOGIN + SUBMIT

ENCODED = {
    "base64": base64.b64encode(STREAM),
    "base64-lines": b"\n".join(base64.b64encode(line) for line in STREAM.splitlines()) + b"\n",
    "hex": STREAM.hex().encode(),
    "url": quote_from_bytes(STREAM, safe="").encode(),
    "zlib": zlib.compress(STREAM),
    "gzip": gzip.compress(STREAM),
    "xor:0x5a": bytes(b ^ 0x5A for b in STREAM),
}
NAMES = {"base64-lines": "base64"}


def decode_in_pieces(decoder, data: bytes, cuts: list[int]) -> bytes:
    out, last = b"", 0
    for cut in [*sorted({min(c, len(data)) for c in cuts}), len(data)]:
        out += decoder.feed(data[last:cut])
        last = cut
    return out


@pytest.mark.parametrize("kind", sorted(ENCODED))
def test_every_encoding_of_a_pool_login_is_recognised_and_decoded(kind):
    data = ENCODED[kind]
    decoder = sniff(data)
    assert decoder is not None and decoder.name == NAMES.get(kind, kind)
    decoded = decoder.feed(data)
    assert decoded.split() == STREAM.split()


@settings(max_examples=60, deadline=None)
@given(kind=st.sampled_from(sorted(ENCODED)), cuts=st.lists(st.integers(0, 600), max_size=12))
def test_any_split_decodes_to_the_same_bytes(kind, cuts):
    data = ENCODED[kind]
    whole = sniff(data).feed(data)
    assert decode_in_pieces(sniff(data), data, cuts) == whole


@settings(max_examples=200, deadline=None)
@given(data=st.binary(max_size=2000), cuts=st.lists(st.integers(0, 2000), max_size=6))
def test_garbage_never_raises_and_output_is_bounded(data, cuts):
    for decoder in [*candidates(data), Base64Decoder(), HexDecoder(), UrlDecoder(), XorDecoder(7)]:
        out = decode_in_pieces(decoder, data, cuts)
        assert len(out) <= len(data) + data.count(b"\n") + 1
    sniff(data)
    sniff(data, any_json_rpc=True)


def test_a_zlib_bomb_stops_at_the_output_cap():
    bomb = zlib.compress(b"\0" * (20 * 1024 * 1024), 9)
    decoder = ZlibDecoder(max_output=1024 * 1024)
    total = sum(len(decoder.feed(bomb[i : i + 4096])) for i in range(0, len(bomb), 4096))
    assert total <= 1024 * 1024 and decoder.failed


def test_concatenated_gzip_members_are_all_decoded():
    decoder = ZlibDecoder(gzip=True)
    assert decoder.feed(gzip.compress(LOGIN) + gzip.compress(SUBMIT)) == STREAM


@pytest.mark.parametrize(
    "content",
    [
        pytest.param(base64.encodebytes(b"\x89PNG\r\n\x1a\n" + os.urandom(3000)), id="png-attachment"),
        pytest.param(base64.encodebytes(b"%PDF-1.7\n" + os.urandom(3000)), id="pdf-attachment"),
        pytest.param(base64.b64encode(b'{"name": "report", "pages": 3}'), id="base64-json-not-mining"),
        pytest.param(gzip.compress(b"<html><body>hello</body></html>" * 50), id="gzip-html"),
        pytest.param(b"220 mail.example.com ESMTP Postfix\r\n", id="smtp-banner"),
        pytest.param(bytes(range(256)) * 8, id="binary"),
        pytest.param(b"SSH-2.0-OpenSSH_9.6\r\n", id="ssh"),
        pytest.param(b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" + os.urandom(500), id="tls-hello"),
    ],
)
def test_ordinary_content_is_not_taken_for_mining(content):
    assert sniff(content) is None


def test_a_base64_mime_attachment_of_a_png_decodes_but_is_not_mining():
    attachment = base64.encodebytes(b"\x89PNG\r\n\x1a\n" + bytes(4000))
    assert Base64Decoder().feed(attachment).startswith(b"\x89PNG")
    assert sniff(attachment) is None


@given(st.binary(max_size=64))
def test_the_first_two_bytes_decide_which_encodings_are_candidates(data):
    """The obfuscated-Stratum factory rejects a flow on `candidates(first[:2])` alone: it must agree."""
    assert [type(d) for d in candidates(data[:2])] == [type(d) for d in candidates(data)]
