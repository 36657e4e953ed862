"""Matching edge cases: suffixes, IDN, CIDRs of every length, expiry, weak ports, alert bodies."""

from __future__ import annotations

import ipaddress

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from minerwatch.intel.matcher import IntelMatcher
from minerwatch.intel.model import Indicator
from minerwatch.intel.store import KnowledgeBase


def matcher(*indicators: Indicator, source: str = "test") -> IntelMatcher:
    with KnowledgeBase.open(":memory:", seed=False) as kb:
        kb.replace_source(source, indicators)
        return IntelMatcher.from_rows(kb.rows())


def d(value: str, **kw) -> Indicator:
    return Indicator.build("domain", value, **kw)


def ip(value: str, **kw) -> Indicator:
    return Indicator.build("ip", value, **kw)


@pytest.mark.parametrize(
    "observed, expected",
    [
        ("pool.example", ["pool.example"]),
        ("XMR-EU1.Pool.Example.", ["pool.example"]),
        ("a.b.c.pool.example", ["pool.example"]),
        ("evilpool.example", []),  # not a label boundary
        ("pool.example.evil", []),
        ("example", []),
        ("", []),
        ("x." * 300 + "pool.example", []),  # longer than any DNS name: ignored, not walked
    ],
)
def test_domain_suffix(observed: str, expected: list[str]) -> None:
    assert [h.indicator for h in matcher(d("pool.example")).match_domain(observed)] == expected


def test_nested_indicators_all_hit() -> None:
    m = matcher(d("pool.example", family="A"), d("xmr.pool.example", family="B"))
    assert sorted(h.family for h in m.match_domain("eu.xmr.pool.example")) == ["A", "B"]


def test_idn_either_way() -> None:
    m = matcher(d("bücher.example"))
    assert m.match_domain("xn--bcher-kva.example")
    assert m.match_domain("pool.BÜCHER.example")


def test_same_value_from_two_sources() -> None:
    with KnowledgeBase.open(":memory:", seed=False) as kb:
        kb.replace_source("a", [d("pool.example")])
        kb.replace_source("b", [d("pool.example"), d("pool.example")])
        m = IntelMatcher.from_rows(kb.rows())
    assert sorted(h.source for h in m.match_domain("pool.example")) == ["a", "b"]


@pytest.mark.parametrize("prefix", [0, 1, 7, 8, 23, 24, 31, 32])
def test_ipv4_cidr_boundaries(prefix: int) -> None:
    net = ipaddress.ip_network(f"198.51.100.77/{prefix}", strict=False)
    m = matcher(ip(str(net)))
    first, last = net.network_address, net.broadcast_address
    assert m.match_ip(str(first)) and m.match_ip(str(last))
    if prefix:
        assert not m.match_ip(str(first - 1)) if int(first) > 0 else True
        assert not m.match_ip(str(last + 1)) if int(last) < 2**32 - 1 else True


@pytest.mark.parametrize("prefix", [16, 32, 48, 64, 127, 128])
def test_ipv6_cidr_boundaries(prefix: int) -> None:
    net = ipaddress.ip_network(f"2001:db8:abcd:12::77/{prefix}", strict=False)
    m = matcher(ip(str(net)))
    assert m.match_ip(str(net.network_address))
    assert m.match_ip(net.broadcast_address.packed)
    assert not m.match_ip(str(net.broadcast_address + 1))
    assert not m.match_ip(str(net.network_address - 1))


@settings(max_examples=300, deadline=None)
@given(
    st.sampled_from([4, 6]),
    st.integers(0, 2**128 - 1),
    st.integers(0, 128),
    st.integers(0, 2**128 - 1),
    st.integers(0, 2**16 - 1),
)
def test_packed_addresses_screened_as_text_is_matched(
    version: int, net_bits: int, plen: int, near: int, other: int
) -> None:
    """A packed address is screened by its first 16 bits before any lookup: it must hit exactly when its
    text form does, in and around a network of any length (IPv4-mapped IPv6 included)."""
    bits = 32 if version == 4 else 128
    plen = min(plen, bits)
    net = ipaddress.ip_network(((net_bits % 2**bits) >> (bits - plen) << (bits - plen), plen))
    m = matcher(ip(str(net)))
    inside = int(net.network_address) | (near % 2 ** (bits - plen))
    outside = (int(net.network_address) ^ (other << (bits - 16))) % 2**bits
    for number in {inside, outside, int(net.network_address) - 1, int(net.broadcast_address) + 1}:
        if not 0 <= number < 2**bits:
            continue
        address = ipaddress.ip_address(number) if version == 6 else ipaddress.IPv4Address(number)
        as_text = [h.indicator for h in m.match_ip(str(address))]
        assert [h.indicator for h in m.match_ip(address.packed)] == as_text
        assert bool(as_text) == (address in net)
        if version == 4:  # the same address as IPv4-mapped IPv6, packed
            mapped = ipaddress.IPv6Address(f"::ffff:{address}")
            assert [h.indicator for h in m.match_ip(mapped.packed)] == as_text


