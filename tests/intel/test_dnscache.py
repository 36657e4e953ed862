"""DNS answers link addresses back to the names (and CNAME aliases) that resolved to them."""

from __future__ import annotations

from minerwatch.intel.dnscache import MAX_TTL, MIN_TTL, DnsCache
from minerwatch.protocols.dns import TYPE_A, TYPE_AAAA, TYPE_CNAME, Answer, DnsMessage


def response(*answers: Answer, is_response: bool = True) -> DnsMessage:
    return DnsMessage(1, is_response, 0, 0, (), answers)


def test_cname_chain_attributes_every_name() -> None:
    cache = DnsCache()
    cache.observe(
        response(
            Answer("xmr.pool.example", TYPE_CNAME, 60, "lb.cdn.example"),
            Answer("lb.cdn.example", TYPE_CNAME, 60, "edge.cdn.example"),
            Answer("edge.cdn.example", TYPE_A, 60, "192.0.2.7"),
            Answer("edge.cdn.example", TYPE_AAAA, 60, "2001:db8::7"),
        ),
        ts=1000.0,
    )
    names = ("edge.cdn.example", "lb.cdn.example", "xmr.pool.example")
    assert cache.names_for("192.0.2.7", 1000.0) == names
    assert cache.names_for(bytes([192, 0, 2, 7]), 1001.0) == names
    assert cache.names_for("::ffff:192.0.2.7", 1001.0) == names
    assert cache.names_for("2001:db8::7", 1001.0) == names
    assert cache.names_for("192.0.2.8", 1001.0) == ()


def test_cname_loop_is_bounded() -> None:
    cache = DnsCache()
    cache.observe(
        response(
            Answer("a.example", TYPE_CNAME, 60, "b.example"),
            Answer("b.example", TYPE_CNAME, 60, "a.example"),
            Answer("a.example", TYPE_A, 60, "192.0.2.1"),
        ),
        ts=0.0,
    )
    assert cache.names_for("192.0.2.1", 0.0) == ("a.example", "b.example")


def test_expiry_is_clamped_capture_time() -> None:
    cache = DnsCache()
    cache.add("short.example", "192.0.2.1", ttl=1, ts=100.0)
    cache.add("long.example", "192.0.2.2", ttl=10**9, ts=100.0)
    assert cache.names_for("192.0.2.1", 100.0 + MIN_TTL) == ("short.example",)
    assert cache.names_for("192.0.2.1", 101.0 + MIN_TTL) == ()
    assert cache.names_for("192.0.2.2", 101.0 + MAX_TTL) == ()


def test_queries_and_garbage_are_ignored() -> None:
    cache = DnsCache()
    cache.observe(response(Answer("q.example", TYPE_A, 60, "192.0.2.1"), is_response=False), ts=0.0)
    cache.add("x.example", "not-an-ip", 60, 0.0)
    assert len(cache) == 0


def test_capacity_bounds_memory() -> None:
    cache = DnsCache(capacity=100)
    for n in range(1000):
        cache.add(f"h{n}.example", f"10.0.{n // 256}.{n % 256}", 60, 0.0)
    assert len(cache) == 100
    assert cache.names_for("10.0.3.231", 0.0) == ("h999.example",)
    assert cache.names_for("10.0.0.0", 0.0) == ()


def test_an_address_answered_again_is_the_most_recent() -> None:
    cache = DnsCache(capacity=2)
    cache.add("a.example", "192.0.2.1", 60, 0.0)
    cache.add("b.example", "192.0.2.2", 60, 0.0)
    cache.observe(response(Answer("A.example.", TYPE_A, 60, "192.0.2.1")), ts=1.0)  # 192.0.2.1 again
    cache.add("c.example", "192.0.2.3", 60, 2.0)  # one address too many: the least recent one goes
    assert cache.names_for("192.0.2.1", 2.0) == ("a.example",)
    assert cache.names_for("192.0.2.2", 2.0) == ()
    assert cache.names_for("192.0.2.3", 2.0) == ("c.example",)
