"""What each HTTP consumer reads, declared, so that the compiled gate (decode/_httpgate.pyx) frames the
rest of the traffic without Python.

A consumer declares an `HttpInterest` as its `interest` (flows/http.py, HttpConsumer). The gate always
hands a connection to the Python parser for what only the parser reads exactly (other methods than GET
and HEAD, request bodies, upgrades, chunked or content-encoded responses, interim responses, reordered
heads); beyond that, a GET/HEAD request or its response goes to Python only when some consumer's
declaration says it may care.
A declaration must cover every message the consumer acts on (tests check this against the consumers'
own `on_http`). A consumer without one is refused when the analysis is set up (it must not switch the
gate off for all traffic unnoticed); `every_message` says so explicitly.

The declaration also says which bodies of the messages Python sees the consumer reads (`bodies`): that
choice is made at a body's first bytes, from what only then is known (the bytes themselves, a
Content-Type, what the flow carried before), so it is a function, declared with the rest.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from minerwatch.decode import GateConfig, LiteralScreen
from minerwatch.flows.info import FlowInfo

if TYPE_CHECKING:
    from minerwatch.flows.http import HttpMessage

HeadFilter = Callable[[bytes], bool]  # raw head bytes (request or status line and fields, CRLFCRLF included)
# Asked once per message at its first body bytes (already in `message.body`): True reads the body whole,
# an int that many leading bytes (past the longest such prefix the rest is skipped and the message ends as
# truncated), False or 0 none of it. A body no consumer reads is skipped when its length is known, so its
# packets never reach Python.
BodyChoice = Callable[[FlowInfo, "HttpMessage"], bool | int]

BINARY_SAMPLE = 512
BINARY_CONTROL_BYTES = 4  # more control bytes than this in the sample: not text
_CONTROL = bytes(range(0x09)) + bytes(range(0x0E, 0x20)) + b"\x7f"


def looks_binary(body: bytes | bytearray) -> bool:
    """Control bytes in the first 512 (text has none but tab and line breaks): images, archives,
    executables, compressed or encrypted data. The gate applies the same test in C."""
    sample = bytes(body[:BINARY_SAMPLE])
    return len(sample) - len(sample.translate(None, _CONTROL)) > BINARY_CONTROL_BYTES


@dataclass(frozen=True)
class HttpInterest:
    request_headers: frozenset[bytes] = frozenset()  # lower-case names: a request carrying one goes to Python
    response_headers: frozenset[bytes] = frozenset()
    statuses: frozenset[int] = frozenset()  # responses with these statuses go to Python
    text_bodies: bool = False  # response bodies that look like text (few control bytes in their start)
    typed_bodies: bool = False  # response bodies with one of `signatures`, or no NUL in `typed_sample` bytes
    signatures: tuple[tuple[int, bytes], ...] = ()  # (offset, bytes) of the file types meant
    typed_sample: int = 0
    request_filter: HeadFilter | None = None  # true for a request head the consumer may act on
    # The filter is false for a head without a '%' that holds none of these (ASCII case ignored): the gate
    # then screens heads in C and calls the filter only for those that may hold one.
    request_literals: frozenset[bytes] | None = None
    response_filter: HeadFilter | None = None
    # Every message, whatever it holds: the gate is then off for all traffic, so only a consumer that
    # cannot say more declares it (carving with --carve-all reads every named download).
    every_message: bool = False
    bodies: BodyChoice | None = None  # which bodies (of the messages Python sees) it reads; None: none


def gate_config(interests: Sequence[HttpInterest], depth: int) -> GateConfig | None:
    """The union of the consumers' declarations, or None (no gate) when one reads every message."""
    if any(i.every_message for i in interests):
        return None
    return GateConfig(
        request_headers=frozenset().union(*(i.request_headers for i in interests)),
        response_headers=frozenset().union(*(i.response_headers for i in interests)),
        statuses=frozenset().union(*(i.statuses for i in interests)),
        text_bodies=any(i.text_bodies for i in interests),
        typed_bodies=any(i.typed_bodies for i in interests),
        magics=tuple(dict.fromkeys(s for i in interests for s in i.signatures)),
        request_filter=_any([i.request_filter for i in interests if i.request_filter]),
        request_screen=_screen([i for i in interests if i.request_filter]),
        response_filter=_any([i.response_filter for i in interests if i.response_filter]),
        depth=depth,
        binary_sample=BINARY_SAMPLE,
        control_limit=BINARY_CONTROL_BYTES,
        nul_sample=max((i.typed_sample for i in interests), default=0),
    )


def _screen(filtering: list[HttpInterest]) -> LiteralScreen | None:
    """A screen for the union of the request filters, when every one of them declared its literals."""
    if not filtering or any(i.request_literals is None for i in filtering):
        return None
    literals = frozenset().union(*(i.request_literals or () for i in filtering))
    try:
        return LiteralScreen(literals) if literals else None
    except ValueError:  # a literal under 2 bytes, or 65,536 of them: the filters see every head
        return None


def _any(filters: list[HeadFilter]) -> HeadFilter | None:
    if len(filters) <= 1:
        return filters[0] if filters else None
    return lambda head: any(accepts(head) for accepts in filters)
