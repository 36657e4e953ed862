"""What ingest joins across log lines, as the packet analysis does across packets: DNS answers naming later
connections, the hosts that reached a confirmed pool's address (suspects), and Zeek's Address_Scan notices
joined with the failed attempts of conn.log (the hosts swept)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

from minerwatch.capture.sample import ATTACKER, BYSTANDER, STRATUM_MINER, TLS_PEER, VICTIM, write_sample
from minerwatch.ingest import IngestSession, ingest
from minerwatch.intel import IntelMatcher
from minerwatch.pipeline import Analysis

FIXTURES = Path(__file__).parents[1] / "fixtures"
EVE = FIXTURES / "eve/demo.eve.json"
TM1T = FIXTURES / "zeek/tm1t-json"
NOTICE_HEADER = FIXTURES / "zeek/ssh-bruteforcing.notice.log"


def run(paths: list[Path], matcher: IntelMatcher | None = None) -> tuple[list[dict], IngestSession]:
    events: list[dict] = []
    session = IngestSession([events.append], matcher or IntelMatcher.load())
    files, errors = ingest(session, paths)
    assert not errors and not any(f.problems.count for f in files)
    session.finish([f.as_dict() for f in files], errors)
    return events, session


def of_type(events: list[dict], kind: str) -> list[dict]:
    return [e[kind] for e in events if e["event_type"] == kind]


def resolved_alerts(events: list[dict]) -> list[tuple[str, str, str]]:
    return sorted(
        (e["src_ip"], e["dest_ip"], e["alert"]["where"])
        for e in events
        if e["event_type"] == "alert" and e["alert"].get("where", "").startswith("flow to address resolved")
    )


def test_the_demo_eve_names_connections_and_marks_suspects_as_the_packet_analysis(tmp_path):
    events, _ = run([EVE])
    capture = tmp_path / "demo.pcap"
    write_sample(capture)
    analysed: list[dict] = []
    analysis = Analysis([analysed.append])
    analysis.feed_file(capture)
    analysis.finish()
    # The miner resolved pool.supportxmr.com, then connected to the address: that flow is named.
    assert (
        resolved_alerts(events)
        == resolved_alerts(analysed)
        == [(VICTIM, "198.51.100.7", "flow to address resolved from pool.supportxmr.com")]
    )
    # TLS_PEER reached the Stratum pool's address without speaking Stratum that Suricata's rules saw.
    hosts = {h["host"]: h for h in of_type(events, "host")}
    expected = {h["host"]: h for h in of_type(analysed, "host")}
    assert {h: v["status"] for h, v in hosts.items()} == {h: v["status"] for h, v in expected.items()}
    assert hosts[TLS_PEER]["status"] == "suspicious" and hosts[TLS_PEER]["incident"] is None
    assert hosts[TLS_PEER]["reason"] == expected[TLS_PEER]["reason"]
    assert hosts[TLS_PEER]["reason"] == "contacted confirmed pool 198.51.100.9:3333"
    suspect = next(v for v in of_type(events, "verdict") if v["host"] == TLS_PEER)
    packets = next(v for v in of_type(analysed, "verdict") if v["host"] == TLS_PEER)
    assert suspect["activity"] == packets["activity"] == "contacted-confirmed-pool"
    contact = ("ip", "port", "same_port", "ports_contacted", "confirmed_by", "flows")
    (pool,) = suspect["confirmed_pools"]
    assert [pool[k] for k in contact] == [packets["confirmed_pools"][0][k] for k in contact]
    assert pool["confirmed_by"] == [STRATUM_MINER]
    assert BYSTANDER not in hosts


def test_a_zeek_dns_answer_names_the_connection_given_before_it():
    rows = [("test-feed", "domain", "testmyids.com", "", "", 80, None, None, None, "")]
    # conn.log first: ingest reads Zeek DNS logs first, whatever the order given.
    events, session = run([TM1T / "conn.log", TM1T / "dns.log"], IntelMatcher.from_rows(rows))
    assert resolved_alerts(events) == [
        ("192.168.4.76", "31.3.245.133", "flow to address resolved from testmyids.com")
    ]
    stats = events[-1]["stats"]
    assert [Path(f["path"]).name for f in stats["files"]] == ["dns.log", "conn.log"]
    assert stats["ingest"]["connections_named"] == 1
    # The answered TCP connection is a contact, as for packets (the UDP exchange with the resolver is not).
    clients = session.verdicts.peers.clients_of("31.3.245.133")
    assert list(clients) == ["192.168.4.76"] and clients["192.168.4.76"].ports == (80,)
    assert session.verdicts.peers.clients_of("192.168.4.1") == {}


def _epoch(hour: int, minute: int, second: int = 0) -> float:
    return datetime(2025, 11, 24, hour, minute, second, tzinfo=UTC).timestamp()


def address_scan(ts: float, scanner: str, port: int) -> dict:
    """A Scan::Address_Scan notice with the fields policy/misc/scan.zeek gives it (src, p, sub, msg)."""
    return {
        "ts": f"{ts:.6f}",
        "proto": "tcp",
        "note": "Scan::Address_Scan",
        "msg": f"{scanner} scanned at least 25 unique hosts on port {port}/tcp in 0m3s",
        "sub": "local" if scanner.startswith("10.") else "remote",
        "src": scanner,
        "p": str(port),
    }


def notice_log(path: Path, notices: list[dict]) -> Path:
    """notice.log with the header of a real one (the SSH fixture's), a line per notice. No Zeek baseline
    has a scan notice and Zeek could not be run here: these lines are made from scan.zeek's NOTICE call."""
    header = [line for line in NOTICE_HEADER.read_text().splitlines() if line.startswith("#")]
    fields = next(line for line in header if line.startswith("#fields")).split("\t")[1:]
    lines = [line for line in header if not line.startswith("#close")]
    lines += ["\t".join(notice.get(f, "-") for f in fields) for notice in notices]
    path.write_text("\n".join(lines) + "\n")
    return path


def conn(ts: float, client: str, server: str, port: int, state: str, history: str) -> str:
    replies = 0 if state == "S0" else 1
    return json.dumps(
        {
            "ts": ts,
            "uid": "C1",
            "id.orig_h": client,
            "id.orig_p": 40000,
            "id.resp_h": server,
            "id.resp_p": port,
            "proto": "tcp",
            "conn_state": state,
            "history": history,
            "resp_pkts": replies,
        }
    )


def test_address_scans_name_the_hosts_conn_log_shows_failing_and_move_laterally_from_a_victim(tmp_path):
    swept = [f"10.1.2.{n}" for n in range(1, 31)]
    lines = [
        conn(_epoch(16, 3, n), VICTIM, target, 6379, "S0" if n % 2 else "REJ", "S" if n % 2 else "Sr")
        for n, target in enumerate(swept)
    ]
    lines += [
        conn(_epoch(16, 3), VICTIM, "10.1.3.1", 6379, "SF", "ShADadFf"),  # a real session: no probe
        conn(_epoch(16, 3), VICTIM, "10.1.3.2", 22, "S0", "S"),  # another port
        conn(_epoch(17, 0), VICTIM, "10.1.3.3", 6379, "S0", "S"),  # an hour later: another sweep
        conn(_epoch(15, 59), ATTACKER, VICTIM, 22, "REJ", "Sr"),
        conn(_epoch(15, 59), ATTACKER, STRATUM_MINER, 22, "S0", "S"),
    ]
    (tmp_path / "conn.log").write_text("\n".join(lines) + "\n")
    notices = [
        address_scan(_epoch(16, 3, 30), VICTIM, 6379),
        address_scan(_epoch(15, 59, 30), ATTACKER, 22),
        address_scan(_epoch(16, 10), BYSTANDER, 445),  # no conn.log line: names nobody
    ]
    # The notices come first: the join is made at the end, whatever the order of the files.
    events, _ = run([notice_log(tmp_path / "notice.log", notices), EVE, tmp_path / "conn.log"])
    incidents = {i["host"]: i for i in of_type(events, "incident")}
    victim = {s["name"]: s for s in incidents[VICTIM]["stages"]}
    # The victim swept 25 of the 30 hosts it failed on (Zeek's threshold), in address order, not the session
    # with data, the other port or the attempt an hour later.
    lateral = victim["lateral_movement"]
    assert lateral["techniques"] == ["T1046"]
    targets = {o.rsplit(" against ", 1)[1] for o in lateral["observations"]}
    assert len(lateral["observations"]) == 25 and targets == set(swept[:25])
    assert incidents[VICTIM]["role"] == "victim-and-attacker"
    # The external scanner's sweep reached the victim: reconnaissance in its incident, by that attacker.
    assert victim["reconnaissance"]["techniques"] == ["T1595"]
    assert ATTACKER in incidents[VICTIM]["attackers"]
    notice_ids = {
        e["event_id"]
        for e in events
        if e["event_type"] == "alert" and "Address_Scan" in e["alert"]["signature"]
    }
    assert len(notice_ids) == 3 and set(victim["reconnaissance"]["event_ids"]) <= notice_ids
    stats = events[-1]["stats"]
    assert stats["ingest"]["address_scans"] == 3
    assert stats["correlation"]["sweeps_without_targets"] == 1
