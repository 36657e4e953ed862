"""The hot path: link/IP/TCP/UDP decoding and flow lookup, compiled (see _fastpath.pyx for why)."""

from minerwatch.decode._fastpath import MAX_RECORD_BYTES, SUPPORTED_LINKTYPES, Counters, Engine, Flow

__all__ = ["MAX_RECORD_BYTES", "SUPPORTED_LINKTYPES", "Counters", "Engine", "Flow"]
