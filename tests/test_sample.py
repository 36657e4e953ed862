"""The demonstration capture tells its whole story: break-in, implant download, mining, intel."""

from __future__ import annotations

from minerwatch.capture.sample import (
    ATTACKER,
    BTC_POOL,
    DROP_SITE,
    STRATUM_MINER,
    TLS_PEER,
    VICTIM,
    write_sample,
)


def test_the_sample_shows_every_stage_of_the_infection(tmp_path, analyse):
    path = tmp_path / "sample.pcap"
    write_sample(path)
    events = analyse(path)
    kinds = {e["event_type"] for e in events}
    assert {"bruteforce", "alert", "file", "mining", "verdict", "stats"} <= kinds

    [campaign] = [
        e["bruteforce"]
        for e in events
        if e["event_type"] == "bruteforce" and e["bruteforce"]["phase"] == "final"
    ]
    assert (campaign["attacker"], campaign["victim"], campaign["service"]) == (ATTACKER, VICTIM, "redis")
    assert campaign["success"] is not None and campaign["failed"] == 12

    exploit_ids = {
        e["alert"]["signature_id"] for e in events if e["event_type"] == "alert" and e["src_ip"] == ATTACKER
    }
    assert len(exploit_ids) >= 3  # CONFIG SET dir, dbfilename, the cron line

    files = [e["file"] for e in events if e["event_type"] == "file"]
    assert {f["type"] for f in files} == {"shell", "elf"}
    assert all(f["yara"] for f in files) and all(
        e["src_ip"] == DROP_SITE for e in events if e["event_type"] == "file"
    )

    verdicts = {e["src_ip"]: e["verdict"] for e in events if e["event_type"] == "verdict"}
    assert set(verdicts) == {VICTIM, STRATUM_MINER, TLS_PEER}
    assert verdicts[VICTIM]["stages"] == [1, 2]
    assert {h["source"] for h in verdicts[VICTIM]["intel"]} == {"minerwatch-builtin", "carved-file"}
    assert verdicts[STRATUM_MINER]["rejected"] == 1
    peer = verdicts[TLS_PEER]  # encrypted: a suspect only because 10.1.1.21 confirmed the pool
    assert peer["activity"] == "contacted-confirmed-pool" and peer["stages"] == []
    [contact] = peer["confirmed_pools"]
    assert (contact["ip"], contact["ports_contacted"], contact["confirmed_by"]) == (
        BTC_POOL,
        [443],
        [STRATUM_MINER],
    )
