"""Typed validators for numeric options, shared by every subcommand.

A bad number is a usage error from the argument parser (one line naming the option, exit 2), never a
ValueError or OverflowError deep in the analysis, and never a `-5` or `nan` accepted silently.
"""

from __future__ import annotations

import argparse
import math
from collections.abc import Callable

from minerwatch.cli.outputs import readable, refuse_input_as_output
from minerwatch.correlate.store import DEFAULT_RETENTION_DAYS
from minerwatch.correlate.store import default_path as default_store
from minerwatch.pipeline import detector_names

# Longer than any capture or window anyone means (31 years); finite, so no time arithmetic overflows.
MAX_SECONDS = 1e9


def whole(minimum: int, maximum: int) -> Callable[[str], int]:
    """A `type=` for an integer option within [minimum, maximum]."""

    def parse(text: str) -> int:
        try:
            value = int(text, 10)
        except ValueError:
            raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
        if not minimum <= value <= maximum:
            raise argparse.ArgumentTypeError(f"{text} is out of range (allowed: {minimum} to {maximum})")
        return value

    return parse


def mebibytes(text: str) -> int:
    """A memory cap given in MiB (a whole number, 1 to 1048576), in bytes."""
    value = int(text) if text.isdigit() else 0
    if not 1 <= value <= 1 << 20:
        raise argparse.ArgumentTypeError(f"expected a whole number of MiB from 1 to 1048576, not {text!r}")
    return value << 20


_UNITS = {"": 1, "K": 1 << 10, "M": 1 << 20, "G": 1 << 30}


def size(text: str) -> int:
    """A size in bytes, with an optional K, M or G suffix (powers of 1024): 1 byte to 1 TiB."""
    number, unit = text.rstrip("KMGkmg"), text[len(text.rstrip("KMGkmg")) :].upper()
    if not number.isdigit() or unit not in _UNITS or not 1 <= int(number) * _UNITS[unit] <= 1 << 40:
        raise argparse.ArgumentTypeError(f"expected a size such as 65536, 512K, 100M or 1G, not {text!r}")
    return int(number) * _UNITS[unit]


def duration(*, zero: bool = False, maximum: float = MAX_SECONDS) -> Callable[[str], float]:
    """A `type=` for a duration (seconds, or days where the option says so): finite, positive (or zero
    when `zero`), at most `maximum`."""
    low = "0" if zero else "more than 0"

    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
        if not math.isfinite(value) or value < 0 or (value == 0 and not zero) or value > maximum:
            raise argparse.ArgumentTypeError(f"{text} is out of range (allowed: {low} to {maximum:g})")
        return value

    return parse


def add_event_options(p: argparse.ArgumentParser) -> None:
    """What every analysing subcommand (analyze, live) offers alike: where events go, which detectors
    run, the knowledge base, and whether secrets are shown."""
    add_output_options(p)
    p.add_argument(
        "--detectors",
        metavar="LIST",
        help="comma-separated detectors to run (default: all): " + ", ".join(detector_names()),
    )
    add_intel_options(p)
    p.add_argument(
        "--show-secrets",
        action="store_true",
        help="print secrets seen in traffic (passwords, login passwords, URL credentials, tokens) unmasked",
    )


def add_output_options(p: argparse.ArgumentParser) -> None:
    """Where events go: -o FILE and --json (standard output, the summary then on stderr)."""
    p.add_argument("-o", "--output", metavar="FILE", help="write events as JSON lines to FILE")
    p.add_argument(
        "--json", action="store_true", help="write events as JSON lines to stdout (summary to stderr)"
    )


def add_intel_options(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--intel-db",
        metavar="FILE",
        help="threat-intel knowledge base (default: $MINERWATCH_INTEL_DB, else ~/.local/share/minerwatch)",
    )
    p.add_argument(
        "--no-intel",
        action="store_true",
        help="do not match threat intelligence (the same as leaving intel out of --detectors)",
    )


def add_disk_findings_option(p: argparse.ArgumentParser) -> None:
    """scan-disk's findings joined with what the traffic or the logs show (docs/hostscan.md)."""
    p.add_argument(
        "--disk-findings",
        metavar="FILE",
        action="append",
        default=[],
        help="scan-disk's events (JSON lines, `scan-disk --host IP -o FILE`): each host's findings join its "
        "verdict and incident; a host with findings and nothing else gets a verdict `chia-on-disk` "
        "(repeatable; see docs/hostscan.md)",
    )


def check_disk_findings(paths: list[str], outputs: list[str | None]) -> None:
    """Findings are read at the end of the input: refused now if unreadable or about to be overwritten."""
    for path in paths:
        readable(path, "disk findings")
        for output in filter(None, outputs):
            refuse_input_as_output(output, [path])


def add_store_options(p: argparse.ArgumentParser) -> None:
    """The incident store that keeps incidents across runs (docs/killchain.md)."""
    p.add_argument(
        "--store",
        metavar="FILE",
        help="incident store: incidents are kept and extended across runs (default: $MINERWATCH_STORE, "
        "else ~/.local/share/minerwatch/incidents.sqlite)",
    )
    p.add_argument("--no-store", action="store_true", help="do not read or write the incident store")
    p.add_argument(
        "--retention",
        type=duration(maximum=36_500),
        default=DEFAULT_RETENTION_DAYS,
        metavar="DAYS",
        help="the store forgets what ended this long (capture time) before its newest activity"
        " (default %(default)g)",
    )


def chosen_store(args: argparse.Namespace) -> str | None:
    """The incident store's path the options ask for; None with --no-store."""
    return None if args.no_store else str(args.store or default_store())


def chosen_detectors(args: argparse.Namespace) -> tuple[str, ...] | None:
    """The detectors --detectors and --no-intel ask for; None: all of them."""
    detectors = [d.strip() for d in args.detectors.split(",") if d.strip()] if args.detectors else None
    if args.no_intel:
        detectors = [d for d in detectors or detector_names() if d != "intel"]
    return tuple(detectors) if detectors is not None else None
