"""The facts correlators of different partitions share (bus/facts.py, correlate/joins.py): made from what a
real analysis publishes, they go through the wire unchanged, are taken once (a copy or an older fact
changes nothing), and anything else a publisher could send is a BusMessageError with a one-line reason."""

from __future__ import annotations

import contextlib
from functools import cache
from typing import Any

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fleet import JSON, WORM, recorded, recorded_demo
from minerwatch.bus.correlator import BusCorrelator
from minerwatch.bus.facts import EVENTS_SHARED, JoinMessage, decode, encode_join
from minerwatch.bus.wire import BusMessageError, encode, partition_of
from minerwatch.correlate.joins import AttackFact, PoolFact

PARTITIONS = 2
# 10.1.1.21 mines on the demonstration's Stratum pool; 10.1.1.22, its peer, is in the other partition
MINER = "10.1.1.21"
PEER = 1 - partition_of(MINER, PARTITIONS)


def correlator(partition: int) -> BusCorrelator:
    """A correlator of `partition` fed what the demonstration's sensor publishes for it."""
    bus = BusCorrelator([], PARTITIONS, partition)
    ours = [m for m in recorded_demo() if partition_of(m.host, PARTITIONS) == partition]
    for seq, message in enumerate(ours, 1):
        bus.feed(seq, encode(message))
    bus.finish()
    return bus


@cache
def shared() -> tuple[tuple[str, str, bytes], ...]:
    """(subject, message id, data) of every fact the miner's partition shares."""
    return tuple(correlator(partition_of(MINER, PARTITIONS)).outgoing)


def _raw(kind: str) -> dict[str, Any]:
    return orjson.loads(next(data for _, _, data in shared() if orjson.loads(data)["fact"] == kind))


def _rejected(raw: Any, partition: int = PEER) -> str:
    with pytest.raises(BusMessageError) as caught:
        decode(orjson.dumps(raw), PARTITIONS, partition)
    assert "\n" not in str(caught.value)
    return str(caught.value)


def test_a_confirmed_pool_is_shared_with_its_evidence_and_goes_through_unchanged():
    home = partition_of(MINER, PARTITIONS)
    pools = []
    for subject, msg_id, data in shared():
        assert subject == f"minerwatch.obs.{1 - home}.join.{home}" and msg_id.startswith("join-")
        message = decode(data, PARTITIONS, 1 - home)
        assert isinstance(message, JoinMessage) and message.source == home
        assert encode_join(message) == (msg_id.rsplit("-", 1)[0], data)
        if isinstance(message.fact, PoolFact):
            pools.append(message)
    pool = next(m for m in pools if m.fact.miner == MINER)
    assert pool.fact.pool_port == 3333 and pool.fact.confidence > 0.9
    assert 0 < len(pool.events) <= EVENTS_SHARED
    assert {e.id for e in pool.events} <= set(pool.fact.event_ids)
    assert {e.event["event_type"] for e in pool.events} == {"mining"}


def test_a_fact_is_taken_once_and_an_older_one_changes_nothing():
    home = partition_of(MINER, PARTITIONS)
    peer = correlator(1 - home)
    assert peer.verdicts.peer_contacts() == {}  # 10.1.1.22 reached the pool, unknown here
    facts = [data for _, _, data in shared()]
    for seq, data in enumerate(facts, 1000):
        peer.feed(seq, data)
    suspects = peer.verdicts.peer_contacts()
    assert list(suspects) == ["10.1.1.22"]
    entry = suspects["10.1.1.22"][0][0]
    assert entry["confirmed_by"] == [MINER] and entry["event_ids"]
    restated = peer.stats.events_restated
    taken = dict(peer.joins.stats)
    for seq, data in enumerate(facts, 2000):  # a restarted sender's copies, past the duplicate window
        peer.feed(seq, data)
    assert peer.stats.events_restated == restated
    assert peer.joins.stats["facts_taken"] == taken["facts_taken"]
    assert peer.joins.stats["facts_unchanged"] == taken["facts_unchanged"] + len(facts)
    older = _raw("pool") | {"as_of": 1}
    older["body"]["confidence"] = 0.1
    peer.feed(3000, orjson.dumps(older))
    assert peer.verdicts.peer_contacts() == suspects


