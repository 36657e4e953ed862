"""Threat-intelligence matching: known pool, C&C and wallet indicators seen anywhere in the traffic.

Where indicators are looked for: both addresses of every flow (at its first packet), names in DNS questions
and answers (over UDP and TCP), TLS SNI and JA3/JA4, the HTTP Host header, and what other detectors read,
handed over as typed Sightings (detectors/sightings.py; their events are never parsed): miner logins
(wallets), agents, pool URLs and carved files' hashes. DNS answers are remembered so that a later
connection to a bare IP is attributed to the name that resolved to it.

Each match is one `alert` event (repeats of the same indicator for the same host and place are counted,
not re-emitted). Weak hits (pool ports, miner TLS fingerprints tagged `weak-evidence`) raise no alert: they
are handed to the verdict correlator by flow, for the encrypted detector's evidence fusion.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from minerwatch.correlate.observations import IntelObservation
from minerwatch.decode import Flow
from minerwatch.detectors.base import Detector, DetectorContext, DetectorParts, NoOptions
from minerwatch.detectors.sightings import Sighting
from minerwatch.events import Event, event_time
from minerwatch.flows.analyzers import DatagramFactory, StreamFactory
from minerwatch.flows.http import HttpConsumer, HttpMessage
from minerwatch.flows.http_interest import HttpInterest
from minerwatch.flows.info import FlowInfo
from minerwatch.flows.opening import NOT_HTTP, Opening, opening
from minerwatch.intel import DnsCache, Hit, IntelMatcher
from minerwatch.output.secrets import mask_login
from minerwatch.protocols.dns import TYPE_CNAME, DnsMessage, DnsParseError, DnsStreamParser, parse_message
from minerwatch.protocols.http import Request
from minerwatch.protocols.tls import ClientHello, ClientHelloParser, State
from minerwatch.protocols.websocket import Message

DNS_PORTS = frozenset({53, 5353})
TLS_HANDSHAKE = b"\x16\x03"
# How each kind of sighted indicator is looked up (on the matcher in use: a reload replaces it).
MATCH = {
    "wallet": IntelMatcher.match_wallet,
    "agent": IntelMatcher.match_agent,
    "url": IntelMatcher.match_url,
    "hash": IntelMatcher.match_hash,
}


@dataclass
class IntelStats:
    indicators: int = 0
    dns_messages: int = 0
    dns_errors: int = 0
    tls_client_hellos: int = 0
    http_hosts: int = 0
    weak_port_hits: int = 0
    weak_fingerprint_hits: int = 0


# Host and User-Agent lines of a head as the HTTP gate passes it (`name: value`, CRLF-terminated).
_HOST_OR_AGENT = re.compile(rb"\r\n(host|user-agent): ([^\r]*)", re.IGNORECASE)
_REMEMBERED_FIELDS = 4096  # Host and User-Agent values whose verdict the request filter keeps
_REMEMBERED_VALUE = 256  # bytes: a longer value is looked up each time (the memory stays under 2 MiB)


def _host_name(host: bytes) -> str:
    """The name in a Host header (port dropped); "" for an IPv6 literal, which is no domain."""
    return host.decode("latin-1").rsplit(":", 1)[0] if not host.startswith(b"[") else ""


def observation(
    host: str,
    peer: str | None,
    hit: Hit,
    ts: float,
    event_id: int,
    where: str,
    flow_id: int | None = None,
) -> IntelObservation:
    """What the verdict correlator is told of a hit: with an alert's id, or (weak hits) of its flow."""
    return IntelObservation(
        ts=ts,
        host=host,
        peer_ip=peer,
        indicator_type=hit.indicator_type,
        indicator=hit.indicator,
        source=hit.source,
        family=hit.family,
        confidence=hit.confidence / 100,
        event_id=event_id,
        discovered=hit.discovered,
        tags=hit.tags,
        where=where,
        weak=hit.weak,
        flow_id=flow_id,
    )


