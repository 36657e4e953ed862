"""The campaign tracker alone: threshold and window, bounded state, eviction and the order of final events."""

from __future__ import annotations

from minerwatch.detectors.bruteforce.campaign import (
    FAILED,
    SUCCEEDED,
    UNKNOWN,
    Attempt,
    BruteForceConfig,
    CampaignTracker,
)
from minerwatch.events import SECRET_MASK, Event, EventFactory


def tracker(**config) -> tuple[CampaignTracker, list[Event]]:
    events: list[Event] = []
    return CampaignTracker(EventFactory(), events.append, BruteForceConfig(**config)), events


def attempt(ts: float, outcome: str = FAILED, attacker: str = "198.51.100.7", **kw) -> Attempt:
    user, password = kw.pop("user", "root"), kw.pop("password", f"p{ts}")
    return Attempt(attacker, "10.0.0.5", 22, "ssh", ts, outcome, int(ts), user, password, **kw)


def test_threshold_counts_refusals_and_unknowns_within_the_window() -> None:
    t, events = tracker(threshold=3, window=10.0)
    for ts, outcome in [(0, FAILED), (5, SUCCEEDED), (20, FAILED), (25, UNKNOWN)]:
        t.attempt(attempt(ts, outcome))
    assert events == []  # 0, 20 and 25 span more than the window
    t.attempt(attempt(28))
    assert [e["bruteforce"]["phase"] for e in events] == ["threshold"]
    assert events[0]["timestamp"].endswith("00:00:28.000000Z")


def test_attempts_judged_out_of_order_still_use_their_own_times() -> None:
    t, events = tracker(threshold=3, window=10.0)
    for ts in (9, 1, 5):
        t.attempt(attempt(ts))
    body = events[0]["bruteforce"]
    assert body["start"].endswith("00:00:01.000000Z") and body["end"].endswith("00:00:09.000000Z")
    assert body["duration"] == 8 and body["rate_per_minute"] == 22.5


def test_success_is_reported_only_after_a_refusal() -> None:
    t, events = tracker(threshold=2)
    t.attempt(attempt(0, SUCCEEDED, user="legit"))  # an ordinary login: opens no campaign
    assert not t.campaigns
    t.attempt(attempt(1))
    t.attempt(attempt(2))
    t.attempt(attempt(3, SUCCEEDED, user="admin"))
    t.finish()
    final = events[-1]["bruteforce"]
    assert final["success"] == {"username": "admin", "timestamp": "1970-01-01T00:00:03.000000Z", "flow_id": 3}
    assert final["succeeded"] == 1 and final["passwords"] == [SECRET_MASK] * 3 and final["passwords_masked"]


def test_distinct_values_share_one_budget_given_back_when_a_campaign_closes() -> None:
    t, events = tracker(threshold=2, max_campaigns=1, max_distinct_total=8)
    for i in range(10):
        t.attempt(attempt(i, user=f"u{i}", attacker="192.0.2.1"))
    assert t.budget.left == 0
    t.attempt(attempt(20, attacker="192.0.2.2"))  # evicts the first campaign, which gives its share back
    final = events[1]["bruteforce"]
    assert final["phase"] == "final" and final["usernames_capped"]
    assert final["usernames_count"] + final["passwords_count"] == 8
    assert t.budget.left == 8 - 2


def test_lists_are_bounded_and_counts_capped() -> None:
    t, events = tracker(threshold=5, max_listed=3, max_distinct=10)
    for i in range(50):
        t.attempt(attempt(i / 10, user=f"user{i}"))
    t.finish()
    final = events[-1]["bruteforce"]
    assert final["usernames"] == ["user0", "user1", "user2"]
    assert final["usernames_count"] == 10 and final["usernames_capped"]
    assert len(final["flow_ids"]) == 3 and final["attempts"] == 50


def test_eviction_closes_the_oldest_campaign_with_its_final_event() -> None:
    t, events = tracker(threshold=2, max_campaigns=2)
    for ts in (0, 1):
        t.attempt(attempt(ts, attacker="192.0.2.1"))
    t.attempt(attempt(2, attacker="192.0.2.2"))
    t.attempt(attempt(3, attacker="192.0.2.3"))  # evicts 192.0.2.1
    assert [(e["src_ip"], e["bruteforce"]["phase"]) for e in events] == [
        ("192.0.2.1", "threshold"),
        ("192.0.2.1", "final"),
    ]
    assert t.stats["campaigns_evicted"] == 1 and len(t.campaigns) == 2


