"""RDP connection negotiation (MS-RDPBCGR 2.2.1.1/2.2.1.2), sans-IO: X.224 Connection Request and Confirm.

The request carries the routing cookie ("Cookie: mstshash=<user>", which brute-force tools fill with the
user they try) and the security protocols the client asks for; the confirm says which one the server chose
(HYBRID = CredSSP/NLA) or why it refused. What follows is TLS: the parser then reports only the size of each
chunk (`Secured`), so that a caller can judge the session by its shape. TPKT framing (RFC 1006) is
bounded by records.RecordFramer; a refused negotiation or lost framing makes the parser `done`.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

from minerwatch.protocols.records import RecordFramer

X224_CONNECTION_REQUEST, X224_CONNECTION_CONFIRM = 0xE0, 0xD0
NEG_REQUEST, NEG_RESPONSE, NEG_FAILURE = 1, 2, 3
PROTOCOL_RDP, PROTOCOL_SSL, PROTOCOL_HYBRID, PROTOCOL_RDSTLS, PROTOCOL_HYBRID_EX = 0, 1, 2, 4, 8
_COOKIE = b"Cookie: mstshash="
_X224_FIXED = 7  # length indicator, code, dst ref, src ref, class


@dataclass(frozen=True, slots=True)
class ConnectionRequest:
    cookie: str | None  # the mstshash value: usually the user name tried
    requested: int | None  # PROTOCOL_* flags, None without an RDP_NEG_REQ


@dataclass(frozen=True, slots=True)
class ConnectionConfirm:
    selected: int | None  # PROTOCOL_* value, None without an RDP_NEG_RSP
    failure: int | None  # RDP_NEG_FAILURE code


@dataclass(frozen=True, slots=True)
class Secured:
    size: int  # bytes of one chunk after the negotiation (TLS, CredSSP, the session)


RdpMessage = ConnectionRequest | ConnectionConfirm | Secured


def _tpkt_length(header: bytes) -> int | None:
    return struct.unpack_from("!H", header, 2)[0] if header[0] == 3 else None


def _negotiation(data: bytes, start: int) -> tuple[int, int] | None:
    """(type, value) of the 8-byte RDP_NEG_* structure at `start`, if any (correlation info may follow)."""
    if len(data) < start + 8 or data[start] not in (NEG_REQUEST, NEG_RESPONSE, NEG_FAILURE):
        return None
    return data[start], struct.unpack_from("<I", data, start + 4)[0]


class RdpParser:
    def __init__(self) -> None:
        self.framers = {True: RecordFramer(4, _tpkt_length, 4096), False: RecordFramer(4, _tpkt_length, 4096)}
        self.refused = False
        self.secured = False

    @property
    def done(self) -> bool:
        return self.refused or any(framer.broken for framer in self.framers.values())

    def feed(self, to_server: bool, data: bytes) -> list[RdpMessage]:
        if self.secured:
            return [Secured(len(data))] if data else []
        out: list[RdpMessage] = []
        for record in self.framers[to_server].feed(data):
            x224 = record[4:]
            if len(x224) < _X224_FIXED:
                continue
            code, variable = x224[1] & 0xF0, x224[_X224_FIXED : 1 + x224[0]]
            # A routing token or cookie ("Cookie: ...\r\n") comes first, then the negotiation structure.
            token_end = variable.find(b"\r\n") if variable.startswith(b"Cookie: ") else -1
            negotiation = _negotiation(variable, token_end + 2 if token_end >= 0 else 0)
            if to_server and code == X224_CONNECTION_REQUEST:
                named = token_end >= 0 and variable.startswith(_COOKIE)
                cookie = variable[len(_COOKIE) : token_end] if named else None
                out.append(
                    ConnectionRequest(
                        cookie.decode("utf-8", "replace")[:256] if cookie is not None else None,
                        negotiation[1] if negotiation and negotiation[0] == NEG_REQUEST else None,
                    )
                )
            elif not to_server and code == X224_CONNECTION_CONFIRM:
                kind, value = negotiation or (None, None)
                refused = value if kind == NEG_FAILURE else None
                out.append(ConnectionConfirm(value if kind == NEG_RESPONSE else None, refused))
                self.refused, self.secured = refused is not None, refused is None
                break
        return out

    def gap(self, to_server: bool) -> None:
        self.framers[to_server].gap()
