"""How pool-like a host name is (a TLS SNI, a DNS name), from its words: weak evidence, never alone.

Why weak: pool operators name their servers after the coin and the word pool (`xmr-eu1.nanopool.org`,
`rx.unmineable.com`), but so do unrelated services (`pool.ntp.org`, a `mine` in a game's name), and a
miner that hides uses a bare IP or a neutral name. Intel's exact pool domains (rules/intel/pools.csv) are
the strong form of this; the score here covers names no list knows yet, and only ever adds to other
evidence (see fusion.py: a weak kind alone never makes a verdict). The words are detection content, kept
as data in rules/mining/pool_name_tokens.tsv.

Words are whole tokens: a name is split at dots, dashes and underscores, and each part also at its
letter/digit boundaries (`xmr1-eu.2miners` -> `xmr1`, `xmr`, `1`, `eu`, `2miners`, `2`, `miners`), so
`minecraft` is not `mine` and `carpool` is not `pool`. Cost: linear in the name's length (capped at
MAX_NAME characters).
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass
from functools import cache, lru_cache
from importlib.resources import files

MAX_NAME = 253  # the longest DNS name
_PART = re.compile(r"[a-z0-9]+")
_PIECE = re.compile(r"[a-z]+|[0-9]+")

OPERATOR_SCORE = 0.6
STRATUM_SCORE = 0.5
COIN_AND_WORD_SCORE = 0.5
ONE_HINT_SCORE = 0.2


@dataclass(frozen=True, slots=True)
class NameScore:
    name: str
    score: float  # 0 to OPERATOR_SCORE
    tokens: tuple[str, ...]  # the pool-like words found, for the evidence


@cache
def _tokens() -> dict[str, frozenset[str]]:
    """kind (coin, word, operator) -> tokens, from rules/mining/pool_name_tokens.tsv."""
    found: dict[str, set[str]] = {"coin": set(), "word": set(), "operator": set()}
    text = files("minerwatch").joinpath("rules/mining/pool_name_tokens.tsv").read_text(encoding="utf-8")
    for line in text.splitlines():
        if line and not line.startswith("#"):
            kind, token = line.split("\t", 1)
            found[kind].add(token.strip())
    return {kind: frozenset(values) for kind, values in found.items()}


def tokens(name: str) -> list[str]:
    """The name's parts in order, each followed by its letter and digit pieces when it has several."""
    out = []
    for part in _PART.findall(name[:MAX_NAME].lower()):
        out.append(part)
        pieces = _PIECE.findall(part)
        if len(pieces) > 1:
            out += pieces
    return out


def score_name(name: str) -> NameScore:
    """The strongest reading of the name's words (operator > stratum > coin with a pool word > one hint),
    for the name cut to MAX_NAME characters (a hostile SNI may be longer: the cut is what is kept)."""
    return _score(name[:MAX_NAME])


@lru_cache(maxsize=4096)  # 4,096 names of 253 characters at most; a network names its servers often
def _score(name: str) -> NameScore:
    words = tokens(name)
    joined = {f"{a}-{b}" for a, b in itertools.pairwise(words)}  # crypto-pool
    known = _tokens()
    found_ops = sorted((set(words) | joined) & known["operator"])
    found_coins = sorted(set(words) & known["coin"])
    found_words = sorted(set(words) & known["word"])
    if found_ops:
        score = OPERATOR_SCORE
    elif "stratum" in found_words:
        score = STRATUM_SCORE
    elif found_coins and found_words:
        score = COIN_AND_WORD_SCORE
    elif found_coins or found_words:
        score = ONE_HINT_SCORE
    else:
        score = 0.0
    return NameScore(name, score, tuple(found_ops + found_coins + found_words))
