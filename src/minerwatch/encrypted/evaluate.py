"""How well a flow model does on labelled flows: per class, recall (flows flagged as their class at some
checkpoint) or, for benign flows, the false-positive rate (flagged as anything); and time to detection,
in seconds of traffic and packets from the flow's start to the first checkpoint that flagged it. A rate
measured on n flows is given with its exact 95% bound (one-sided Clopper-Pearson): 0 false positives in
1,937 flows shows an FPR below 0.15%, not below 0.1%."""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass, field

from minerwatch.encrypted.dataset import LabelledFlow
from minerwatch.encrypted.model import CLASSES, Model


@dataclass
class ClassResult:
    label: str
    flows: int = 0
    sessions: set[str] = field(default_factory=set)
    flagged: int = 0  # flagged as this class (benign: as any other class)
    seconds: list[float] = field(default_factory=list)  # time to detection of each flagged flow
    packets: list[int] = field(default_factory=list)

    @property
    def rate(self) -> float:
        return self.flagged / self.flows if self.flows else 0.0

    @property
    def bound(self) -> float:
        """The 95% one-sided bound: the highest FPR (benign) or lowest recall the flows leave plausible."""
        if self.label == "benign":
            return failure_bound(self.flagged, self.flows)
        return 1.0 - failure_bound(self.flows - self.flagged, self.flows)


def failure_bound(failures: int, trials: int, confidence: float = 0.95) -> float:
    """Exact (Clopper-Pearson) one-sided upper bound on a failure rate: the p at which seeing at most
    `failures` in `trials` has probability 1 - confidence (0 in n: about 3/n, the rule of three)."""
    if failures >= trials:
        return 1.0

    def at_most(p: float) -> float:  # P(Binomial(trials, p) <= failures), summed in log space
        return sum(
            math.exp(
                math.lgamma(trials + 1) - math.lgamma(i + 1) - math.lgamma(trials - i + 1)
                + i * math.log(p) + (trials - i) * math.log1p(-p)
            )
            for i in range(failures + 1)
        )  # fmt: skip

    low, high = 0.0, 1.0
    for _ in range(60):  # bisection: at_most falls as p grows
        middle = (low + high) / 2
        if middle > 0 and at_most(middle) > 1 - confidence:
            low = middle
        else:
            high = middle
    return high


def evaluate(model: Model, flows: list[LabelledFlow], key: str = "label") -> dict[str, ClassResult]:
    """Results by class (`key` "label"), or by session ("session": each session has one class)."""
    results: dict[str, ClassResult] = (
        {label: ClassResult(label) for label in CLASSES} if key == "label" else {}
    )
    for flow in flows:
        name = getattr(flow, key)
        result = results.setdefault(name, ClassResult(flow.label))
        result.flows += 1
        result.sessions.add(flow.session)
        for snapshot in flow.snapshots:
            flagged = model.flagged(model.probabilities(snapshot.features))
            if flagged is not None and (flagged == flow.label or flow.label == "benign"):
                result.flagged += 1
                result.seconds.append(snapshot.seconds)
                result.packets.append(snapshot.packets)
                break
    return results


def distribution(values: list[float]) -> str:
    """min / median / 90th percentile / max, or '-' without values."""
    if not values:
        return "-"
    ordered = sorted(values)
    p90 = ordered[min(len(ordered) - 1, round(0.9 * (len(ordered) - 1)))]
    return f"{ordered[0]:.1f} / {statistics.median(ordered):.1f} / {p90:.1f} / {ordered[-1]:.1f}"


def report_lines(results: dict[str, ClassResult], title: str = "class") -> list[str]:
    """A table, one row per key of `results`: flows, sessions, recall (benign: FPR), time to detection."""
    width = max(11, *(len(name) for name in results))
    lines = [
        f"{title:<{width}} {'flows':>6} {'sessions':>8}  {'measure':<8} {'value':>8} {'95% bound':>10}  "
        "time to detection, s (min / median / p90 / max)  packets (same)"
    ]
    for name, r in results.items():
        measure = "FPR" if r.label == "benign" else "recall"
        value = f"{100 * r.rate:>7.2f}%" if r.flows else f"{'-':>8}"
        bound = f"{'<=' if r.label == 'benign' else '>='}{100 * r.bound:.2f}%" if r.flows else "-"
        lines.append(
            f"{name:<{width}} {r.flows:>6} {len(r.sessions):>8}  {measure:<8} {value} {bound:>10}  "
            f"{distribution(r.seconds):<48} {distribution([float(p) for p in r.packets])}"
        )
    return lines
