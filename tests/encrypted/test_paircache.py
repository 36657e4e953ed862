"""The (miner, pool) pair cache: counting, the behaviour-over-intel rank, expiry and the LRU bound."""

from __future__ import annotations

from minerwatch.encrypted.paircache import LISTED, PairCache


def test_a_confirmed_pair_counts_its_encrypted_flows() -> None:
    cache = PairCache()
    assert cache.count("10.0.0.5", "192.0.2.1", 10.0, 1, 100) is None
    cache.confirm("10.0.0.5", "192.0.2.1", 20.0, "behaviour", 0.99, (3, 4))
    for flow_id in range(2, 2 + LISTED + 3):
        entry = cache.count("10.0.0.5", "192.0.2.1", 30.0 + flow_id, flow_id, 1000)
    assert entry is not None
    assert (entry.flows, entry.bytes, entry.basis) == (LISTED + 3, 1000 * (LISTED + 3), "behaviour")
    assert entry.flow_ids == list(range(2, 2 + LISTED))
    assert cache.count("10.0.0.6", "192.0.2.1", 40.0, 99, 1) is None  # another miner: not the pair
    assert cache.stats["encrypted_flows"] == LISTED + 3


def test_behaviour_outranks_intel() -> None:
    cache = PairCache()
    cache.confirm("a", "b", 1.0, "intel", 0.8, (1,))
    cache.confirm("a", "b", 2.0, "behaviour", 0.6, (2,))
    cache.confirm("a", "b", 3.0, "intel", 0.9, (3,))
    entry = cache.count("a", "b", 4.0, 1, 1)
    assert entry is not None and (entry.basis, entry.confidence, entry.event_ids) == ("behaviour", 0.6, (2,))


def test_a_pair_unused_for_the_ttl_expires_and_use_keeps_it() -> None:
    cache = PairCache(ttl=100.0)
    cache.confirm("a", "b", 0.0, "behaviour", 0.9)
    assert cache.count("a", "b", 90.0, 1, 1) is not None
    assert cache.count("a", "b", 180.0, 2, 1) is not None  # 90 s after its last use
    assert cache.count("a", "b", 281.0, 3, 1) is None
    assert cache.stats["pairs_expired"] == 1 and len(cache) == 0 and cache.clients == {}


def test_the_least_recently_used_pair_is_evicted() -> None:
    cache = PairCache(max_pairs=3)
    for n in range(3):
        cache.confirm(f"m{n}", "pool", float(n), "behaviour", 0.9)
    cache.count("m0", "pool", 5.0, 1, 1)  # m0 used: m1 is now the oldest
    cache.confirm("m3", "pool", 6.0, "behaviour", 0.9)
    assert len(cache) == 3 and cache.stats["pairs_evicted"] == 1
    assert cache.count("m1", "pool", 7.0, 2, 1) is None
    assert cache.count("m0", "pool", 7.0, 3, 1) is not None
    assert cache.clients == {"m0": 1, "m2": 1, "m3": 1}  # what the checkpoint gate asks


def test_clients_count_the_pairs_each_client_has() -> None:
    cache = PairCache(max_pairs=2)
    cache.confirm("m", "pool-a", 0.0, "behaviour", 0.9)
    cache.confirm("m", "pool-a", 1.0, "intel", 0.5)  # the same pair again
    cache.confirm("m", "pool-b", 2.0, "behaviour", 0.9)
    assert cache.clients == {"m": 2}
    cache.confirm("n", "pool-a", 3.0, "behaviour", 0.9)  # evicts (m, pool-a)
    assert cache.clients == {"m": 1, "n": 1}
