"""libpcap through ctypes: the filter compiler (capture/bpf.py) and the fallback live reader
(capture/pcap_live.py) share one declaration of the few functions they call.

Why ctypes and not a binding: the maintained Python bindings (pcapy-ng, python-libpcap) want a compiler and
headers to install, and hand every packet to Python as an object; minerwatch needs a dozen calls, and hands
packets to the compiled engine in batches. libpcap is loaded only when one of them is used.
"""

from __future__ import annotations

import ctypes
import ctypes.util
from functools import cache

from minerwatch.errors import UsageError

SNAPLEN = 262144
PCAP_NETMASK_UNKNOWN = 0xFFFFFFFF
PCAP_TSTAMP_PRECISION_NANO = 1
PCAP_ERROR_NO_SUCH_DEVICE = -5
PCAP_ERROR_PERM_DENIED = -8


class Insn(ctypes.Structure):
    _fields_ = [
        ("code", ctypes.c_ushort),
        ("jt", ctypes.c_ubyte),
        ("jf", ctypes.c_ubyte),
        ("k", ctypes.c_uint),
    ]


class Program(ctypes.Structure):
    _fields_ = [("bf_len", ctypes.c_uint), ("bf_insns", ctypes.POINTER(Insn))]


class PacketHeader(ctypes.Structure):
    """struct pcap_pkthdr: a struct timeval (microseconds, or nanoseconds in a nanosecond handle), the
    captured and the original length."""

    _fields_ = [
        ("sec", ctypes.c_long),
        ("frac", ctypes.c_long),
        ("caplen", ctypes.c_uint32),
        ("len", ctypes.c_uint32),
    ]


class Stat(ctypes.Structure):
    _fields_ = [("ps_recv", ctypes.c_uint), ("ps_drop", ctypes.c_uint), ("ps_ifdrop", ctypes.c_uint)]


Handler = ctypes.CFUNCTYPE(
    None, ctypes.c_void_p, ctypes.POINTER(PacketHeader), ctypes.POINTER(ctypes.c_ubyte)
)

_SIGNATURES: dict[str, tuple[object, list[object]]] = {
    "pcap_open_dead": (ctypes.c_void_p, [ctypes.c_int, ctypes.c_int]),
    "pcap_create": (ctypes.c_void_p, [ctypes.c_char_p, ctypes.c_char_p]),
    "pcap_set_snaplen": (ctypes.c_int, [ctypes.c_void_p, ctypes.c_int]),
    "pcap_set_promisc": (ctypes.c_int, [ctypes.c_void_p, ctypes.c_int]),
    "pcap_set_timeout": (ctypes.c_int, [ctypes.c_void_p, ctypes.c_int]),
    "pcap_set_buffer_size": (ctypes.c_int, [ctypes.c_void_p, ctypes.c_int]),
    "pcap_set_tstamp_precision": (ctypes.c_int, [ctypes.c_void_p, ctypes.c_int]),
    "pcap_get_tstamp_precision": (ctypes.c_int, [ctypes.c_void_p]),
    "pcap_activate": (ctypes.c_int, [ctypes.c_void_p]),
    "pcap_datalink": (ctypes.c_int, [ctypes.c_void_p]),
    "pcap_compile": (
        ctypes.c_int,
        [ctypes.c_void_p, ctypes.POINTER(Program), ctypes.c_char_p, ctypes.c_int, ctypes.c_uint32],
    ),
    "pcap_setfilter": (ctypes.c_int, [ctypes.c_void_p, ctypes.POINTER(Program)]),
    "pcap_freecode": (None, [ctypes.POINTER(Program)]),
    "pcap_setnonblock": (ctypes.c_int, [ctypes.c_void_p, ctypes.c_int, ctypes.c_char_p]),
    "pcap_get_selectable_fd": (ctypes.c_int, [ctypes.c_void_p]),
    "pcap_dispatch": (ctypes.c_int, [ctypes.c_void_p, ctypes.c_int, Handler, ctypes.c_void_p]),
    "pcap_stats": (ctypes.c_int, [ctypes.c_void_p, ctypes.POINTER(Stat)]),
    "pcap_geterr": (ctypes.c_char_p, [ctypes.c_void_p]),
    "pcap_close": (None, [ctypes.c_void_p]),
}


@cache
def libpcap() -> ctypes.CDLL:
    """The system's libpcap with the signatures above; a UsageError when it is not installed."""
    name = ctypes.util.find_library("pcap")
    if name is None:
        raise UsageError("this needs libpcap (Debian package libpcap0.8), which is not installed")
    lib = ctypes.CDLL(name)
    for function, (restype, argtypes) in _SIGNATURES.items():
        declared = getattr(lib, function)
        declared.restype, declared.argtypes = restype, argtypes
    return lib


def error(handle: int) -> str:
    """libpcap's last message for `handle`."""
    return (libpcap().pcap_geterr(handle) or b"").decode(errors="replace")
