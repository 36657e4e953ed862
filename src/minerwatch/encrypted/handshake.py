"""What a TLS connection shows before its payload is encrypted: both hellos and the first records' shape.

Sans-IO: feed each direction's reassembled bytes; `facts()` says what was seen. The hellos come from the
parsers the intel detector uses (protocols/tls.py); the record walker reads only the 5-byte record headers
and skips the bodies, so its cost is O(records). A direction is done at its first application-data record
(in TLS 1.3 every record after the hellos is one) or after MAX_RECORDS records, and the whole connection
once both hellos are read and the client's side is done (the server's records decide nothing: in TLS 1.2
its second flight would cost one more segment in Python), or after MAX_BYTES, so that the flow is let go
right after its handshake. Once a side is done, the rest of each
record body it sends is declared unneeded, so that the hot path drops the server's certificate flight while
the client's second flight is awaited.

Why the record shape: in TLS 1.3 everything after the ServerHello is encrypted, but the client's first
encrypted record is its Finished (53 bytes with SHA-256, 69 with SHA-384) unless the server asked for a
certificate, in which case it carries the client's Certificate (hundreds of bytes at least). Chia peers
always authenticate both ways (chia/server/server.py: `verify_mode = ssl.CERT_REQUIRED` on both ends), a
browser or a miner almost never does. In TLS 1.2 the client's Certificate message is in clear.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

from minerwatch.protocols.tls import ClientHello, ClientHelloParser, ServerHello, ServerHelloParser, State

MAX_RECORDS = 12  # record headers kept per direction
MAX_BYTES = 32 * 1024  # flow bytes after which the handshake is over for our purposes
_RECORD = struct.Struct("!BHH")
HANDSHAKE, CHANGE_CIPHER_SPEC, APPLICATION_DATA = 22, 20, 23
TLS13 = 0x0304
FINISHED_SIZES = frozenset({53, 69})  # a TLS 1.3 Finished record: SHA-256 or SHA-384, AEAD tag, type byte
_CERTIFICATE = 11
_RECORD_TYPES = frozenset({CHANGE_CIPHER_SPEC, 21, HANDSHAKE, APPLICATION_DATA})  # 21: alert


class _RecordWalker:
    """Record headers of one direction: (content type, length), the first MAX_RECORDS of them."""

    def __init__(self) -> None:
        self.records: list[tuple[int, int]] = []
        self.first_bytes: list[bytes] = []  # the first byte of each handshake record's body (in clear)
        self.complete = False  # MAX_RECORDS kept, or the first application-data record seen
        self.failed = False
        self._skip = 0  # body bytes of the current record still to pass over
        self._header = bytearray()  # a header split across chunks

    @property
    def done(self) -> bool:
        return self.failed or self.complete

    def feed(self, data: bytes) -> int:
        """Walk the record headers in `data`. Once the shape is known, returns how many bytes after `data`
        are the rest of the current record's body: nobody reads them, so the flow layer may drop them (the
        walk goes on past such skips; if one was not made, the body read as a header ends the walk)."""
        pos, end, skip = 0, len(data), self._skip
        while pos < end:
            if skip:
                step = min(skip, end - pos)
                skip -= step
                pos += step
                continue
            if self._header or end - pos < _RECORD.size:
                take = min(_RECORD.size - len(self._header), end - pos)
                self._header += data[pos : pos + take]
                pos += take
                if len(self._header) < _RECORD.size:
                    break
                content_type, version, length = _RECORD.unpack(self._header)
                self._header.clear()
            else:
                content_type, version, length = _RECORD.unpack_from(data, pos)
                pos += _RECORD.size
            if content_type not in _RECORD_TYPES or version >> 8 != 3:
                self.failed = True
                return 0
            if not self.complete:
                self.records.append((content_type, length))
                self.first_bytes.append(data[pos : pos + 1] if content_type == HANDSHAKE else b"")
                self.complete = len(self.records) >= MAX_RECORDS or content_type == APPLICATION_DATA
            skip = length
        if not self.complete:
            self._skip = skip
            return 0
        self._skip = 0
        return skip


@dataclass(frozen=True, slots=True)
class TlsFacts:
    client_hello: ClientHello | None
    server_hello: ServerHello | None
    client_records: tuple[tuple[int, int], ...]
    server_records: tuple[tuple[int, int], ...]
    client_certificate: bool  # the client authenticated with a certificate (see the module docstring)

    @property
    def tls13(self) -> bool:
        return self.server_hello is not None and self.server_hello.version == TLS13


class TlsHandshake:
    """Both directions of one TLS connection, until the handshake's shape is known."""

    def __init__(self) -> None:
        self.client = ClientHelloParser()
        self.server = ServerHelloParser()
        self.client_hello: ClientHello | None = None
        self.server_hello: ServerHello | None = None
        self.walkers = {True: _RecordWalker(), False: _RecordWalker()}

    def feed(self, to_server: bool, data: bytes) -> int:
        """One direction's next bytes; returns how many bytes that follow them this reader does not need
        (the rest of a record body, once that side's hello and record shape are known), else 0."""
        if to_server and self.client.state is State.NEED_DATA:
            self.client_hello = self.client.feed(data) or self.client_hello
        elif not to_server and self.server.state is State.NEED_DATA:
            self.server_hello = self.server.feed(data) or self.server_hello
        skip = self.walkers[to_server].feed(data)
        parser = self.client if to_server else self.server
        return 0 if parser.state is State.NEED_DATA else skip

    def wants_more(self, bytes_seen: int) -> bool:
        if bytes_seen > MAX_BYTES or self.client.state in (State.NOT_TLS, State.FAILED):
            return False
        hellos = self.client.state is not State.NEED_DATA and self.server.state is not State.NEED_DATA
        return not (hellos and self.walkers[True].done)  # the server's records decide nothing: not awaited

    def facts(self) -> TlsFacts:
        client = self.walkers[True]
        return TlsFacts(
            self.client_hello,
            self.server_hello,
            tuple(client.records),
            tuple(self.walkers[False].records),
            _client_certificate(client, self.server_hello),
        )


def _client_certificate(client: _RecordWalker, server_hello: ServerHello | None) -> bool:
    if server_hello is None:
        return False
    if server_hello.version == TLS13:
        encrypted = [length for kind, length in client.records if kind == APPLICATION_DATA]
        return bool(encrypted) and encrypted[0] > max(FINISHED_SIZES)
    # TLS 1.2 and older: the client's second handshake record starts with its Certificate message
    records = zip(client.records, client.first_bytes, strict=True)
    later = [first for (kind, _), first in records if kind == HANDSHAKE]
    return len(later) > 1 and later[1] == bytes([_CERTIFICATE])
