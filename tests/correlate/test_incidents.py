"""Incidents: the demo capture's Redis worm as one story, and the join rules on hand-made observations."""

from __future__ import annotations

import math

import pytest

from minerwatch.capture.sample import write_sample
from minerwatch.correlate.incidents import IncidentCorrelator, IncidentPolicy, incident_id
from minerwatch.correlate.observations import StageObservation
from minerwatch.correlate.stages import Stage, Technique
from minerwatch.correlate.verdicts import VerdictCorrelator

ATTACKER, VICTIM, SECOND = "203.0.113.50", "10.1.1.20", "10.1.1.30"
XMRIG_SHA256 = "849f30e9c2f3299ed85665cde2cdfa6b64c5324006db9f24cd0e41fa23776b60"


@pytest.fixture(scope="module")
def sample_events(tmp_path_factory) -> list[dict]:
    from minerwatch.pipeline import Analysis

    path = tmp_path_factory.mktemp("sample") / "sample.pcap"
    write_sample(path)
    events: list[dict] = []
    analysis = Analysis([events.append])
    analysis.feed_file(path)
    analysis.finish()
    return events


def of_type(events: list[dict], kind: str) -> list[dict]:
    return [e[kind] for e in events if e["event_type"] == kind]


def test_the_redis_victim_has_one_incident_with_its_stages(sample_events):
    mine = [i for i in of_type(sample_events, "incident") if i["host"] == VICTIM]
    assert len(mine) == 1
    incident = mine[0]
    assert [s["name"] for s in incident["stages"]] == [
        "attempted_attack",
        "exploitation",
        "implant_download",
        "actions_on_objective",
    ]
    assert incident["status"] == "compromised"
    assert incident["attackers"] == [ATTACKER]
    assert incident["entry"]["peer"] == ATTACKER and incident["entry"]["services"] == ["redis"]
    assert XMRIG_SHA256 in {f["sha256"] for f in incident["files"]}
    assert {"address": "198.51.100.7:3333", "basis": "behaviour", "confidence": 0.99} in incident["pools"]
    assert incident["wallets"] and incident["wallets"][0].startswith("44AFFq5k")
    assert {"redis-exposed", "patch-exploited-service", "block-implants", "block-pools", "hunt-wallets"} <= {
        r["id"] for r in incident["recommendations"]
    }
    assert "ssh-login-succeeded" not in {r["id"] for r in incident["recommendations"]}


def test_every_stage_cites_events_that_exist_and_the_score_is_its_stages(sample_events):
    ids = {e["event_id"]: e for e in sample_events}
    for incident in of_type(sample_events, "incident"):
        for stage in incident["stages"]:
            assert stage["event_ids"] and all(i in ids for i in stage["event_ids"])
            assert stage["weight"] == pytest.approx(
                stage["level"] * stage["confidence"] * stage["decay"], abs=2e-3
            )
        expected = 1 - math.prod(1 - s["weight"] for s in incident["stages"])
        assert incident["score"] == pytest.approx(expected, abs=0.01)
    exploitation = next(
        s
        for i in of_type(sample_events, "incident")
        if i["host"] == VICTIM
        for s in i["stages"]
        if s["name"] == "exploitation"
    )
    assert {ids[i]["event_type"] for i in exploitation["event_ids"]} == {"alert", "bruteforce"}


def test_hosts_are_marked(sample_events):
    hosts = {h["host"]: h for h in of_type(sample_events, "host")}
    assert hosts[VICTIM]["status"] == "compromised" and hosts[VICTIM]["incident"] == incident_id(VICTIM)
    assert hosts[ATTACKER]["status"] == "attacker" and hosts[ATTACKER]["incidents"] == [incident_id(VICTIM)]
    # the TLS suspect only reached a confirmed pool's address: marked, no incident of its own
    assert hosts["10.1.1.22"] == hosts["10.1.1.22"] | {"status": "suspicious", "incident": None}
    assert "10.1.1.22" not in {i["host"] for i in of_type(sample_events, "incident")}


def step(host: str, stage: Stage, ts: float, event_id: int, **fields) -> StageObservation:
    technique = fields.pop("technique", Technique.EXPLOIT_PUBLIC_FACING_APPLICATION)
    defaults = {"level": 0.8, "confidence": 0.7, "label": f"{stage} {event_id}"}
    return StageObservation(
        ts=ts, host=host, stage=stage, technique=technique, event_id=event_id, **(defaults | fields)
    )


def build(*observations: StageObservation, policy: IncidentPolicy | None = None):
    correlator = IncidentCorrelator(policy)
    for obs in observations:
        correlator.observe(obs)
    incidents, hosts = correlator.incidents(VerdictCorrelator())
    return {i["host"]: i for i in incidents}, hosts, correlator


def exploit_then_download(victim: str, attacker: str, t: float, first_id: int, source: str, **named):
    return [
        step(victim, Stage.ATTEMPTED_ATTACK, t, first_id, peer=attacker, **named),
        step(
            victim,
            Stage.IMPLANT_DOWNLOAD,
            t + 30,
            first_id + 1,
            peer=source,
            sha256="ab" * 32,
            technique=Technique.INGRESS_TOOL_TRANSFER,
            level=0.9,
        ),
    ]


def test_an_exploit_followed_by_a_download_from_a_named_host_is_an_exploitation():
    linked, _, _ = build(
        *exploit_then_download(VICTIM, ATTACKER, 1000.0, 1, "198.51.100.66", named_hosts=("198.51.100.66",))
    )
    loose, _, _ = build(*exploit_then_download(VICTIM, ATTACKER, 1000.0, 1, "192.0.2.99"))
    stage = {s["name"]: s for s in linked[VICTIM]["stages"]}
    assert set(stage) == {"exploitation", "implant_download"}
    assert stage["exploitation"]["confidence"] == 0.7
    assert linked[VICTIM]["status"] == "compromised"
    assert {s["name"]: s for s in loose[VICTIM]["stages"]}["exploitation"]["confidence"] == 0.49


