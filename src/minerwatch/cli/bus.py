"""`--nats URL` of the analysing subcommands (analyze, live): the sensor publishes what it observes."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from contextlib import ExitStack
from pathlib import Path
from typing import TYPE_CHECKING

from minerwatch.pipeline import Analysis

if TYPE_CHECKING:
    from minerwatch.bus.publish import BusPublisher


def add_bus_options(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--nats",
        metavar="URL",
        help="also publish observations, with the events they cite, to NATS JetStream at URL for "
        "`minerwatch correlate` (docs/deploy.md)",
    )
    p.add_argument(
        "--sensor-name",
        metavar="NAME",
        help="the name this sensor publishes under (default: the host name)",
    )


def publisher(
    args: argparse.Namespace, stack: ExitStack, captures: list[Path] | None = None
) -> BusPublisher | None:
    """Connected when --nats asks (the client is imported only then), before any input is read; the
    caller attaches it to the analysis whose correlators see every observation (with workers, the
    correlator process's). `captures`: the files analysed, whose identity keys the observations (a run
    again over them adds nothing: bus/identity.py); None for live traffic."""
    if not args.nats:
        return None
    from minerwatch.bus.identity import capture_identity
    from minerwatch.bus.publish import BusPublisher, sensor_name

    capture = capture_identity(captures) if captures else None
    opened = BusPublisher(args.nats, sensor_name(args.sensor_name), capture)
    stack.callback(opened.stop)
    return opened


def attach(opened: BusPublisher | None) -> Callable[[Analysis], None] | None:
    return opened.attach if opened is not None else None


def close(opened: BusPublisher | None) -> None:
    """Wait until the stream stored everything; one line on stderr says how much."""
    if opened is None:
        return
    stored = opened.close()
    print(
        f"minerwatch: {stored:,} observation(s) stored by NATS at {opened.url} as sensor {opened.sensor}",
        file=sys.stderr,
    )
