"""MS-SQL TDS login, sans-IO: Login7 (user, reversibly obfuscated password) and the server's verdict.

TDS packets carry an 8-byte header (type, status, big-endian length); a message may span packets and ends
with the EOM status bit. When PRELOGIN negotiates encryption the Login7 travels inside TLS and cannot be
read, but with encryption "off" the answer (LOGINACK or ERROR 18456) comes back in clear, so failures
still count. TLS records met where a TDS header is expected are skipped. Messages are capped at
`MAX_MESSAGE`; the parser is `done` after the login's answer.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

from minerwatch.protocols.records import RecordFramer

PRELOGIN, LOGIN7, TABULAR = 0x12, 0x10, 0x04
STATUS_EOM = 0x01
LOGIN_FAILED = 18456
MAX_MESSAGE = 64 * 1024
TOKEN_ERROR, TOKEN_INFO, TOKEN_LOGINACK, TOKEN_ENVCHANGE = 0xAA, 0xAB, 0xAD, 0xE3
_VARIABLE_TOKENS = frozenset({TOKEN_ERROR, TOKEN_INFO, TOKEN_LOGINACK, TOKEN_ENVCHANGE})
_TLS_CONTENT_TYPES = frozenset({0x14, 0x15, 0x16, 0x17})
_LOGIN_FIXED = 36  # Login7 fixed part before the (offset, length) table


@dataclass(frozen=True, slots=True)
class Login:
    username: str
    password: str
    hostname: str
    appname: str


@dataclass(frozen=True, slots=True)
class LoginAck:
    pass


@dataclass(frozen=True, slots=True)
class ServerError:
    number: int
    message: str


TdsMessage = Login | LoginAck | ServerError


def _length(header: bytes) -> int:
    if header[0] in _TLS_CONTENT_TYPES and header[1] == 3:
        return 5 + struct.unpack_from("!H", header, 3)[0]
    return struct.unpack_from("!H", header, 2)[0]


def deobfuscate(raw: bytes) -> bytes:
    """Undo Login7 password obfuscation: each byte was nibble-swapped, then XORed with 0xA5."""
    return bytes(((b ^ 0xA5) >> 4) | (((b ^ 0xA5) & 0x0F) << 4) for b in raw)


def _utf16(raw: bytes) -> str:
    return raw[:512].decode("utf-16-le", "replace")


def parse_login7(payload: bytes) -> Login | None:
    if len(payload) < _LOGIN_FIXED + 16:
        return None

    def field(index: int) -> bytes:
        offset, chars = struct.unpack_from("<HH", payload, _LOGIN_FIXED + 4 * index)
        return payload[offset : offset + 2 * chars]

    return Login(_utf16(field(1)), _utf16(deobfuscate(field(2))), _utf16(field(0)), _utf16(field(3)))


def parse_tokens(payload: bytes) -> list[TdsMessage]:
    """LOGINACK and ERROR tokens of a login answer; stops at the first token whose size it cannot tell."""
    out: list[TdsMessage] = []
    pos = 0
    while pos + 3 <= len(payload) and payload[pos] in _VARIABLE_TOKENS:
        token = payload[pos]
        size = struct.unpack_from("<H", payload, pos + 1)[0]
        body = payload[pos + 3 : pos + 3 + size]
        if token == TOKEN_LOGINACK:
            out.append(LoginAck())
        elif token == TOKEN_ERROR and len(body) >= 8:
            number = struct.unpack_from("<I", body)[0]
            chars = struct.unpack_from("<H", body, 6)[0]
            out.append(ServerError(number, _utf16(body[8 : 8 + 2 * chars])))
        pos += 3 + size
    return out


class TdsParser:
    def __init__(self) -> None:
        self.framers = {side: RecordFramer(8, _length, MAX_MESSAGE) for side in (True, False)}
        self.messages = {True: bytearray(), False: bytearray()}
        self.done = False

    def feed(self, to_server: bool, data: bytes) -> list[TdsMessage]:
        out: list[TdsMessage] = []
        for packet in self.framers[to_server].feed(data):
            if self.done:
                break
            if packet[0] in _TLS_CONTENT_TYPES and packet[1] == 3:
                continue
            message = self.messages[to_server]
            if len(message) < MAX_MESSAGE:
                message += packet[8:]
            if packet[1] & STATUS_EOM:
                out.extend(self._message(to_server, packet[0], bytes(message)))
                message.clear()
        return out

    def gap(self, to_server: bool) -> None:
        self.done = True

    def _message(self, to_server: bool, kind: int, payload: bytes) -> list[TdsMessage]:
        if to_server:
            login = parse_login7(payload) if kind == LOGIN7 else None
            return [login] if login else []
        if kind != TABULAR:
            return []
        found = parse_tokens(payload)
        self.done = any(
            isinstance(m, LoginAck) or (isinstance(m, ServerError) and m.number == LOGIN_FAILED)
            for m in found
        )
        return found