def test_attempts_alone_open_no_incident_and_mark_nothing():
    incidents, hosts, _ = build(
        step(VICTIM, Stage.ATTEMPTED_ATTACK, 1000.0, 1, peer=ATTACKER),
        step(VICTIM, Stage.RECONNAISSANCE, 900.0, 2, peer=ATTACKER, technique=Technique.ACTIVE_SCANNING),
    )
    assert incidents == {} and hosts == []


def test_a_follow_up_outside_the_link_window_proves_nothing():
    observations = exploit_then_download(VICTIM, ATTACKER, 1000.0, 1, ATTACKER)
    late = [observations[0], StageObservation(**{**vars_of(observations[1]), "ts": 1000.0 + 7200})]
    incidents, _, _ = build(*late)
    assert [s["name"] for s in incidents[VICTIM]["stages"]] == ["attempted_attack", "implant_download"]
    assert incidents[VICTIM]["status"] == "suspicious"


def vars_of(obs: StageObservation) -> dict:
    return {name: getattr(obs, name) for name in obs.__slots__}


def test_a_victim_that_attacks_another_moves_laterally_and_spreads():
    brute = {"technique": Technique.BRUTE_FORCE, "service": "ssh"}
    incidents, hosts, _ = build(
        *exploit_then_download(VICTIM, ATTACKER, 1000.0, 1, ATTACKER),
        step(SECOND, Stage.RECONNAISSANCE, 2000.0, 3, peer=VICTIM, technique=Technique.ACTIVE_SCANNING),
        step(SECOND, Stage.EXPLOITATION, 2100.0, 4, peer=VICTIM, **brute),
        step(
            SECOND, Stage.IMPLANT_DOWNLOAD, 2200.0, 5, peer=VICTIM, technique=Technique.INGRESS_TOOL_TRANSFER
        ),
    )
    first, second = incidents[VICTIM], incidents[SECOND]
    lateral = next(s for s in first["stages"] if s["name"] == "lateral_movement")
    assert set(lateral["techniques"]) == {"T1046", "T1021"} and set(lateral["event_ids"]) == {3, 4}
    assert first["spread_to"] == [SECOND] and first["role"] == "victim-and-attacker"
    assert second["attackers"] == [VICTIM] and second["status"] == "compromised"
    assert "contain-spread" in {r["id"] for r in first["recommendations"]}
    assert "ssh-login-succeeded" in {r["id"] for r in second["recommendations"]}
    assert {(h["host"], h["status"]) for h in hosts} >= {(ATTACKER, "attacker"), (VICTIM, "attacker")}


def test_old_stages_weigh_less():
    policy = IncidentPolicy(half_life=100.0)
    incidents, _, _ = build(*exploit_then_download(VICTIM, ATTACKER, 1000.0, 1, ATTACKER), policy=policy)
    recent, _, _ = build(*exploit_then_download(VICTIM, ATTACKER, 1000.0, 1, ATTACKER))
    stage = {s["name"]: s for s in incidents[VICTIM]["stages"]}
    assert stage["exploitation"]["decay"] == pytest.approx(0.5**0.3, abs=1e-3)
    assert incidents[VICTIM]["score"] < recent[VICTIM]["score"]


def test_two_stages_count_more_than_one():
    one, _, _ = build(step(VICTIM, Stage.IMPLANT_DOWNLOAD, 1.0, 1, peer=ATTACKER))
    two, _, _ = build(
        step(VICTIM, Stage.IMPLANT_DOWNLOAD, 1.0, 1, peer=ATTACKER),
        step(VICTIM, Stage.COMMAND_AND_CONTROL, 2.0, 2, peer=ATTACKER),
    )
    assert two[VICTIM]["score"] > one[VICTIM]["score"]


def test_memory_is_bounded_and_forgetting_is_counted():
    policy = IncidentPolicy(max_hosts=3, max_steps=2)
    _, _, correlator = build(
        *(step(f"10.0.0.{n}", Stage.ATTEMPTED_ATTACK, n, n, peer=ATTACKER) for n in range(10)),
        *(step("10.0.0.9", Stage.ATTEMPTED_ATTACK, 20 + n, 20 + n, peer=f"192.0.2.{n}") for n in range(5)),
        policy=policy,
    )
    assert len(correlator.hosts) == 3 and correlator.stats["hosts_forgotten"] == 7
    assert len(correlator.hosts["10.0.0.9"]) == 2 and correlator.stats["steps_dropped"] == 4


def test_a_victim_spraying_passwords_moves_laterally():
    spray = {"technique": Technique.PASSWORD_SPRAYING, "service": "ssh", "level": 0.4}
    incidents, _, _ = build(
        *exploit_then_download(VICTIM, ATTACKER, 1000.0, 1, ATTACKER),
        *(
            step(f"10.1.1.{40 + n}", Stage.ATTEMPTED_ATTACK, 2000.0, 3, peer=VICTIM, **spray)
            for n in range(3)
        ),
    )
    lateral = next(s for s in incidents[VICTIM]["stages"] if s["name"] == "lateral_movement")
    assert lateral["techniques"] == ["T1021"] and lateral["event_ids"] == [3]
    assert incidents[VICTIM]["spread_to"] == []  # no target showed a stage of its own
