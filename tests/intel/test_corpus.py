"""The shipped set against the public captures: pool endpoints it names are matched in the mining
captures, and nothing at all (not even a weak port) in the benign ones.

A tiny test-only extractor (dpkt) pulls addresses, ports, DNS names/answers and TLS SNI from each
capture; the real pipeline does this in `minerwatch analyze`.
"""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from corpus_rows import BENIGN
from minerwatch.intel import DnsCache, IntelMatcher
from minerwatch.protocols.dns import DnsParseError, parse_message
from minerwatch.protocols.tls import ClientHelloParser

dpkt = pytest.importorskip("dpkt")


# Pool endpoints of mining captures that the shipped set names (see rules/intel/*.csv references).
MINING = {
    "CryptominingDetector/e52b224/miner.pcap": {"49.12.80.38"},
    "DI-cryptominingdetection/cgminer.s2.pcapng": {"104.140.244.186"},
    "DI-cryptominingdetection/cgminer.g0.pcapng": {"litecoinpool.org"},
}


def _layers(buf: bytes):
    layer = dpkt.ethernet.Ethernet(buf)
    for _ in range(6):
        if isinstance(layer, dpkt.ip.IP | dpkt.ip6.IP6):
            return layer, layer.data
        layer = getattr(layer, "data", None)
        if not isinstance(layer, dpkt.Packet):
            return None, None
    return None, None


def scan(path: Path, matcher: IntelMatcher) -> set[str]:
    """Matched indicator values in one capture, the way the pipeline will ask for them."""
    cache = DnsCache()
    hello_parsers: dict[tuple, ClientHelloParser] = {}
    found: set[str] = set()
    with path.open("rb") as fh:
        for ts, buf in dpkt.pcap.UniversalReader(fh):
            ip, l4 = _layers(buf)
            if ip is None:
                continue
            family = socket.AF_INET if isinstance(ip, dpkt.ip.IP) else socket.AF_INET6
            src, dst = socket.inet_ntop(family, ip.src), socket.inet_ntop(family, ip.dst)
            hits = matcher.match_ip(src, ts) + matcher.match_ip(dst, ts)
            for name in cache.names_for(dst, ts):
                hits += matcher.match_domain(name, ts)
            if isinstance(l4, dpkt.udp.UDP | dpkt.tcp.TCP):
                hits += matcher.match_port(l4.dport, ts)
                if isinstance(l4, dpkt.udp.UDP) and 53 in (l4.sport, l4.dport):
                    try:
                        msg = parse_message(bytes(l4.data))
                    except DnsParseError:
                        continue
                    cache.observe(msg, ts)
                    for q in msg.questions:
                        hits += matcher.match_domain(q.name, ts)
                if isinstance(l4, dpkt.tcp.TCP) and l4.data:
                    parser = hello_parsers.setdefault((src, l4.sport, dst, l4.dport), ClientHelloParser())
                    hello = parser.feed(bytes(l4.data))
                    if hello and hello.sni:
                        hits += matcher.match_domain(hello.sni, ts)
            found |= {h.indicator for h in hits if not h.weak} | {
                f"port:{h.indicator}" for h in hits if h.weak
            }
    return found


@pytest.fixture(scope="module")
def shipped(tmp_path_factory) -> IntelMatcher:
    return IntelMatcher.load(tmp_path_factory.mktemp("kb") / "intel.sqlite")


@pytest.mark.parametrize("name", sorted(MINING))
def test_mining_pools_in_the_shipped_set_are_matched(corpus: Path, shipped: IntelMatcher, name: str) -> None:
    found = scan(corpus / name, shipped)
    assert MINING[name] <= found


@pytest.mark.parametrize("name", BENIGN)
def test_benign_captures_match_nothing(corpus: Path, shipped: IntelMatcher, name: str) -> None:
    assert scan(corpus / name, shipped) == set()
