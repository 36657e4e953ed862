"""Compile a tcpdump filter expression to classic BPF with libpcap's own compiler (pcap_compile via ctypes).

Why libpcap: its filter language is the one users know from tcpdump, and its compiler is the reference; a
second implementation would disagree on corner cases. pcap_open_dead needs no interface or privilege, and
libpcap is only loaded when --bpf is given.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import struct

from minerwatch.errors import UsageError

SNAPLEN = 262144


class _Insn(ctypes.Structure):
    _fields_ = [
        ("code", ctypes.c_ushort),
        ("jt", ctypes.c_ubyte),
        ("jf", ctypes.c_ubyte),
        ("k", ctypes.c_uint),
    ]


class _Program(ctypes.Structure):
    _fields_ = [("bf_len", ctypes.c_uint), ("bf_insns", ctypes.POINTER(_Insn))]


def _libpcap() -> ctypes.CDLL:
    name = ctypes.util.find_library("pcap")
    if name is None:
        raise UsageError("--bpf needs libpcap (Debian package libpcap0.8), which is not installed")
    lib = ctypes.CDLL(name)
    lib.pcap_open_dead.restype = ctypes.c_void_p
    lib.pcap_open_dead.argtypes = [ctypes.c_int, ctypes.c_int]
    lib.pcap_compile.argtypes = [
        ctypes.c_void_p,
        ctypes.POINTER(_Program),
        ctypes.c_char_p,
        ctypes.c_int,
        ctypes.c_uint32,
    ]
    lib.pcap_geterr.restype = ctypes.c_char_p
    lib.pcap_geterr.argtypes = [ctypes.c_void_p]
    lib.pcap_freecode.argtypes = [ctypes.POINTER(_Program)]
    lib.pcap_close.argtypes = [ctypes.c_void_p]
    return lib


def compile_filter(expression: str, linktype: int) -> bytes:
    """The filter as an array of struct sock_filter (8 bytes per instruction), ready for SO_ATTACH_FILTER.

    A filter libpcap rejects is a UsageError with libpcap's message.
    """
    lib = _libpcap()
    handle = lib.pcap_open_dead(linktype, SNAPLEN)
    if not handle:
        raise UsageError(f"libpcap cannot compile filters for link type {linktype}")
    program = _Program()
    try:
        if lib.pcap_compile(handle, ctypes.byref(program), expression.encode(), 1, 0xFFFFFFFF) != 0:
            message = (lib.pcap_geterr(handle) or b"").decode(errors="replace")
            raise UsageError(f"--bpf: {message or 'cannot compile the filter'}")
        try:
            return b"".join(
                struct.pack("=HBBI", i.code, i.jt, i.jf, i.k) for i in program.bf_insns[: program.bf_len]
            )
        finally:
            lib.pcap_freecode(ctypes.byref(program))
    finally:
        lib.pcap_close(handle)
