"""The hot path: link/IP/TCP/UDP decoding and flow lookup, compiled (see _fastpath.pyx for why)."""

from minerwatch.decode._fastpath import SUPPORTED_LINKTYPES, Counters, Engine, Flow

__all__ = ["SUPPORTED_LINKTYPES", "Counters", "Engine", "Flow"]
