"""Staged verdicts from behaviour observations: the window, stage 2, mid-session captures, pool probers."""

from __future__ import annotations

from minerwatch.correlate.observations import Behaviour, BehaviourObservation
from minerwatch.correlate.verdicts import VerdictCorrelator, VerdictPolicy

B = Behaviour


def obs(
    behaviour: Behaviour, ts: float, pool: str = "198.51.100.1", port: int = 3333, **kw
) -> BehaviourObservation:
    return BehaviourObservation(
        behaviour=behaviour,
        ts=ts,
        miner_ip="10.0.0.5",
        pool_ip=pool,
        pool_port=port,
        dialect=kw.pop("dialect", "stratum"),
        event_id=int(ts * 10) + 1,
        **kw,
    )


def verdicts(observations, **policy):
    c = VerdictCorrelator(VerdictPolicy(**policy))
    for o in observations:
        c.observe(o)
    return [body for _, _, body in c.verdicts()]


def test_registration_job_login_within_the_window_is_stage_1():
    [v] = verdicts([obs(B.REGISTRATION, 0), obs(B.LOGIN, 1), obs(B.JOB, 2)])
    assert v["stages"] == [1] and v["activity"] == "connected-to-pool" and v["confidence"] == 0.85


def test_the_same_behaviours_spread_beyond_the_window_are_not_stage_1():
    assert verdicts([obs(B.REGISTRATION, 0), obs(B.LOGIN, 1), obs(B.JOB, 500)], window=120) == []


def test_a_login_that_registers_counts_as_both():
    [v] = verdicts(
        [obs(B.LOGIN, 0, dialect="cryptonote", registers=True), obs(B.JOB, 0.1, dialect="cryptonote")]
    )
    assert v["stages"] == [1]


def test_shares_make_stage_2_with_counts_and_rate():
    shares = [obs(B.SUBMIT, 10 + 30 * i, outcome="accepted" if i != 2 else "rejected") for i in range(5)]
    [v] = verdicts([obs(B.REGISTRATION, 0), obs(B.LOGIN, 1), obs(B.JOB, 2), *shares])
    pool = v["pools"][0]
    assert v["stages"] == [1, 2] and v["activity"] == "mining" and v["confidence"] == 0.99
    assert (pool["submits"], pool["accepted"], pool["rejected"]) == (5, 4, 1)
    assert pool["submits_per_minute"] == 2.0
    assert (
        sorted(v["evidence"]["event_ids"]) == v["evidence"]["event_ids"]
        and len(v["evidence"]["event_ids"]) == 8
    )


def test_min_submits_is_respected():
    assert verdicts([obs(B.SUBMIT, 1)], min_submits=2) == []


def test_mid_session_capture_is_stage_2_at_lower_confidence():
    [v] = verdicts(
        [obs(B.JOB, 0), obs(B.DIFFICULTY, 0, difficulty=5000.0), obs(B.SUBMIT, 5, outcome="accepted")]
    )
    assert v["stages"] == [2] and v["confidence"] == 0.8
    [bare] = verdicts([obs(B.SUBMIT, 5)])
    assert bare["confidence"] == 0.6


def test_jobs_alone_are_no_verdict():
    assert verdicts([obs(B.JOB, 0), obs(B.DIFFICULTY, 1)]) == []


def test_a_host_probing_many_pools_is_one_verdict_saying_so():
    probes = [
        o
        for i in range(12)
        for o in (
            obs(B.REGISTRATION, i, f"198.51.100.{i}"),
            obs(B.LOGIN, i, f"198.51.100.{i}"),
            obs(B.JOB, i + 0.5, f"198.51.100.{i}"),
        )
    ]
    [v] = verdicts(probes)
    assert v["activity"] == "probing-pools" and len(v["pools"]) == 12 and v["submits"] == 0


def test_each_pool_endpoint_is_kept_apart():
    [v] = verdicts([obs(B.SUBMIT, 1, port=3333), obs(B.SUBMIT, 2, port=4444), obs(B.SUBMIT, 3, port=4444)])
    assert [(p["port"], p["submits"]) for p in v["pools"]] == [(3333, 1), (4444, 2)]


def hit(ts: float, peer: str | None = "198.51.100.1", kind: str = "ip", confidence: float = 0.9):
    from minerwatch.correlate.observations import IntelObservation

    return IntelObservation(
        ts=ts,
        host="10.0.0.5",
        peer_ip=peer,
        indicator_type=kind,
        indicator=peer or "x",
        source="feed",
        family="fam",
        confidence=confidence,
        event_id=1000 + int(ts),
    )


def test_intel_alone_is_a_weaker_suspect_verdict():
    c = VerdictCorrelator()
    c.observe_intel(hit(5, confidence=0.8))
    [(_, host, v)] = c.verdicts()
    assert host == "10.0.0.5" and v["stages"] == [] and v["pools"] == []
    assert v["activity"] == "contacted-mining-infrastructure" and v["confidence"] == 0.4
    assert v["evidence"]["event_ids"] == [1005]


def test_intel_about_the_pool_strengthens_the_behaviour_verdict():
    plain = verdicts([obs(B.SUBMIT, 1)])[0]
    c = VerdictCorrelator()
    c.observe(obs(B.SUBMIT, 1))
    c.observe_intel(hit(2))
    [(_, _, v)] = c.verdicts()
    assert v["confidence"] == round(plain["confidence"] + 0.1, 2)
    [pool] = v["pools"]
    assert pool["pool_candidate"] is False and pool["intel"][0]["indicator"] == "198.51.100.1"
    assert 1002 in v["evidence"]["event_ids"]


def test_intel_about_another_address_does_not_corroborate_and_the_pool_is_a_candidate():
    c = VerdictCorrelator()
    c.observe(obs(B.SUBMIT, 1))
    c.observe_intel(hit(2, peer="192.0.2.99"))
    [(_, _, v)] = c.verdicts()
    assert v["confidence"] == 0.6 and v["pools"][0]["pool_candidate"] is True
    assert [(h, p.ip, known) for h, p, known in c.staged_pools()] == [("10.0.0.5", "198.51.100.1", False)]


def test_a_carved_wallet_corroborates_only_the_host_mining_for_it():
    from minerwatch.correlate.observations import IntelObservation

    def carved(wallet: str) -> IntelObservation:
        return IntelObservation(
            ts=3,
            host="10.0.0.5",
            peer_ip=None,
            indicator_type="wallet",
            indicator=wallet,
            source="carved-file",
            family="",
            confidence=0.6,
            event_id=77,
        )

    for wallet, expected in (("4WALLET", 0.7), ("4OTHER", 0.6)):
        c = VerdictCorrelator()
        c.observe(obs(B.SUBMIT, 1, login="4WALLET.rig1"))
        c.observe_intel(carved(wallet))
        [(_, _, v)] = c.verdicts()
        assert v["confidence"] == expected, wallet
