"""Types of the compiled closed form of fusion.could_reach (_fusion.pyx); the .pyx rules."""

from collections.abc import Iterable

def reaches(
    supports: Iterable[dict[frozenset[str], float]],
    masks: dict[frozenset[str], int],
    bit: int,
    level: float,
    conflicted: float,
) -> bool: ...
