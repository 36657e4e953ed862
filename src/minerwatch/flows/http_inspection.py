"""The HTTP inspection of an analysis as one object: the parse every HTTP consumer shares (flows/http.py)
and, in front of it, the compiled gate (decode/_httpgate.pyx) configured from the consumers' declared
interests (flows/http_interest.py).

The inspector and the engine receive it at construction; nothing else decides whether HTTP is gated.
"""

from __future__ import annotations

from collections.abc import Sequence

from minerwatch.decode import GateConfig
from minerwatch.flows.analyzers import StreamFactory
from minerwatch.flows.http import BodyReaders, HttpConsumer, HttpStats, HttpStreamAnalyzer
from minerwatch.flows.http_interest import HttpInterest, gate_config
from minerwatch.flows.info import FlowInfo
from minerwatch.flows.opening import HTTP_START, SSH_BANNER, Opening
from minerwatch.protocols.http import looks_like_http_request, looks_like_http_response


class HttpInspection:
    """`gate`: frame the HTTP no consumer declared an interest in with the compiled gate (off: every HTTP
    connection through the Python parser; the tests compare both)."""

    def __init__(self, consumers: Sequence[HttpConsumer], depth: int, gate: bool = True) -> None:
        self.consumers = list(consumers)
        self.depth = depth
        self.stats = HttpStats()
        self.gate = gate
        self.config: GateConfig | None = None
        self.readers: BodyReaders = []
        self.rebuild_gate()
        # OTHER: a request cut short in its first segment is still HTTP
        self.factory = StreamFactory(self._make, Opening.HTTP | Opening.OTHER)

    def rebuild_gate(self) -> None:
        """The gate's configuration and the body choices from the consumers' interests as they are now
        (rules reloaded: for connections parsed from now on)."""
        interests = [declared_interest(c) for c in self.consumers]
        self.config = gate_config(interests, self.depth) if self.gate else None
        self.readers = [(c, i.bodies) for c, i in zip(self.consumers, interests, strict=True) if i.bodies]

    def analyzer(self, info: FlowInfo) -> HttpStreamAnalyzer:
        """The Python parse of one connection (from its start, or from where the gate hands it over)."""
        return HttpStreamAnalyzer(info, self.consumers, self.readers, self.depth, self.stats)

    def _make(self, info: FlowInfo, first: bytes, to_server: bool) -> HttpStreamAnalyzer | None:
        """For flows whose first bytes are an HTTP request (or a response, if picked up late)."""
        if first.startswith(SSH_BANNER):  # not a method, even cut short
            return None
        if (
            HTTP_START.match(first) is not None  # the usual case in one compiled match (implies the next)
            or looks_like_http_request(first)
            or looks_like_http_response(first)
        ):
            return self.analyzer(info)
        return None


def declared_interest(consumer: HttpConsumer) -> HttpInterest:
    """A consumer's declared interest; one without any is a mistake in its code, not a reason to let
    every message through: the type checker catches it in typed code, this check in the rest."""
    interest = getattr(consumer, "interest", None)  # a check of the declaration, not a hook
    if not isinstance(interest, HttpInterest):
        raise TypeError(
            f"HTTP consumer {type(consumer).__name__} declares no interest (an HttpInterest);"
            " HttpInterest(every_message=True) reads every message and turns the gate off"
        )
    return interest
