"""Login attempts in, `bruteforce` events out: one campaign per (attacker, victim, service).

A campaign raises its first event (phase "threshold") when `threshold` attempts that did not succeed fall
within `window` seconds of capture time, and its final event (phase "final", the totals and whether a login
finally succeeded) when the input ends. Both are driven by capture time and input order only, so the
output is deterministic. Memory is bounded: at most `max_campaigns` campaigns (the least recently active
one is closed first, with its final event if it had crossed the threshold), bounded lists in each, and one
budget of `max_distinct_total` remembered usernames/passwords (as hashes) shared by all campaigns. A
success with no failure before it opens no campaign: ordinary logins cost nothing here.
"""

from __future__ import annotations

from collections import OrderedDict, deque
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

from minerwatch.correlate.observations import StageObservation
from minerwatch.correlate.stages import Stage, Technique
from minerwatch.detectors.windows import WindowTable
from minerwatch.events import SECRET_MASK, Event, EventFactory, iso_timestamp

# How each service's refusals are known, and how far that can be trusted: a server that says "access
# denied" is read directly; SSH/RDP sessions and HTTP form pages are judged by heuristics.
JUDGED_BY = {"ssh": "session-shape", "rdp": "session-shape", "http-form": "response-heuristics"}
CONFIDENCE = {"server-reply": 0.9, "session-shape": 0.7, "response-heuristics": 0.7}
UNSURE_PENALTY = 0.2  # most attempts had no verdict at all (e.g. RDP without CredSSP)
ATTEMPT_LEVEL = 0.5  # how bad a campaign is for the kill chain: guessing ...
SUCCESS_LEVEL = 0.9  # ... and a guess that worked
SPRAY_LEVEL = 0.4  # a few guesses on each of many hosts
SPRAY_CONFIDENCE = 0.7
SprayKey = tuple[str, str]  # attacker, service
Key = tuple[str, str, str]  # attacker, victim, service
FAILED, SUCCEEDED, UNKNOWN = "failed", "succeeded", "unknown"


@dataclass(frozen=True)
class BruteForceConfig:
    threshold: int = 10  # attempts not known to succeed ...
    window: float = 300.0  # ... within this many seconds raise the campaign
    max_listed: int = 20  # usernames / passwords / details listed in an event
    max_distinct: int = 4096  # distinct usernames / passwords counted per campaign ...
    max_distinct_total: int = 1_000_000  # ... and over all campaigns at once (about 60 MB at most)
    max_campaigns: int = 20_000
    spray_victims: int = 10  # distinct victims one attacker failed to log in to on one service, within window


@dataclass(frozen=True, slots=True)
class Attempt:
    attacker: str
    victim: str
    port: int
    service: str
    ts: float
    outcome: str  # FAILED, SUCCEEDED or UNKNOWN
    flow_id: int
    username: str | None = None
    password: str | None = None
    details: tuple[tuple[str, str], ...] = ()  # e.g. ("client_software", "libssh_0.9.6"), ("url", "/login")


class Budget:
    """How many more distinct values all campaigns together may remember."""

    def __init__(self, total: int) -> None:
        self.left = total


class Distinct:
    """Distinct values: the first `listed` kept as text, all counted (as hashes) up to `limit` and while the
    shared budget lasts, then `capped`."""

    def __init__(self, listed: int, limit: int, budget: Budget) -> None:
        self.listed = listed
        self.limit = limit
        self.budget = budget
        self.first: list[str] = []
        self.seen: set[int] = set()
        self.capped = False

    def add(self, value: str | None) -> None:
        if value is None:
            return
        key = hash(value)
        if key in self.seen:
            return
        if len(self.seen) >= self.limit or self.budget.left <= 0:
            self.capped = True
            return
        self.budget.left -= 1
        self.seen.add(key)
        if len(self.first) < self.listed:
            self.first.append(value)

    def release(self) -> None:
        self.budget.left += len(self.seen)
        self.seen.clear()


