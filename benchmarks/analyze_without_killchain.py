"""`minerwatch analyze` with the kill chain switched off: the B side of issue 13's bar (the default run at
most 5% slower with the kill chain on), measured against the unchanged command:

    python -m minerwatch analyze CAPTURE -o /dev/null --no-progress                 # A: the default run
    python benchmarks/analyze_without_killchain.py CAPTURE -o /dev/null --no-progress  # B: kill chain off

Off means the three parts issue 13 added are gone and nothing else: the scan detector is not loaded, the
incident correlator drops what detectors hand it, and no incidents are built, stored (the store is not
opened) or shown. Every other detector and the verdicts run the same code as in A.
"""

from __future__ import annotations

import sys

from minerwatch import pipeline
from minerwatch.cli.main import main
from minerwatch.correlate.incidents import IncidentCorrelator


def switch_off() -> None:
    pipeline.DETECTORS = tuple(d for d in pipeline.DETECTORS if d.name != "scan")
    IncidentCorrelator.observe = lambda self, obs: None  # type: ignore[method-assign]
    IncidentCorrelator.incidents = lambda self, verdicts, store=None: ([], [])  # type: ignore[method-assign]
    conclude = pipeline.conclude  # the end of an input (correlate/conclude.py): verdicts, then incidents
    pipeline.conclude = lambda events, emit, verdicts, incidents, store: conclude(  # type: ignore[assignment]
        events, emit, verdicts, incidents, None
    )


if __name__ == "__main__":
    switch_off()
    sys.exit(main(["analyze", *sys.argv[1:]]))
