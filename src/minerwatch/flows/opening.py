"""What a TCP stream opens with, decided once per flow, so that stream factories that cannot take such a
flow are never asked (a dispatch table, in the spirit of nDPI's guess from the first packet).

Most flows on a real network open with a TLS record or a whole HTTP request; without this table every
registered factory ran its own sniffing on each of them. A factory declares the openings it can take
(flows/analyzers.py, StreamFactory.openings; ANY when it must see every flow). A declaration is a promise
that the factory returns None for every other opening: the tests hold every shipped factory to it.
"""

from __future__ import annotations

import enum
import re

# A whole request line (token method, target without spaces or controls, version, line end) or the start
# of a status line: certain enough that the shared HTTP parse may have the flow to itself.
HTTP_START = re.compile(
    rb"[!#$%&'*+.^_`|~0-9A-Za-z-]{1,20} [^\x00-\x20\x7f]+ HTTP/\d\.\d\r?\n|HTTP/\d\.\d \d{3}"
)
TLS_CONTENT_TYPES = range(0x14, 0x18)  # change_cipher_spec, alert, handshake, application_data
TLS_MAJOR_VERSION = 0x03
SSH_BANNER = b"SSH-"


class Opening(enum.IntFlag):
    TLS = enum.auto()  # a TLS record header (any record: a capture may start mid-connection)
    SSH = enum.auto()  # an SSH identification string
    HTTP = enum.auto()  # a whole HTTP/1.x request line or a status line (see HTTP_START)
    OTHER = enum.auto()  # anything else, including HTTP cut short or picked up mid-stream
    ANY = TLS | SSH | HTTP | OTHER


KINDS = (Opening.TLS, Opening.SSH, Opening.HTTP, Opening.OTHER)
# What a factory that must see random or port-chosen bytes declares: a stream that opens with a whole
# HTTP request line is the HTTP parse's (and the compiled gate's) alone.
NOT_HTTP = Opening.TLS | Opening.SSH | Opening.OTHER


def opening(first: bytes) -> Opening:
    """The kind of a stream whose first in-order bytes are `first` (leading CRLFs before HTTP allowed)."""
    if len(first) >= 2 and first[1] == TLS_MAJOR_VERSION and first[0] in TLS_CONTENT_TYPES:
        return Opening.TLS
    if first.startswith(SSH_BANNER):
        return Opening.SSH
    if HTTP_START.match(first.lstrip(b"\r\n")) is not None:
        return Opening.HTTP
    return Opening.OTHER
