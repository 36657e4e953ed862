"""Types of the compiled checkpoint gate (_checkpoints.pyx) for the type checker; the .pyx rules."""

from typing import Any

from minerwatch.decode._flowstats import CheckpointGate
from minerwatch.encrypted._forest import Forest

class TlsCheckpoints(CheckpointGate):
    def __init__(
        self, forest: Forest | None, cls: int, threshold: float, correlator: Any, pair_clients: dict[str, int]
    ) -> None: ...