@dataclass
class Campaign:
    attacker: str
    victim: str
    service: str
    first_ts: float
    config: BruteForceConfig
    budget: Budget
    last_ts: float = 0.0
    outcomes: dict[str, int] = field(default_factory=lambda: {FAILED: 0, SUCCEEDED: 0, UNKNOWN: 0})
    ports: set[int] = field(default_factory=set)
    recent: deque[float] = field(default_factory=deque)  # times of the last attempts that did not succeed
    # Credentials of the refused attempts (up to two): one pair retried over and over is a misconfigured
    # client (a miner with a wrong pool password, an app with a stale Redis password), not guessing.
    refused_credentials: set[tuple[str | None, str]] = field(default_factory=set)
    blind: bool = False  # some refused attempt hid its password: guessing cannot be ruled out
    alerted: bool = False
    success: dict[str, Any] | None = None
    success_ts: float = 0.0  # when the first success after a failure happened
    flow_ids: list[int] = field(default_factory=list)
    usernames: Distinct = field(init=False)
    passwords: Distinct = field(init=False)
    details: dict[str, Distinct] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.usernames = self.distinct(self.config.max_distinct)
        self.passwords = self.distinct(self.config.max_distinct)
        self.recent = deque(maxlen=self.config.threshold)

    def distinct(self, limit: int) -> Distinct:
        return Distinct(self.config.max_listed, limit, self.budget)

    def release(self) -> None:
        """Give the campaign's share of the distinct-value budget back."""
        for values in (self.usernames, self.passwords, *self.details.values()):
            values.release()

    def add(self, attempt: Attempt) -> bool:
        """Count one attempt; True when this attempt makes the campaign cross the threshold."""
        self.first_ts = min(self.first_ts, attempt.ts)
        self.last_ts = max(self.last_ts, attempt.ts)
        self.outcomes[attempt.outcome] += 1
        if len(self.ports) < self.config.max_listed:
            self.ports.add(attempt.port)
        if len(self.flow_ids) < self.config.max_listed and attempt.flow_id not in self.flow_ids:
            self.flow_ids.append(attempt.flow_id)
        self.usernames.add(attempt.username)
        self.passwords.add(attempt.password)
        for name, value in attempt.details:
            self.details.setdefault(name, self.distinct(self.config.max_listed)).add(value)
        if attempt.outcome == SUCCEEDED:
            if self.success is None:  # a campaign opens with a failure: this success came after one
                self.success = {
                    "username": attempt.username,
                    "timestamp": iso_timestamp(attempt.ts),
                    "flow_id": attempt.flow_id,
                }
                self.success_ts = attempt.ts
            return False
        self.recent.append(attempt.ts)
        if attempt.password is None:
            self.blind = True
        elif len(self.refused_credentials) < 2:
            self.refused_credentials.add((attempt.username, attempt.password))
        crossed = (
            not self.alerted
            and (self.blind or len(self.refused_credentials) > 1)
            and len(self.recent) == self.config.threshold
            and max(self.recent) - min(self.recent) <= self.config.window
        )
        self.alerted = self.alerted or crossed
        return crossed

    @property
    def key(self) -> Key:
        return (self.attacker, self.victim, self.service)

    @property
    def attempts(self) -> int:
        return sum(self.outcomes.values())

    def confidence(self) -> float:
        """How sure the outcomes are: by how they were judged, less when most are unknown."""
        confidence = CONFIDENCE[JUDGED_BY.get(self.service, "server-reply")]
        if self.outcomes[UNKNOWN] > self.outcomes[FAILED]:
            confidence -= UNSURE_PENALTY
        return round(confidence, 2)

    def observations(self, event_id: int) -> list[StageObservation]:
        """The campaign as kill-chain steps on its victim: the refused guesses are an attempted attack
        (a campaign opens with a failure), and a login that succeeded is an exploitation as well."""
        attempt = StageObservation(
            ts=self.last_ts,
            since=self.first_ts,
            host=self.victim,
            peer=self.attacker,
            stage=Stage.ATTEMPTED_ATTACK,
            technique=Technique.BRUTE_FORCE,
            level=ATTEMPT_LEVEL,
            confidence=self.confidence(),
            event_id=event_id,
            label=f"{self.service} brute force",
            service=self.service,
        )
        if not self.outcomes[SUCCEEDED]:
            return [attempt]
        success = replace(
            attempt,
            ts=self.success_ts,
            since=None,
            stage=Stage.EXPLOITATION,
            level=SUCCESS_LEVEL,
            label=f"{self.service} brute force (a login succeeded)",
        )
        return [attempt, success]

    def body(self, phase: str, connections: int, show_secrets: bool) -> dict[str, Any]:
        duration = self.last_ts - self.first_ts
        judged_by = JUDGED_BY.get(self.service, "server-reply")
        body: dict[str, Any] = {
            "phase": phase,
            "service": self.service,
            "attacker": self.attacker,
            "victim": self.victim,
            "dest_ports": sorted(self.ports),
            "start": iso_timestamp(self.first_ts),
            "end": iso_timestamp(self.last_ts),
            "duration": round(duration, 6),
            "attempts": self.attempts,
            "failed": self.outcomes[FAILED],
            "succeeded": self.outcomes[SUCCEEDED],
            "unknown": self.outcomes[UNKNOWN],
            "connections": connections,
            "rate_per_minute": round(self.attempts * 60 / duration, 3) if duration > 0 else None,
            "usernames": list(self.usernames.first),
            "usernames_count": len(self.usernames.seen),
            "usernames_capped": self.usernames.capped,
            "success": dict(self.success) if self.success else None,
            "judged_by": judged_by,
            "confidence": self.confidence(),
            "flow_ids": list(self.flow_ids),
        }
        if self.passwords.seen:
            passwords = self.passwords.first
            body["passwords"] = list(passwords) if show_secrets else [SECRET_MASK] * len(passwords)
            body["passwords_count"] = len(self.passwords.seen)
            body["passwords_masked"] = not show_secrets
        body.update({key: list(values.first) for key, values in sorted(self.details.items())})
        return body