class IntelBook:
    """What spans flows: one alert per host, indicator and place (repeats counted), and the names of the
    pools found by behaviour alone, which need every host's verdict. In one process the detector has
    dropped the repeats already; with workers (scale/), this drops those seen by two workers."""

    def __init__(self, ctx: DetectorContext, dns: DnsCache) -> None:
        self.ctx = ctx
        self.dns = dns
        self.alerts = self.repeated_hits = self.discovered_pools = 0
        self.hosts_with_hits: set[str] = set()
        self._alerted: set[tuple[str, str, str, str]] = set()

    @property
    def stats(self) -> dict[str, int]:
        return {
            "alerts": self.alerts,
            "repeated_hits": self.repeated_hits,
            "discovered_pools": self.discovered_pools,
            "hosts_with_hits": len(self.hosts_with_hits),
        }

    def repeat(self) -> None:
        self.repeated_hits += 1

    def publish(self, host: str, peer: str | None, hit: Hit, event: Event) -> None:
        """Emit the alert, unless a repeat, and tell the verdict correlator about the hit."""
        where = event["alert"]["where"]
        key = (host, hit.indicator_type, hit.indicator, where)
        if key in self._alerted:
            self.repeated_hits += 1
            return
        self._alerted.add(key)
        self.alerts += 1
        self.hosts_with_hits.add(host)
        self.ctx.emit(event)
        observed = observation(host, peer, hit, event_time(event), event["event_id"], where)
        self.ctx.correlator.observe_intel(observed)

    def name_pools(self) -> None:
        """Give each behaviour-confirmed pool that no curated intel knew the names DNS resolved to it, for
        its verdict entry (`resolved_names`) and `--learn-pools` (see intel/learn.py)."""
        for _host, pool, known in self.ctx.correlator.staged_pools():
            if not known:
                pool.resolved_names.update(self.dns.names_for(pool.ip, pool.last_seen))
                self.discovered_pools += 1


