"""Compile a tcpdump filter expression to classic BPF with libpcap's own compiler (pcap_compile via ctypes).

Why libpcap: its filter language is the one users know from tcpdump, and its compiler is the reference; a
second implementation would disagree on corner cases. pcap_open_dead needs no interface or privilege, and
libpcap is only loaded when --bpf is given.
"""

from __future__ import annotations

import ctypes
import struct
from collections.abc import Iterator
from contextlib import contextmanager

from minerwatch.capture.libpcap import PCAP_NETMASK_UNKNOWN, SNAPLEN, Program, error, libpcap
from minerwatch.errors import UsageError


def compile_filter(expression: str, linktype: int) -> bytes:
    """The filter as an array of struct sock_filter (8 bytes per instruction), ready for SO_ATTACH_FILTER.

    A filter libpcap rejects is a UsageError with libpcap's message.
    """
    lib = libpcap()
    handle = lib.pcap_open_dead(linktype, SNAPLEN)
    if not handle:
        raise UsageError(f"libpcap cannot compile filters for link type {linktype}")
    try:
        with compiled(handle, expression) as program:
            return b"".join(
                struct.pack("=HBBI", i.code, i.jt, i.jf, i.k) for i in program.bf_insns[: program.bf_len]
            )
    finally:
        lib.pcap_close(handle)


@contextmanager
def compiled(handle: int, expression: str) -> Iterator[Program]:
    """`expression` compiled by libpcap for `handle`'s link type, freed on exit; a UsageError with
    libpcap's message when it does not compile."""
    lib = libpcap()
    program = Program()
    if lib.pcap_compile(handle, ctypes.byref(program), expression.encode(), 1, PCAP_NETMASK_UNKNOWN) != 0:
        raise UsageError(f"--bpf: {error(handle) or 'cannot compile the filter'}")
    try:
        yield program
    finally:
        lib.pcap_freecode(ctypes.byref(program))
