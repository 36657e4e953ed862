"""Types of the compiled forest (_forest.pyx) for the type checker; the .pyx rules."""

from collections.abc import Sequence

from minerwatch.decode._flowstats import StatsAccumulator

class Forest:
    n_classes: int
    def __init__(
        self,
        roots: Sequence[int],
        feature: Sequence[int],
        threshold: Sequence[float],
        left: Sequence[int],
        right: Sequence[int],
        value: Sequence[float],
        n_classes: int,
    ) -> None: ...
    def probabilities(self, x: Sequence[float]) -> tuple[float, ...]: ...
    def score_flow(self, stats: StatsAccumulator, duration: float, packets: int) -> tuple[float, ...]: ...
    def passes_flow(
        self, stats: StatsAccumulator, duration: float, packets: int, cls: int, threshold: float
    ) -> bool: ...