class IntelDetector(HttpConsumer):
    def __init__(self, ctx: DetectorContext, matcher: IntelMatcher) -> None:
        self.ctx = ctx
        self.matcher = matcher
        # Every worker follows DNS (scale/): each keeps the answers for its flows, the correlator for
        # naming pools.
        self.dns: DnsCache = ctx.host_state("dns", DnsCache, mirror=("observe",))
        self.book: IntelBook = ctx.host_state("intel", lambda: IntelBook(ctx, self.dns))
        self.stats = IntelStats(indicators=matcher.count)
        self._alerted: set[tuple[str, str, str, str]] = set()  # before an event is made (ids as ever)
        self._head_values: dict[tuple[bytes, bytes], bool] = {}  # (host or user-agent, value) -> a hit?

    # ---- where indicators are looked for --------------------------------------------------------------

    def flow_start(self, flow: Flow) -> None:
        """Every flow: its addresses, the names DNS resolved its server's from, its server port. Nearly
        all find nothing, so the flow's text forms (FlowInfo) are made only for a hit."""
        ts = flow.first_ts
        matcher = self.matcher
        hits = matcher.match_ip(flow.server_addr, ts) + matcher.match_ip(flow.client_addr, ts)
        info = FlowInfo(flow) if hits else None
        if info is not None:
            self._alert(info, ts, hits, "flow address")
        for name in self.dns.names_for(flow.server_addr, ts):
            if name_hits := matcher.match_domain(name, ts):
                info = info or FlowInfo(flow)
                self._alert(info, ts, name_hits, f"flow to address resolved from {name}")
        if port_hits := matcher.match_port(flow.server_port, ts):
            self._alert(info or FlowInfo(flow), ts, port_hits, "flow port")

    def dns_message(self, info: FlowInfo, message: DnsMessage, ts: float) -> None:
        """Names asked and answered (CNAME targets included); the alert is about the asking client."""
        self.stats.dns_messages += 1
        self.dns.observe(message, ts)
        names = {q.name for q in message.questions}
        for name, rtype, _, data in message.answers:
            names.add(name)
            if rtype == TYPE_CNAME and data:
                names.add(data)
        match = self.matcher.match_domain
        for name in sorted(names):
            if hits := match(name, ts):
                self._alert(info, ts, hits, "dns")

    def client_hello(self, info: FlowInfo, ts: float, hello: ClientHello) -> None:
        """SNI against domains; JA3/JA4 computed only when fingerprint indicators are loaded."""
        self.stats.tls_client_hellos += 1
        hits = self.matcher.match_domain(hello.sni, ts) if hello.sni else []
        if self.matcher.has("ja3"):
            hits += self.matcher.match_ja3(hello.ja3, ts)
        if self.matcher.has("ja4"):
            hits += self.matcher.match_ja4(hello.ja4, ts)
        if hits:
            self._alert(info, ts, hits, "tls client hello")

    @property
    def interest(self) -> HttpInterest:
        """Requests whose Host or User-Agent is an indicator (expiry left to the exact check); indicators
        are in the heads, so no body is read."""
        return HttpInterest(request_filter=self._head_has_indicator)

    def _head_has_indicator(self, head: bytes) -> bool:
        """Asked for every GET or HEAD request the gate frames: hosts and agents recur (every object of a
        site, every request of a browser), so what each value is, is remembered (bounded)."""
        known = self._head_values
        for name, value in _HOST_OR_AGENT.findall(head):
            field = (name.lower(), value)
            found = known.get(field)
            if found is None:
                found = self._field_is_indicator(*field)
                if len(value) <= _REMEMBERED_VALUE:
                    if len(known) >= _REMEMBERED_FIELDS:
                        known.clear()
                    known[field] = found
            if found:
                return True
        return False

    def _field_is_indicator(self, name: bytes, value: bytes) -> bool:
        if name == b"host":
            return bool(self.matcher.match_domain(_host_name(value)))
        return bool(self.matcher.match_agent(value.decode("latin-1")))

    def on_http(self, flow: FlowInfo, message: HttpMessage) -> None:
        if not isinstance(message.head, Request):
            return
        host = message.head.headers.get(b"host")
        if host:
            self.stats.http_hosts += 1
            hits = self.matcher.match_domain(_host_name(host), message.ts)
            self._alert(flow, message.ts, hits, "http host")
        agent = message.head.headers.get(b"user-agent")
        if agent:
            self._alert(
                flow,
                message.ts,
                self.matcher.match_agent(agent.decode("latin-1"), message.ts),
                "http user-agent",
            )

    def on_websocket(self, flow: FlowInfo, ts: float, from_client: bool, message: Message) -> None:
        """WebSocket payloads are the mining detectors' concern."""

    def on_http_end(self, flow: FlowInfo, flow_counters: Flow, reason: str) -> None:
        """Nothing is pending per HTTP flow."""

    def sighting(self, seen: Sighting) -> None:
        """Indicators other detectors read (wallets, agents, pool URLs, file hashes): alerts on the flow and
        addresses of the event that showed them. A login is matched as that event shows it (its password
        masked unless secrets are shown), so the alert quotes no secret."""
        hits: list[Hit] = []
        for kind, value in seen.indicators:
            if kind == "wallet" and not self.ctx.options.show_secrets:
                value = mask_login(value)
            hits += MATCH[kind](self.matcher, value, seen.ts)
        for hit in hits:
            if hit.weak or not self._first(seen.host, hit, seen.where):
                continue
            body = hit.as_alert() | {"where": seen.where, "related_event_id": seen.event_id}
            event = self.ctx.events.make("alert", seen.ts, body, seen.flow, reverse=seen.reverse)
            event.update(seen.app)
            self.book.publish(seen.host, seen.peer, hit, event)

    # ---- alerts -------------------------------------------------------------------------------------------

    def _alert(self, info: FlowInfo, ts: float, hits: list[Hit], where: str, reverse: bool = False) -> None:
        for hit in hits:
            if hit.weak:
                self._weak(info, ts, hit, where)
                continue
            host = info.server_ip if reverse else info.client_ip
            if not self._first(host, hit, where):
                continue
            body = hit.as_alert() | {"where": where}
            event = self.ctx.events.make("alert", ts, body, info, reverse=reverse)
            self.book.publish(host, info.server_ip if not reverse else info.client_ip, hit, event)

    def _weak(self, info: FlowInfo, ts: float, hit: Hit, where: str) -> None:
        """No alert: the hit waits on its flow for the encrypted detector (correlator.weak_hits)."""
        if hit.indicator_type == "port":
            self.stats.weak_port_hits += 1
        else:
            self.stats.weak_fingerprint_hits += 1
        # event id 0: weak hits raise no event
        observed = observation(info.client_ip, info.server_ip, hit, ts, 0, where, info.flow_id)
        self.ctx.correlator.observe_intel(observed)

    def _first(self, host: str, hit: Hit, where: str) -> bool:
        key = (host, hit.indicator_type, hit.indicator, where)
        if key in self._alerted:
            self.book.repeat()  # counted by the book: with workers, by the flow's owner only
            return False
        self._alerted.add(key)
        return True

    def reload(self) -> None:
        """Match against the knowledge base as it is now (a live capture's SIGHUP): flows, DNS answers and
        alerts already made are kept, so an indicator alerted before is not alerted twice."""
        self.matcher = IntelMatcher.load(self.ctx.options.intel_db)
        self.stats.indicators = self.matcher.count
        self._head_values.clear()

    def counters(self) -> dict[str, Any]:
        return vars(self.stats) | self.book.stats  # the book's: empty in a worker (the correlator's counts)