def test_ip_forms_and_nesting() -> None:
    m = matcher(ip("10.0.0.0/8", family="wide"), ip("10.1.2.3", family="exact"), ip("::ffff:192.0.2.1"))
    assert sorted(h.family for h in m.match_ip("10.1.2.3")) == ["exact", "wide"]
    assert [h.indicator for h in m.match_ip(bytes([10, 9, 9, 9]))] == ["10.0.0.0/8"]
    assert m.match_ip("192.0.2.1") and m.match_ip("::ffff:192.0.2.1")
    assert m.match_ip("not an ip") == [] and m.match_ip(b"\x01\x02") == []
    assert m.match_ip("2001:db8::1") == []


def test_valid_until_uses_capture_time() -> None:
    m = matcher(d("old.example", valid_until="2020-01-01T00:00:00Z"))
    assert m.match_domain("old.example", ts=1577836799.0)
    assert m.match_domain("old.example", ts=1577836801.0) == []
    assert m.match_domain("old.example")  # no time given: everything counts


def test_remembered_lookups_still_judge_expiry_and_show_what_was_seen() -> None:
    """Names, addresses and agents are looked up once (bounded caches); expiry and the observed text
    are still those of each call."""
    until = "2020-01-01T00:00:00Z"
    m = matcher(ip("192.0.2.0/24", valid_until=until), Indicator.build("agent", "xmrig", valid_until=until))
    for _ in range(2):
        assert [h.indicator for h in m.match_ip("192.0.2.7", ts=1577836799.0)] == ["192.0.2.0/24"]
        assert m.match_ip("192.0.2.7", ts=1577836801.0) == []
        assert [h.observed for h in m.match_agent("XMRig/6.21", ts=1.0)] == ["XMRig/6.21"]
        assert [h.observed for h in m.match_agent("xmrig/6.22", ts=1.0)] == ["xmrig/6.22"]
        assert m.match_agent("XMRig/6.21", ts=1577836801.0) == []


def test_wallet_with_worker_and_eth_case() -> None:
    xmr = "4" + "A" * 94
    eth = "0x" + "AbCd" * 10
    m = matcher(Indicator.build("wallet", xmr), Indicator.build("wallet", eth))
    assert m.match_wallet(xmr)
    assert m.match_wallet(f"{xmr}.rig1")
    assert m.match_wallet(f"{xmr}+50000")
    assert m.match_wallet(eth.lower() + ".worker")
    assert m.match_wallet("4" + "a" * 94) == []  # base58 is case-sensitive


def test_agent_tokens() -> None:
    m = matcher(Indicator.build("agent", "XMRig"), Indicator.build("agent", "xmr-stak-cpu/1.3.0-1.5.0"))
    assert m.match_agent("XMRig/6.21.0 (Linux x86_64) libuv/1.44.2 gcc/12.2.0")
    assert m.match_agent("xmr-stak-cpu/1.3.0-1.5.0")
    assert m.match_agent("xmr-stak-cpu/2.0") == []
    assert m.match_agent("Mozilla/5.0 (X11; Linux x86_64)") == []


def test_hashes_and_fingerprints() -> None:
    sha = "AB" * 32
    ja4 = "t13d1516h2_8daaf6152771_b186095e22b6"
    m = matcher(
        Indicator.build("hash", sha),
        Indicator.build("ja3", "E7D705A3286E19EA42F587B344EE6865"),
        Indicator.build("ja4", ja4),
    )
    assert m.match_hash(sha.lower())
    assert m.match_ja3("e7d705a3286e19ea42f587b344ee6865")
    assert m.match_ja4(ja4.upper())
    assert m.match_hash("00" * 32) == []


def test_ports_are_weak() -> None:
    m = matcher(Indicator.build("port", "3333", confidence=90))
    (hit,) = m.match_port(3333)
    assert hit.weak and hit.confidence == 10
    assert m.match_port(80) == []
    assert hit.as_alert()["category"] == "weak mining evidence"


def test_url() -> None:
    m = matcher(d("pool.example"), ip("192.0.2.0/24"))
    assert m.match_url("stratum+tcp://eu.pool.example:3333")
    assert m.match_url("stratum+ssl://192.0.2.5:443")
    assert m.match_url("::::") == []


def test_alert_body_names_everything() -> None:
    m = matcher(d("pool.example", family="Kinsing", tags="c2", confidence=80, reference="https://r.example"))
    (hit,) = m.match_domain("x.pool.example")
    body = hit.as_alert()
    assert body["confidence"] == 80
    assert body["intel"] == {
        "indicator_type": "domain",
        "indicator": "pool.example",
        "observed": "x.pool.example",
        "source": "test",
        "family": "Kinsing",
        "tags": ["c2"],
        "reference": "https://r.example",
        "weak": False,
        "discovered": False,
    }
    assert "Kinsing" in body["signature"]


def test_shipped_set_loads_without_import(tmp_path) -> None:
    m = IntelMatcher.load(tmp_path / "kb.sqlite")
    hits = m.match_domain("donate.v2.xmrig.com")
    assert hits and hits[0].source == "minerwatch-builtin" and hits[0].reference.startswith("https://")
    assert not (tmp_path / "kb.sqlite").exists()  # reading creates nothing
