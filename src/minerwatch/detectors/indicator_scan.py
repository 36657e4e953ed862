"""Pool URLs and miner command lines in bytes: one Aho-Corasick pass (pyahocorasick) over plain text and
base64 at its three alignments, patterns from rules/mining/pool_indicators.tsv.

Why Aho-Corasick: all patterns, in every encoding, are found in one pass whose cost does not grow with the
number of patterns. A hit is then confirmed and completed (the whole URL, the whole command line) by a
regex on a small window around it, so the cost stays O(bytes scanned).
"""

from __future__ import annotations

import base64
import re
from dataclasses import dataclass
from functools import cache
from importlib.resources import files

import ahocorasick

from minerwatch.identity import validate_wallet

WINDOW = 512  # bytes around a hit read to complete it
_URL = re.compile(rb"stratum[0-9]?\+(?:tcp|ssl|tls)://[A-Za-z0-9._\-\[\]:@%]{1,200}", re.IGNORECASE)
_POOL_LOGIN = re.compile(rb"(?:-o|--url[= ])\s*(\S{3,200}?:\d{2,5})\s+(?:-u|--user[= ])\s*([^\s\"']{3,200})")
_B64_RUN = re.compile(rb"[A-Za-z0-9+/]+={0,2}")


@dataclass(frozen=True, slots=True)
class Indicator:
    kind: str  # pool-url | miner-cmdline
    text: str  # the URL or the command-line option found, completed from its context
    encoding: str | None  # None (cleartext) or "base64"
    wallet: str | None = None  # a valid wallet given with -u next to a pool address


def _b64_fragments(literal: bytes) -> list[bytes]:
    """The base64 characters that encode `literal` whatever its offset modulo 3 in the encoded data."""
    out = []
    for shift in range(3):
        encoded = base64.b64encode(b"\0" * shift + literal)
        first = -(-shift * 8 // 6)  # first character with no bit from the padding bytes
        last = (shift + len(literal)) * 8 // 6  # characters after this one take bits from what follows
        out.append(encoded[first:last])
    return out


@cache
def _automaton() -> ahocorasick.Automaton:
    automaton = ahocorasick.Automaton()
    rules = files("minerwatch.rules").joinpath("mining/pool_indicators.tsv").read_text(encoding="utf-8")
    for line in rules.splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        kind, literal = line.split("\t", 1)
        raw = literal.strip().encode()
        for spelling in {raw, raw.lower(), raw.upper()}:
            automaton.add_word(spelling.decode("latin-1"), (kind, raw, None))
        for fragment in _b64_fragments(raw):
            automaton.add_word(fragment.decode("latin-1"), (kind, raw, "base64"))
    automaton.make_automaton()
    return automaton


def scan(data: bytes, limit: int = 16) -> list[Indicator]:
    """Indicators in `data` (at most `limit`, each once). Cleartext literals match in their own, lower or
    upper case."""
    found: dict[tuple[str, str], Indicator] = {}
    for end, (kind, literal, encoding) in _automaton().iter(data.decode("latin-1")):
        for indicator in _complete(data, end, kind, literal, encoding):
            found.setdefault((indicator.kind, indicator.text), indicator)
        if len(found) >= limit:
            return list(found.values())[:limit]
    if b"-u " in data or b"--user" in data:  # cheap memchr-speed prefilter before the regex
        for indicator in _pool_logins(data, None):
            found.setdefault((indicator.kind, indicator.text), indicator)
    return list(found.values())[:limit]


def _pool_logins(window: bytes, encoding: str | None) -> list[Indicator]:
    """`-o host:port -u account` command lines, with the account when it is a valid wallet."""
    out = []
    for match in _POOL_LOGIN.finditer(window):
        account = match.group(2).decode("latin-1")
        wallet = account if validate_wallet(account) is not None else None
        out.append(Indicator("miner-cmdline", match.group(0).decode("latin-1")[:300], encoding, wallet))
    return out[:4]


def _complete(data: bytes, end: int, kind: str, literal: bytes, encoding: str | None) -> list[Indicator]:
    """The whole URL or option (with its value) around a hit ending at `end`, decoding base64 first."""
    if encoding == "base64":
        window = _decode_run(data, end, literal)
    else:
        window = data[max(0, end + 1 - len(literal)) : end + WINDOW]
    if kind == "pool-url":
        hits = [m.group(0) for m in _URL.finditer(window)]
    else:
        option = re.compile(re.escape(literal) + rb'["\s=:]*[^\s",}]{0,100}', re.IGNORECASE)
        hits = [m.group(0) for m in option.finditer(window)]
    found = [Indicator(kind, h.decode("latin-1")[:200], encoding) for h in hits[:4]]
    return found + (_pool_logins(window, encoding) if encoding else [])


def _decode_run(data: bytes, end: int, literal: bytes) -> bytes:
    """Decode the base64 run around position `end`, at whichever alignment shows the literal."""
    for match in _B64_RUN.finditer(data, max(0, end - 2 * WINDOW), min(len(data), end + 2 * WINDOW)):
        if not match.start() <= end < match.end():
            continue
        run = match.group(0).rstrip(b"=")
        for skip in range(4):
            piece = run[skip:]
            piece = piece[: len(piece) - (len(piece) % 4 == 1)]  # one leftover character decodes nothing
            decoded = base64.b64decode(piece + b"=" * (-len(piece) % 4))
            if literal.lower() in decoded.lower():
                return decoded
    return b""