@dataclass
class Spray:
    """Failed logins of one attacker on one service across victims, within one window: the distinct victims
    in a set up to the threshold, then (once reported) attempts alone are counted."""

    start: float
    last: float
    victims: set[str] | None = field(default_factory=set)
    attempts: int = 0

    def body(self, key: SprayKey, window: float, listed: list[str]) -> dict[str, Any]:
        attacker, service = key
        return {
            "phase": "spray",
            "service": service,
            "attacker": attacker,
            "victims": listed,
            "victims_count": len(listed),
            "start": iso_timestamp(self.start),
            "end": iso_timestamp(self.last),
            "duration": round(self.last - self.start, 6),
            "window": window,
            "attempts": self.attempts,
        }


class CampaignTracker:
    def __init__(
        self,
        events: EventFactory,
        emit: Callable[[Event], None],
        config: BruteForceConfig,
        show_secrets: bool = False,
        observe: Callable[[StageObservation], None] | None = None,
    ) -> None:
        self.events = events
        self.emit = emit
        self.observe = observe
        self.config = config
        self.show_secrets = show_secrets
        self.campaigns: OrderedDict[Key, Campaign] = OrderedDict()
        self.connections: OrderedDict[Key, int] = OrderedDict()  # TCP connections to the service port
        self.budget = Budget(config.max_distinct_total)
        self.stats = {"attempts": 0, "campaigns_raised": 0, "campaigns_evicted": 0, "encrypted_logins": 0}
        self.stats |= {"sprays": 0, "sprays_evicted": 0}
        self.sprays: WindowTable[SprayKey, Spray] = WindowTable(
            config.window, config.max_campaigns, lambda ts: Spray(ts, ts), self._spray_forgotten
        )

    def attempt(self, attempt: Attempt) -> None:
        self.stats["attempts"] += 1
        if attempt.outcome == FAILED:  # refused for sure: an unknown outcome may be a working client
            self._spray(attempt)
        key = (attempt.attacker, attempt.victim, attempt.service)
        campaign = self.campaigns.get(key)
        if campaign is None:
            if attempt.outcome == SUCCEEDED:
                return
            if len(self.campaigns) >= self.config.max_campaigns:
                _, oldest = self.campaigns.popitem(last=False)
                self.stats["campaigns_evicted"] += 1
                self._close(oldest)
            campaign = Campaign(*key, attempt.ts, self.config, self.budget, attempt.ts)
            self.campaigns[key] = campaign
        else:
            self.campaigns.move_to_end(key)
        if campaign.add(attempt):
            self.stats["campaigns_raised"] += 1
            self._event(campaign, "threshold", attempt.ts)

    def encrypted_login(self) -> None:
        """A login that went into TLS or GSSAPI (PostgreSQL 'S'/'G', MySQL SSL): not judged, counted."""
        self.stats["encrypted_logins"] += 1

    def _spray_forgotten(self) -> None:
        self.stats["sprays_evicted"] += 1

    def _spray(self, attempt: Attempt) -> None:
        """Password spraying: a few guesses on each of many hosts, which no per-victim campaign sees."""
        key = (attempt.attacker, attempt.service)
        spray = self.sprays.current(key, attempt.ts)
        spray.last = max(spray.last, attempt.ts)
        spray.attempts += 1
        if spray.victims is None:
            return
        spray.victims.add(attempt.victim)
        if len(spray.victims) >= self.config.spray_victims:
            victims = sorted(spray.victims)
            spray.victims = None
            self.stats["sprays"] += 1
            event = self.events.make(
                "bruteforce", attempt.ts, spray.body(key, self.config.window, victims), host=key[0]
            )
            event.update(dest_port=attempt.port, proto="TCP")
            self.emit(event)
            if self.observe is not None:
                for victim in victims:
                    self.observe(
                        StageObservation(
                            ts=spray.start,
                            host=victim,
                            peer=key[0],
                            stage=Stage.ATTEMPTED_ATTACK,
                            technique=Technique.PASSWORD_SPRAYING,
                            level=SPRAY_LEVEL,
                            confidence=SPRAY_CONFIDENCE,
                            event_id=event["event_id"],
                            label=f"{key[1]} password spraying",
                            service=key[1],
                        )
                    )

    def connection(self, key: Key) -> None:
        """One more TCP connection from attacker to victim's service port, whatever it carried."""
        self.connections[key] = self.connections.pop(key, 0) + 1
        if len(self.connections) > self.config.max_campaigns:
            self.connections.popitem(last=False)

    def finish(self) -> None:
        """The final event of every raised campaign, oldest first (ties broken by key: deterministic)."""
        for campaign in sorted(
            self.campaigns.values(), key=lambda c: (c.first_ts, c.attacker, c.victim, c.service)
        ):
            self._close(campaign)
        self.campaigns.clear()

    def _close(self, campaign: Campaign) -> None:
        if campaign.alerted:
            self._event(campaign, "final", campaign.last_ts)
        campaign.release()

    def _event(self, campaign: Campaign, phase: str, ts: float) -> None:
        event = self.events.make(
            "bruteforce",
            ts,
            campaign.body(phase, self.connections.get(campaign.key, 0), self.show_secrets),
            host=campaign.attacker,
        )
        event.update(dest_ip=campaign.victim, dest_port=min(campaign.ports, default=0), proto="TCP")
        self.emit(event)
        if self.observe is not None:
            for observation in campaign.observations(event["event_id"]):
                self.observe(observation)