class DnsDatagrams:
    """DatagramAnalyzer for DNS over UDP.

    A response repeats its question, so a query is parsed only if no response answers it (when the flow
    ends): half the parsing, the same names seen. At most MAX_UNANSWERED queries wait per flow.
    """

    MAX_UNANSWERED = 16
    __slots__ = ("detector", "info", "unanswered")

    def __init__(self, detector: IntelDetector, info: FlowInfo) -> None:
        self.detector = detector
        self.info = info
        self.unanswered: dict[bytes, tuple[float, bytes]] = {}  # transaction id -> (ts, query)

    def datagram(self, to_server: bool, payload: bytes, ts: float) -> None:
        is_response = len(payload) > 2 and payload[2] & 0x80
        if not is_response:
            if len(self.unanswered) < self.MAX_UNANSWERED:
                self.unanswered.setdefault(payload[:2], (ts, payload))
            else:
                self._parse(payload, ts)
            return
        self.unanswered.pop(payload[:2], None)
        self._parse(payload, ts)

    def _parse(self, payload: bytes, ts: float) -> None:
        try:
            message = parse_message(payload)
        except DnsParseError:
            self.detector.stats.dns_errors += 1
            return
        self.detector.dns_message(self.info, message, ts)

    def end(self, flow: Flow, ts: float, reason: str) -> None:
        """Queries nobody answered are looked at now, at their own time."""
        if self.unanswered:
            for query_ts, query in self.unanswered.values():
                self._parse(query, query_ts)
            self.unanswered.clear()


class DnsOverTcp:
    """StreamAnalyzer for DNS over TCP (2-byte length framing), e.g. zone transfers or large answers."""

    def __init__(self, detector: IntelDetector, info: FlowInfo) -> None:
        self.detector = detector
        self.info = info
        self.parsers = {True: DnsStreamParser(), False: DnsStreamParser()}
        self.failed = False

    def data(self, to_server: bool, data: bytes, ts: float, gap: bool) -> None:
        if self.failed or gap:
            self.failed = True
            return
        try:
            messages = self.parsers[to_server].feed(data)
        except DnsParseError:
            self.detector.stats.dns_errors += 1
            self.failed = True
            return
        for message in messages:
            self.detector.dns_message(self.info, message, ts)

    def wants_more(self, bytes_seen: int) -> bool:
        return not self.failed and bytes_seen <= 1 << 20

    def end(self, flow: Flow, ts: float, reason: str) -> None:
        """Nothing pending."""


class TlsClientHello:
    """StreamAnalyzer that reads the client's first flight for SNI and JA3/JA4, then lets the flow go."""

    __slots__ = ("client_side", "detector", "info", "parser")

    def __init__(self, detector: IntelDetector, info: FlowInfo, client_is_sender: bool) -> None:
        self.detector = detector
        self.info = info
        self.client_side = client_is_sender
        self.parser = ClientHelloParser()

    def data(self, to_server: bool, data: bytes, ts: float, gap: bool) -> None:
        if to_server != self.client_side or self.parser.state is not State.NEED_DATA:
            return
        hello = self.parser.feed(data)
        if hello is not None:
            self.detector.client_hello(self.info, ts, hello)

    def wants_more(self, bytes_seen: int) -> bool:
        return self.parser.state is State.NEED_DATA

    def end(self, flow: Flow, ts: float, reason: str) -> None:
        """Nothing pending."""


def setup(ctx: DetectorContext, options: NoOptions) -> DetectorParts:
    detector = IntelDetector(ctx, IntelMatcher.load(ctx.options.intel_db))

    def dns_udp(info: FlowInfo) -> DnsDatagrams:
        return DnsDatagrams(detector, info)

    def streams(info: FlowInfo, first: bytes, to_server: bool) -> DnsOverTcp | TlsClientHello | None:
        if info.server_port in DNS_PORTS:
            return DnsOverTcp(detector, info) if opening(first) is not Opening.HTTP else None
        if first.startswith(TLS_HANDSHAKE) and to_server:
            return TlsClientHello(detector, info, to_server)
        return None

    return DetectorParts(
        # DNS over TCP is chosen by port, unless it opens with a whole HTTP request line
        stream_factories=[StreamFactory(streams, NOT_HTTP)],
        datagram_factories=[DatagramFactory(dns_udp, DNS_PORTS)],
        http_consumers=[detector],
        flow_start_observers=[detector.flow_start],
        sighting_observers=[detector.sighting],
        finish=detector.book.name_pools,
        stats=detector.counters,
        reload=detector.reload,
    )


DETECTOR = Detector("intel", NoOptions, setup)
