"""One score from several kinds of evidence about an encrypted flow or host: Dempster-Shafer combination.

Why Dempster-Shafer (as CESNET's DeCrypto fuses a Stratum check, an SNI keyword score and a flow model):
each kind of evidence says how much it supports a class and leaves the rest uncommitted ("don't know")
instead of spreading it over the classes, so a weak hint (a fingerprint shared by every OpenSSL 1.1.1
client) raises belief a little and says nothing against the other classes; two independent hints add up,
and contradicting evidence (a mining fingerprint, but a browser's ALPN) shows as conflict that is
normalised away rather than averaged in.

The frame is {tls_mining, chia, benign}. Each `Evidence` gives masses to sets of classes (mostly single
classes; periodic pushes support {tls_mining, chia} without choosing), the rest to the whole frame; `fuse`
combines them with Dempster's rule; the belief in a class is then the combined mass on that class alone.
The masses each kind gives are in docs/encrypted.md, with why. Decision rule (`Fused.decide`): a class is
reported when its belief is at least REPORT_BELIEF *and* at least one evidence kind that is not weak
supports it (a pair confirmed in cleartext or by intel, the flow model, the Chia profile of ports and
client certificates or the many-peer shape); weak kinds (fingerprints, name words, ports, DNS seeders)
never make a verdict on their own, however many agree. The confidence reported is the belief, capped at
CONFIDENCE_CAP: below a behaviour-confirmed cleartext verdict (0.85 to 0.99).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from minerwatch.encrypted._fusion import reaches

MINING, CHIA, BENIGN = "tls_mining", "chia", "benign"
CLASSES = (MINING, CHIA, BENIGN)
FRAME = frozenset(CLASSES)
REPORT_BELIEF = 0.5
CONFIDENCE_CAP = 0.8

Mass = dict[frozenset[str], float]


@dataclass(frozen=True)
class Evidence:
    """One kind of evidence: its masses on sets of classes (at most 1 in total) and what it rests on."""

    kind: str  # pair, fingerprint, name, port, alpn, model, periodicity, chia-profile, chia-peers...
    support: Mass  # set of classes -> mass; 1 - sum goes to the whole frame (uncommitted)
    weak: bool
    detail: dict[str, Any] = field(default_factory=dict)

    def mass(self) -> Mass:
        """The masses with the uncommitted rest added to the whole frame's own (if any): one in all."""
        committed = {s: m for s, m in self.support.items() if m > 0}
        rest = 1.0 - sum(committed.values())
        if rest < -1e-9:
            raise ValueError(f"{self.kind}: masses add up to more than 1")
        return committed | {FRAME: committed.get(FRAME, 0.0) + max(rest, 0.0)}

    def supports(self, cls: str) -> bool:
        return any(cls in s and m > 0 for s, m in self.support.items())

    def as_dict(self) -> dict[str, Any]:
        support = {"|".join(sorted(s)): round(m, 3) for s, m in self.support.items() if m > 0}
        return {"kind": self.kind, "weak": self.weak, "support": support} | self.detail


SINGLETONS = {cls: frozenset({cls}) for cls in CLASSES}


def single(cls: str, mass: float) -> Mass:
    """Support for one class."""
    return {SINGLETONS[cls]: mass}


def combine(a: Mass, b: Mass) -> tuple[Mass, float]:
    """Dempster's rule: the product of every pair of focal sets goes to their intersection; mass on empty
    intersections (the conflict) is dropped and the rest renormalised. Returns (masses, conflict)."""
    out: Mass = {}
    conflict = 0.0
    for set_a, mass_a in a.items():
        for set_b, mass_b in b.items():
            both = set_a & set_b
            if both:
                out[both] = out.get(both, 0.0) + mass_a * mass_b
            else:
                conflict += mass_a * mass_b
    if conflict >= 1.0 - 1e-12:  # total contradiction: nothing can be said
        return {FRAME: 1.0}, 1.0
    return {s: m / (1.0 - conflict) for s, m in out.items()}, conflict


@dataclass(frozen=True)
class Fused:
    belief: dict[str, float]  # class -> belief (the combined mass on it)
    conflict: float  # the largest conflict met while combining (how much the kinds disagreed)
    evidence: tuple[Evidence, ...]

    def decide(self) -> str | None:
        """The class to report, or None: belief at least REPORT_BELIEF and a strong kind supporting it."""
        for cls in (MINING, CHIA):
            strong = any(not e.weak and e.supports(cls) for e in self.evidence)
            if strong and self.belief[cls] >= REPORT_BELIEF:
                return cls
        return None

    def confidence(self, cls: str) -> float:
        return round(min(self.belief[cls], CONFIDENCE_CAP), 2)

    def as_dict(self) -> dict[str, Any]:
        return {
            "belief": {c: round(b, 3) for c, b in self.belief.items()},
            "conflict": round(self.conflict, 3),
            "evidence": [e.as_dict() for e in self.evidence],
        }


ROUNDING = 1e-7  # the test's slack: the same belief computed in another order differs in its last bits
CONFLICTED = 1e-6  # below this normalisation the closed form's rounding is not small enough to rely on
_BITS = {cls: 1 << n for n, cls in enumerate(CLASSES)}
# every set of classes as its bit mask
_MASKS = {frozenset(c for c in CLASSES if s & _BITS[c]): s for s in range(1 << len(CLASSES))}


def could_reach(supports: Iterable[Mass], cls: str, belief: float = REPORT_BELIEF) -> bool:
    """False when Dempster's rule over evidence of these supports (Evidence.support, in the order `fuse`
    would take them) gives `cls` a belief below `belief`: the belief `fuse` gives, in closed form, for the
    many flows nothing points at (on the benchmark capture the flow model gives made-up HTTPS a mining
    probability near 0.2, on real traffic most TLS flows 0), whose end need not be fused, nor its evidence
    made; True also when the kinds conflict so much that the closed form's rounding could matter.

    Why it holds: with commonalities q(A), the mass on the sets that contain A, Dempster's rule before
    normalisation multiplies them, q(A) = prod q_i(A); Moebius inversion gives the mass on {cls}, the sum
    over B containing cls of (-1)^(|B| - 1) q(B), and the normalisation (one minus the mass left on the
    empty set), the sum over non-empty B of (-1)^(|B| + 1) q(B). Sets are bit masks: no set is built. It
    runs for every TLS flow that ends: compiled (encrypted/_fusion.pyx)."""
    return reaches(supports, _MASKS, _BITS[cls], belief - ROUNDING, CONFLICTED)


def fuse(evidence: Iterable[Evidence]) -> Fused:
    kinds = tuple(evidence)
    masses: Mass = {FRAME: 1.0}
    worst = 0.0
    for item in kinds:
        masses, conflict = combine(masses, item.mass())
        worst = max(worst, conflict)
    return Fused({c: masses.get(SINGLETONS[c], 0.0) for c in CLASSES}, worst, kinds)
