"""Corpus rows for mining over HTTP (../shared/corpus/INDEX.md): Ethereum getWork with the wallet in the URL,
cgminer's getwork/getblocktemplate with X-Stratum redirects, and benign JSON-RPC over HTTP."""

from __future__ import annotations

ETH_WALLET = "0x4b999ba68e017854ffb6b494bc2ddb9ef02bd745"


def verdicts(events: list[dict]) -> dict[str, dict]:
    return {e["src_ip"]: e["verdict"] for e in events if e["event_type"] == "verdict"}


def mining(events: list[dict], **match) -> list[dict]:
    found = [e["mining"] for e in events if e["event_type"] == "mining"]
    return [m for m in found if all(m.get(k) == v for k, v in match.items())]


def test_ethereum_getwork_over_http_with_the_wallet_in_the_url(corpus, analyse):
    events = analyse(corpus / "DI-cryptominingdetection/pool.eth.pp.ua.pcapng")
    [(host, verdict)] = verdicts(events).items()
    assert host == "147.229.13.222" and verdict["stages"] == [1] and verdict["transports"] == ["http"]
    assert verdict["wallets"][0]["address"] == ETH_WALLET and verdict["coins"] == ["ETH"]
    [pool] = verdict["pools"]
    assert (pool["ip"], pool["port"], pool["dialect"]) == ("88.198.15.41", 80, "eth-getwork")
    assert pool["pool_hosts"] == ["pool.eth.pp.ua"] and pool["jobs"] > 10
    [login] = mining(events, behaviour="login")
    assert login["worker"] == "OptionalRigName" and login["method"] == "url"
    assert len(mining(events, behaviour="hashrate", transport="http")) > 10


def test_cgminer_getwork_and_getblocktemplate_are_recognised(corpus, analyse):
    events = analyse(corpus / "DI-cryptominingdetection/cgminer.g0.pcapng")
    assert set(verdicts(events)) == {"192.168.1.100"}
    verdict = verdicts(events)["192.168.1.100"]
    assert {"getwork", "getblocktemplate", "stratum"} <= set(verdict["dialects"])
    assert verdict["transports"] == ["http", "tcp"] and verdict["activity"] == "probing-pools"
    http_logins = mining(events, behaviour="login", transport="http")
    assert {m["dialect"] for m in http_logins} == {"getwork", "getblocktemplate"}
    assert all(m["login"] == "Bitcoin" and m["agent_info"]["family"] == "cgminer" for m in http_logins)
    assert http_logins[0]["extensions"] == ["longpoll", "midstate", "rollntime", "submitold"]
    redirects = {m["target"] for m in mining(events, behaviour="redirect")}
    assert "stratum+tcp://litecoinpool.org:3333" in redirects and len(redirects) >= 3
    assert mining(events, behaviour="job", transport="http", job_shape="getwork")


def test_cgminer_stratum_probes_stay_one_verdict(corpus, analyse):
    for name in ("cgminer.s0.pcapng", "cgminer.s2.pcapng"):
        found = verdicts(analyse(corpus / "DI-cryptominingdetection" / name))
        assert set(found) == {"192.168.1.100"} and found["192.168.1.100"]["stages"] == [1]


def test_benign_json_rpc_over_http_yields_nothing(corpus, analyse):
    for name in ("nDPI/jsonrpc.pcap", "peafowl/ethereum-js-http.pcap"):
        events = analyse(corpus / name)
        assert not [e for e in events if e["event_type"] in ("verdict", "mining", "alert")]
        assert events[-1]["stats"]["mining_http"]["flows"] == 0