def test_what_correlators_never_send_is_refused_with_its_reason():
    good = _raw("pool")
    home = good["from"]
    assert _rejected(good, home) == f"fact from a bad partition '{home}'"
    assert _rejected(good | {"from": 7}) == "fact from a bad partition '7'"
    assert _rejected(good | {"from": True}) == "fact from a bad partition 'True'"
    assert _rejected(good | {"as_of": 0}) == "bad fact position '0'"
    assert _rejected(good | {"fact": "verdict"}) == "unknown fact 'verdict'"
    body = good["body"]
    assert _rejected(good | {"body": body | {"miner": "evil"}}) == "host 'evil' is not an IP address"
    other = next(f"10.9.9.{i}" for i in range(256) if partition_of(f"10.9.9.{i}", PARTITIONS) != home)
    assert (
        _rejected(good | {"body": body | {"miner": other}})
        == f"host {other} does not belong to partition {home}"
    )
    assert _rejected(good | {"body": body | {"confidence": 2.0}}) == "confidence 2.0 is not between 0 and 1"
    assert _rejected(good | {"body": body | {"first_seen": -1.0}}) == "a fact's time is not a capture time"
    assert "at most 20 positive event ids" in _rejected(
        good | {"body": body | {"event_ids": list(range(1, 30))}}
    )
    assert "Expected `int`" in _rejected(good | {"body": body | {"pool_port": "3333"}})
    assert (
        _rejected(good | {"events": [{}] * 9}) == f"a fact's events must be a list of at most {EVENTS_SHARED}"
    )
    event = good["events"][0]
    assert _rejected(good | {"events": [event | {"sensor": "a b"}]}) == "bad sensor name 'a b'"
    assert _rejected(good | {"events": [event | {"event_id": -1}]}) == "a fact's event without its ids"
    wrong = event | {"event": event["event"] | {"event_id": event["event_id"] + 1}}
    assert _rejected(good | {"events": [wrong]}) == "event is not the one the observation cites"
    attack = {"source": other, "target": "10.1.1.30", "steps": []}
    assert "an attack fact has 1 to 64 steps" in _rejected(good | {"fact": "attack", "body": attack})


def test_an_attack_on_a_host_of_another_partition_goes_to_the_attacker_s():
    source, target = "10.13.0.11", "10.13.0.12"  # the worm's spread, split by the two partitions
    home = partition_of(target, PARTITIONS)
    bus = BusCorrelator([], PARTITIONS, home)
    ours = [m for m in recorded(WORM) if partition_of(m.host, PARTITIONS) == home]
    for seq, message in enumerate(ours, 1):
        bus.feed(seq, encode(message))
    bus.finish()
    attacks = [
        message
        for _, _, data in bus.outgoing
        if isinstance((message := decode(data, PARTITIONS, 1 - home)).fact, AttackFact)
    ]
    attack = [m.fact for m in attacks if m.fact.source == source][-1]  # the latest of its versions
    assert attack.target == target and attack.steps and any(step.followed for step in attack.steps)
    raw = orjson.loads(next(data for _, _, data in bus.outgoing if b'"attack"' in data))
    assert _rejected(raw, home) == f"fact from a bad partition '{home}'"
    mine = next(f"10.9.9.{i}" for i in range(256) if partition_of(f"10.9.9.{i}", PARTITIONS) == home)
    raw["body"]["source"] = mine  # an attacker the receiver does not own
    assert _rejected(raw, 1 - home) == f"host {mine} belongs to partition {home}"


@settings(max_examples=300, deadline=None)
@given(field=st.sampled_from(["v", "kind", "from", "as_of", "fact", "body", "events"]), value=JSON)
def test_any_field_of_a_real_fact_replaced_is_taken_or_refused(field, value):
    raw = _raw("pool")
    raw[field] = value
    with contextlib.suppress(BusMessageError):
        decode(orjson.dumps(raw), PARTITIONS, PEER)


@settings(max_examples=300, deadline=None)
@given(value=JSON, name=st.integers(0, 30), where=st.sampled_from(["body", "event"]))
def test_any_field_of_a_fact_or_its_event_replaced_is_taken_or_refused(value, name, where):
    raw = _raw("pool")
    inner = raw["body"] if where == "body" else raw["events"][0]
    fields = sorted(inner)
    inner[fields[name % len(fields)]] = value
    with contextlib.suppress(BusMessageError):
        decode(orjson.dumps(raw), PARTITIONS, PEER)
