"""Each kind of evidence about an encrypted flow as Dempster-Shafer masses (fusion.py); the table with
the reasons is in docs/encrypted.md. Strong kinds can make a verdict, weak ones only add to one."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import NamedTuple

from minerwatch.correlate.observations import IntelObservation
from minerwatch.encrypted import periodicity
from minerwatch.encrypted.flowstats import Summary
from minerwatch.encrypted.fusion import BENIGN, CLASSES, MINING, SINGLETONS, Evidence, Mass, single
from minerwatch.encrypted.names import NameScore, score_name
from minerwatch.encrypted.paircache import PairEntry
from minerwatch.protocols.tls import ClientHello

PAIR_BEHAVIOUR = 0.9  # x the confirmed pool's verdict confidence: the same two machines, now encrypted
PAIR_INTEL = 0.6  # x the indicator's confidence: intel names the address, nothing saw the pool protocol
FINGERPRINT_CAP = 0.3  # a miner's JA3/JA4: every client on the same TLS library and options shares it
PORT = 0.1  # a well-known pool port: many services use 3333, 4444, 5555...
NAME_FACTOR = 0.5  # x the name's pool-likeness (at most 0.6): a name is chosen by whoever runs the server
ALPN_HTTP = 0.5  # for benign: the client offers h2/http/1.1, as browsers and HTTP libraries do; miners don't
MODEL_RELIABILITY = 0.9  # the flow model's probabilities, discounted (Shafer) by its held-out error margin
HTTP_ALPN = frozenset({"h2", "http/1.1", "http/1.0", "h3"})


def pair(entry: PairEntry) -> Evidence:
    factor = PAIR_BEHAVIOUR if entry.basis == "behaviour" else PAIR_INTEL
    return Evidence(
        "pair",
        single(MINING, factor * entry.confidence),
        weak=False,
        detail={
            "basis": entry.basis,
            "pair_confidence": entry.confidence,
            "confirmed_by": list(entry.event_ids),
            "flows_counted": entry.flows,
        },
    )


def weak_hits(hits: Iterable[IntelObservation]) -> list[Evidence]:
    """One piece per kind, from its most confident hit: a fingerprint (JA3 and JA4 of the same hello are
    one observation, not two), a pool port."""
    best: dict[str, IntelObservation] = {}
    for hit in hits:
        kind = "port" if hit.indicator_type == "port" else "fingerprint"
        if kind not in best or hit.confidence > best[kind].confidence:
            best[kind] = hit
    out = []
    for kind, hit in sorted(best.items()):
        mass = PORT if kind == "port" else min(FINGERPRINT_CAP, hit.confidence)
        detail = {"indicator_type": hit.indicator_type, "indicator": hit.indicator, "source": hit.source}
        out.append(Evidence(kind, single(MINING, mass), weak=True, detail=detail))
    return out


def name(names: Iterable[tuple[str, str]]) -> Evidence | None:
    """The most pool-like of a server's names, each with where it was seen (`sni`, `dns`): one piece of
    evidence however many names it has, since they all name one server, chosen by whoever runs it."""
    best: tuple[NameScore, str] | None = None
    for text, where in names:
        scored = score_name(text)
        if scored.score and (best is None or scored.score > best[0].score):
            best = (scored, where)
    if best is None:
        return None
    scored, where = best
    detail = {"where": where, "name": scored.name, "tokens": list(scored.tokens)}
    return Evidence("name", single(MINING, NAME_FACTOR * scored.score), weak=True, detail=detail)


def alpn(hello: ClientHello) -> Evidence | None:
    offered = sorted(HTTP_ALPN.intersection(hello.alpn))
    if not offered:
        return None
    return Evidence("alpn", single(BENIGN, ALPN_HTTP), weak=True, detail={"alpn": offered})


def model(scores: Mapping[str, float], version: str) -> Evidence:
    """The flow model's class probabilities (tls_mining, chia, benign), discounted by MODEL_RELIABILITY."""
    detail = {"model": version, "scores": {c: round(scores.get(c, 0.0), 3) for c in CLASSES}}
    return Evidence("model", model_support(scores), weak=False, detail=detail)


def model_support(scores: Mapping[str, float]) -> Mass:
    support = {}
    for c in CLASSES:  # a loop, not min/max calls: it runs for every TLS flow that ends
        p = scores.get(c, 0.0)
        support[SINGLETONS[c]] = MODEL_RELIABILITY * (0.0 if p < 0.0 else 1.0 if p > 1.0 else p)
    total = sum(support.values())
    if total > 1.0:  # probabilities that add up to more than 1: scale down
        support = {s: m / total for s, m in support.items()}
    return support


class Measured(NamedTuple):  # a tuple: made for every TLS flow that ends, faster than a frozen dataclass
    """What a flow's statistics say at one moment: the flow model's class probabilities (None without a
    model) and the gaps between the bursts its server started. Every TLS flow is measured when it ends, few
    can be reported: `supports` is what fusion.could_reach reads, and the evidence, whose details for the
    event (rounded scores) cost more than the test, is made only for a judgement that can report."""

    scores: Mapping[str, float] | None
    version: str  # the model's training date, in the model evidence's details
    server_bursts: int
    burst_gaps: tuple[int, float, float, float, float]  # count, sum, sum of squares, min, max

    def supports(self) -> list[Mass]:
        """The masses of `evidence()`, in its order."""
        # most flows have too few gaps for a cadence: no Summary made for them
        steady = self.burst_gaps[0] >= periodicity.MIN_GAPS and periodicity.steady(
            Summary.of(*self.burst_gaps)
        )
        found = [periodicity.SUPPORT] if steady else []
        return found if self.scores is None else [*found, model_support(self.scores)]

    def evidence(self) -> list[Evidence]:
        cadence = periodicity.periodicity(Summary.of(*self.burst_gaps), self.server_bursts)
        return [e for e in (cadence, self.model()) if e]

    def model(self) -> Evidence | None:
        return None if self.scores is None else model(self.scores, self.version)
