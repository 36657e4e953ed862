"""PostgreSQL startup and authentication, sans-IO: the user a client logs in as and the server's verdict.

The client's first message has no type byte (length, protocol code); everything after is a type byte and
a length. An SSLRequest answered 'S' (or a GSSENCRequest answered 'G') means encryption follows: the
parser is then `done`, as it is after AuthenticationOk or an ErrorResponse. Only a cleartext password
(the server asked for one) is exposed.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

from minerwatch.protocols.records import RecordFramer

PROTOCOL_3 = 196608
SSL_REQUEST = 80877103
GSSENC_REQUEST = 80877104
CANCEL_REQUEST = 80877102
AUTH_OK, AUTH_CLEARTEXT = 0, 3
INVALID_PASSWORD = "28P01"
INVALID_AUTHORIZATION = "28000"
ENCRYPTION_REQUESTS = (SSL_REQUEST, GSSENC_REQUEST)


@dataclass(frozen=True, slots=True)
class Startup:
    user: str
    database: str | None


@dataclass(frozen=True, slots=True)
class PasswordSent:
    cleartext: str | None  # only when the server asked for a cleartext password


@dataclass(frozen=True, slots=True)
class AuthRequest:
    method: int  # 0 ok, 3 cleartext, 5 md5, 10 SASL...


@dataclass(frozen=True, slots=True)
class ServerError:
    sqlstate: str
    message: str


@dataclass(frozen=True, slots=True)
class TlsStarted:
    pass


PostgresMessage = Startup | PasswordSent | AuthRequest | ServerError | TlsStarted


def typed_start(data: bytes) -> int | None:
    """Where a client's typed messages (queries) begin in its first bytes, past the untyped opening.

    A real client (libpq's default sslmode=prefer) may open with an SSLRequest or a GSSENCRequest, and on
    the server's 'N' go on in clear with another request or the startup message; so requests are skipped
    until the startup message, after which typed messages follow. None when none can: after a
    CancelRequest, or when a request is followed by anything else (a TLS or GSSAPI token: the server said
    'S' or 'G' and the rest is ciphertext). Bytes that do not open with an untyped message are read as
    typed from the start (a capture that began mid-session).
    """
    pos = 0
    while len(data) - pos >= 8:
        length, code = struct.unpack_from("!II", data, pos)
        if code in ENCRYPTION_REQUESTS and length == 8:
            pos += 8
        elif code == PROTOCOL_3 and length >= 8:
            return pos + length
        elif code == CANCEL_REQUEST or pos:
            return None
        else:
            return 0
    return pos


def went_encrypted(data: bytes) -> bool:
    """Did the client's first bytes ask for encryption and go on in ciphertext (the server said 'S'/'G')?"""
    return _untyped_code(data) in ENCRYPTION_REQUESTS and typed_start(data) is None


def opens_login(data: bytes) -> bool:
    """Do a client's first bytes open a login (a startup message, or an encryption request before one)?"""
    return _untyped_code(data) in (PROTOCOL_3, *ENCRYPTION_REQUESTS)


def _untyped_code(data: bytes) -> int:
    return struct.unpack_from("!I", data, 4)[0] if len(data) >= 8 else 0


def _untyped_length(header: bytes) -> int:
    return struct.unpack_from("!I", header)[0]


def _typed_length(header: bytes) -> int:
    return 1 + struct.unpack_from("!I", header, 1)[0]


def _text(raw: bytes) -> str:
    return raw[:256].decode("utf-8", "replace")


class PostgresParser:
    def __init__(self) -> None:
        self.client = RecordFramer(4, _untyped_length, 16 * 1024)
        self.server = RecordFramer(5, _typed_length)
        self.auth_method: int | None = None
        self.ssl_asked = False
        self.done = False

    def feed(self, to_server: bool, data: bytes) -> list[PostgresMessage]:
        if self.done or not data:
            return []
        if not to_server and self.ssl_asked:
            return self._ssl_answer(data)
        out: list[PostgresMessage] = []
        framer = self.client if to_server else self.server
        for record in framer.feed(data):
            message = self._client(record) if to_server else self._server(record)
            if message is not None:
                out.append(message)
            if self.done or self.ssl_asked:
                break
        return out

    def gap(self, to_server: bool) -> None:
        self.done = True

    def _ssl_answer(self, data: bytes) -> list[PostgresMessage]:
        self.ssl_asked = False
        if data[:1] in (b"S", b"G"):  # TLS or GSSAPI encryption accepted
            self.done = True
            return [TlsStarted()]
        return self.feed(False, data[1:]) if len(data) > 1 else []

    def _client(self, record: bytes) -> PostgresMessage | None:
        if self.client.header_size == 5:
            if record[:1] == b"p":
                cleartext = self.auth_method == AUTH_CLEARTEXT
                return PasswordSent(_text(record[5:].rstrip(b"\0")) if cleartext else None)
            return None
        code = _untyped_code(record)
        if code in ENCRYPTION_REQUESTS:
            self.ssl_asked = True
            return None
        if code != PROTOCOL_3:
            self.done = True
            return None
        self.client = RecordFramer(5, _typed_length, 16 * 1024)
        fields = record[8:].split(b"\0")
        params = dict(zip(fields[0::2], fields[1::2], strict=False))
        database = params.get(b"database")
        return Startup(_text(params.get(b"user", b"")), _text(database) if database is not None else None)

    def _server(self, record: bytes) -> PostgresMessage | None:
        kind = record[:1]
        if kind == b"R" and len(record) >= 9:
            self.auth_method = struct.unpack_from("!I", record, 5)[0]
            self.done = self.auth_method == AUTH_OK
            return AuthRequest(self.auth_method)
        if kind == b"E":
            fields = {f[:1]: f[1:] for f in record[5:].split(b"\0") if f}
            self.done = True
            return ServerError(_text(fields.get(b"C", b"")), _text(fields.get(b"M", b"")))
        return None
