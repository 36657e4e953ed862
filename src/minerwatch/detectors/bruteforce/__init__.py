"""Password brute force: repeated failed logins from one attacker to one service of one victim.

Login protocols are read on their service ports only (`BruteForceSettings.ports`): a flow there is handed
to the protocol's session analyser (logins/<service>.py) if its first bytes look like that protocol; HTTP
logins come from the shared HTTP parse (http.py). Every attempt goes to the campaign tracker
(campaign.py), which raises the `bruteforce` events. A flow-end observer counts every TCP connection to a
watched port, with or without payload, at the cost of one dict lookup per ended flow.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from minerwatch.decode import Flow
from minerwatch.detectors.base import Detector, DetectorContext, DetectorParts
from minerwatch.detectors.bruteforce.campaign import BruteForceConfig, CampaignTracker
from minerwatch.detectors.bruteforce.http import HttpLogins
from minerwatch.detectors.bruteforce.logins import PROTOCOLS
from minerwatch.detectors.bruteforce.sessions import LoginProtocol, LoginSession
from minerwatch.errors import UsageError
from minerwatch.flows.analyzers import FlowEndObserver, StreamFactory
from minerwatch.flows.info import FlowInfo, ip_text
from minerwatch.flows.opening import KINDS, Opening, opening

__all__ = ["DEFAULT_PORTS", "DETECTOR", "LOGINS", "BruteForceConfig", "BruteForceSettings"]

# A login session opens with its own protocol: TLS on a watched port hides the login, and HTTP logins are
# read from the shared HTTP parse.
SESSION_OPENINGS = Opening.SSH | Opening.OTHER
SESSION_KINDS = frozenset(kind for kind in KINDS if kind & SESSION_OPENINGS)  # `in` it costs no enum code

# Every login protocol by service (logins/__init__.py registers them), and the ports watched by default.
LOGINS: Mapping[str, LoginProtocol] = {protocol.service: protocol for protocol in PROTOCOLS}
DEFAULT_PORTS: Mapping[int, str] = {port: p.service for p in PROTOCOLS for port in p.ports}


@dataclass(frozen=True)
class BruteForceSettings:
    """The detector's options: thresholds and the watched ports."""

    campaigns: BruteForceConfig = field(default_factory=BruteForceConfig)
    ports: Mapping[int, str] = field(default_factory=lambda: dict(DEFAULT_PORTS))


def session_factory(ports: Mapping[int, str], tracker: CampaignTracker, depth: int) -> StreamFactory:
    """A login session for flows to a watched port that speak its protocol."""

    def make(info: FlowInfo, first: bytes, to_server: bool) -> LoginSession | None:
        service = ports.get(info.server_port)
        if service is None or opening(first) not in SESSION_KINDS:
            return None
        protocol = LOGINS[service]
        if not protocol.opens(first, to_server):
            return None
        session = protocol.session(tracker.attempt, info, depth)
        session.encrypted_login = tracker.encrypted_login
        return session

    return StreamFactory(make, SESSION_OPENINGS, frozenset(ports))


def connection_counter(ports: Mapping[int, str], tracker: CampaignTracker) -> FlowEndObserver:
    """Every TCP connection to a watched port, whatever it carried."""

    def observe(flow: Flow, reason: str) -> None:
        if flow.proto == 6:
            service = ports[flow.server_port]
            tracker.connection((ip_text(flow.client_addr), ip_text(flow.server_addr), service))

    return FlowEndObserver(observe, frozenset(ports))


def setup(ctx: DetectorContext, settings: BruteForceSettings) -> DetectorParts:
    unknown = sorted(set(settings.ports.values()) - set(LOGINS))
    if unknown:
        known = ", ".join(LOGINS)
        raise UsageError(f"brute force: no login protocol named {', '.join(unknown)} (known: {known})")
    tracker = ctx.host_state(  # campaigns and spraying span an attacker's flows
        "bruteforce",
        lambda: CampaignTracker(
            ctx.events, ctx.emit, settings.campaigns, ctx.options.show_secrets, ctx.incidents.observe
        ),
    )
    return DetectorParts(
        stream_factories=[session_factory(settings.ports, tracker, ctx.options.stream_depth)],
        flow_end_observers=[connection_counter(settings.ports, tracker)],
        http_consumers=[HttpLogins(tracker.attempt)],
        finish=tracker.finish,
        stats=lambda: dict(tracker.stats),
    )


DETECTOR = Detector("bruteforce", BruteForceSettings, setup)