def test_final_events_come_oldest_campaign_first_with_connection_counts() -> None:
    t, events = tracker(threshold=1)
    t.attempt(attempt(50, attacker="192.0.2.9", password=None))
    t.attempt(attempt(10, attacker="192.0.2.8", password=None))
    for _ in range(3):
        t.connection(("192.0.2.8", "10.0.0.5", "ssh"))
    t.finish()
    finals = [e for e in events if e["bruteforce"]["phase"] == "final"]
    assert [e["src_ip"] for e in finals] == ["192.0.2.8", "192.0.2.9"]
    assert [e["bruteforce"]["connections"] for e in finals] == [3, 0]
    assert finals[0]["dest_ip"] == "10.0.0.5" and finals[0]["dest_port"] == 22 and finals[0]["proto"] == "TCP"


def test_one_refused_credential_retried_never_raises() -> None:
    t, events = tracker(threshold=3)
    for ts in range(20):
        t.attempt(attempt(ts, password="stale"))
    t.attempt(attempt(30, password="other"))
    assert [e["bruteforce"]["attempts"] for e in events] == [21]


def test_events_are_snapshots() -> None:
    t, events = tracker(threshold=2)
    for ts in range(5):
        t.attempt(attempt(ts, details=(("client_software", f"v{ts}"),)))
    assert events[0]["bruteforce"]["flow_ids"] == [0, 1]
    assert events[0]["bruteforce"]["client_software"] == ["v0", "v1"]


def spray_attempt(n: int, ts: float, outcome: str = FAILED, attacker: str = "198.51.100.7") -> Attempt:
    return Attempt(attacker, f"10.0.1.{n}", 22, "ssh", ts, outcome, n + 1, "root", "123456")


def test_a_few_guesses_on_each_of_many_hosts_is_password_spraying() -> None:
    steps: list = []
    t = CampaignTracker(
        EventFactory(), (events := []).append, BruteForceConfig(spray_victims=4), False, steps.append
    )
    for n in range(6):
        t.attempt(spray_attempt(n, 100.0 + n))
    sprays = [e for e in events if e["bruteforce"]["phase"] == "spray"]
    assert len(sprays) == 1 and [e["bruteforce"]["phase"] for e in events] == [
        "spray"
    ]  # no per-host campaign
    body = sprays[0]["bruteforce"]
    assert body["victims"] == [f"10.0.1.{n}" for n in range(4)] and body["attacker"] == "198.51.100.7"
    assert sprays[0]["src_ip"] == "198.51.100.7" and t.stats["sprays"] == 1
    assert [(s.host, s.technique, s.stage) for s in steps] == [
        (f"10.0.1.{n}", "T1110.003", "attempted_attack") for n in range(4)
    ]


def test_spraying_needs_refusals_within_the_window() -> None:
    t, events = tracker(spray_victims=4, window=10.0)
    for n in range(4):
        t.attempt(spray_attempt(n, 100.0 + n * 6))  # the fourth host falls outside the first's window
    for n in range(4):
        t.attempt(
            spray_attempt(10 + n, 200.0 + n, outcome=UNKNOWN)
        )  # unknown outcomes may be working clients
    assert events == []


def test_spray_state_is_bounded_and_evictions_counted() -> None:
    t, events = tracker(spray_victims=3, max_campaigns=5)
    for n in range(20):
        t.attempt(spray_attempt(1, float(n), attacker=f"192.0.2.{n}"))
    assert len(t.sprays) == 5 and t.stats["sprays_evicted"] == 15 and events == []


def test_a_campaign_is_an_attempt_and_once_a_guess_worked_an_exploitation_too() -> None:
    """The refused guesses are the attempted attack (from the first guess to the last attempt); the login
    that worked is the exploitation, at its own time, not at the time the campaign was reported."""
    from minerwatch.correlate.incidents import IncidentCorrelator

    steps: list = []
    t = CampaignTracker(
        EventFactory(), (events := []).append, BruteForceConfig(threshold=3), False, steps.append
    )
    for ts in (10, 11, 12):
        t.attempt(attempt(ts))
    t.attempt(attempt(13, SUCCEEDED))
    t.attempt(attempt(20, SUCCEEDED))
    t.finish()
    threshold, final = (e["event_id"] for e in events)
    assert [(s.stage, s.ts, s.since, s.event_id) for s in steps] == [
        ("attempted_attack", 12, 10, threshold),
        ("attempted_attack", 20, 10, final),
        ("exploitation", 13, None, final),
    ]
    correlator = IncidentCorrelator()
    for step in steps:
        correlator.observe(step)
    kept = {s.stage: (s.first_seen, s.last_seen) for s in correlator.hosts["10.0.0.5"].values()}
    assert kept == {"attempted_attack": (10, 20), "exploitation": (13, 13)}
