"""MySQL/MariaDB connection phase, sans-IO: the login a client asks for and what the server answers.

Only the connection phase is parsed (greeting, handshake response, OK/ERR); the parser is `done` after the
first OK or ERR that answers the login, or when the client switches to TLS. Packets are a 3-byte
little-endian length and a sequence number; bounded by records.RecordFramer.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

from minerwatch.protocols.records import RecordFramer

CLIENT_PROTOCOL_41 = 0x0200
CLIENT_SSL = 0x0800
ER_ACCESS_DENIED = 1045
ER_ACCESS_DENIED_NO_PASSWORD = 1698
LOGIN_DENIED = frozenset({ER_ACCESS_DENIED, ER_ACCESS_DENIED_NO_PASSWORD})
_HEADER = 4
_RESPONSE_41_FIXED = 32  # capabilities, max packet, charset, 23 reserved bytes


@dataclass(frozen=True, slots=True)
class Greeting:
    server_version: str


@dataclass(frozen=True, slots=True)
class LoginRequest:
    username: str


@dataclass(frozen=True, slots=True)
class TlsRequested:
    pass


@dataclass(frozen=True, slots=True)
class ServerOk:
    pass


@dataclass(frozen=True, slots=True)
class ServerError:
    code: int
    message: str


MysqlMessage = Greeting | LoginRequest | TlsRequested | ServerOk | ServerError


def _length(header: bytes) -> int:
    return _HEADER + int.from_bytes(header[:3], "little")


def _cstring(data: bytes, start: int) -> str:
    end = data.find(b"\0", start)
    return data[start : end if end >= 0 else len(data)][:256].decode("utf-8", "replace")


class MysqlParser:
    def __init__(self) -> None:
        self.framers = {True: RecordFramer(_HEADER, _length), False: RecordFramer(_HEADER, _length)}
        self.login_sent = False
        self.done = False

    def feed(self, to_server: bool, data: bytes) -> list[MysqlMessage]:
        if self.done:
            return []
        out: list[MysqlMessage] = []
        for record in self.framers[to_server].feed(data):
            message = self._client(record[_HEADER:]) if to_server else self._server(record[_HEADER:])
            if message is not None:
                out.append(message)
            if self.done:
                break
        return out

    def gap(self, to_server: bool) -> None:
        self.done = True

    def _client(self, payload: bytes) -> MysqlMessage | None:
        if self.login_sent or len(payload) < 4:
            return None
        capabilities = struct.unpack_from("<I", payload)[0]
        if capabilities & CLIENT_PROTOCOL_41:
            if capabilities & CLIENT_SSL and len(payload) == _RESPONSE_41_FIXED:
                self.done = True
                return TlsRequested()
            start = _RESPONSE_41_FIXED
        else:
            start = 5  # HandshakeResponse320: 2-byte capabilities, 3-byte max packet size
        self.login_sent = True
        return LoginRequest(_cstring(payload, start))

    def _server(self, payload: bytes) -> MysqlMessage | None:
        if not payload:
            return None
        kind = payload[0]
        if kind == 10 and not self.login_sent:
            return Greeting(_cstring(payload, 1))
        if kind == 0xFF and len(payload) >= 3:
            self.done = self.done or self.login_sent
            code = struct.unpack_from("<H", payload, 1)[0]
            text = payload[9:] if payload[3:4] == b"#" else payload[3:]
            return ServerError(code, text[:256].decode("utf-8", "replace"))
        if kind == 0x00 and self.login_sent:
            self.done = True
            return ServerOk()
        return None
