"""Typed validators for numeric options, shared by every subcommand.

A bad number is a usage error from the argument parser (one line naming the option, exit 2), never a
ValueError or OverflowError deep in the analysis, and never a `-5` or `nan` accepted silently.
"""

from __future__ import annotations

import argparse
import math
from collections.abc import Callable

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
