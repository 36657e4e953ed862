"""The hot path: link/IP/TCP/UDP decoding, flow lookup and HTTP framing, compiled (see _fastpath.pyx and
_httpgate.pyx for why)."""

from minerwatch.decode._fastpath import MAX_RECORD_BYTES, SUPPORTED_LINKTYPES, Counters, Engine, Flow
from minerwatch.decode._httpgate import GateConfig, HttpGate, LiteralScreen

__all__ = [
    "MAX_RECORD_BYTES",
    "SUPPORTED_LINKTYPES",
    "Counters",
    "Engine",
    "Flow",
    "GateConfig",
    "HttpGate",
    "LiteralScreen",
]
