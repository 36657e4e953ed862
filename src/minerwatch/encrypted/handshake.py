"""What a TLS connection shows before its payload is encrypted: both hellos and the client's first records.

The ClientHello is read in Python, with the parser the intel detector uses (protocols/tls.py), from the
flow's first segments; the engine reads the rest in compiled code in the segments that follow, the flow
inspected or bypassed (decode/_tlsrecords.pyx: TlsRecords): the ServerHello's bytes, parsed here when the
facts are asked for, and the shape of the client's first records (content type, length, the first body
byte of handshake records). `facts` puts them together.

Why the record shape: in TLS 1.3 everything after the ServerHello is encrypted, but the client's first
encrypted record is its Finished (53 bytes with SHA-256, 69 with SHA-384) unless the server asked for a
certificate, in which case it carries the client's Certificate (hundreds of bytes at least). Chia peers
always authenticate both ways (chia/server/server.py: `verify_mode = ssl.CERT_REQUIRED` on both ends), a
browser or a miner almost never does. In TLS 1.2 the client's Certificate message is in clear.
"""

from __future__ import annotations

from dataclasses import dataclass

from minerwatch.decode._tlsrecords import TlsRecords
from minerwatch.protocols.tls import ClientHello, ServerHello, TlsParseError, parse_server_hello

MAX_BYTES = 32 * 1024  # flow bytes after which the ClientHello is not awaited any more
TLS13 = 0x0304


@dataclass(frozen=True, slots=True)
class TlsFacts:
    client_hello: ClientHello | None
    server_hello: ServerHello | None
    client_records: tuple[tuple[int, int], ...]  # (content type, length) of the client's first records
    client_certificate: bool  # the client authenticated with a certificate (see the module docstring)

    @property
    def tls13(self) -> bool:
        return self.server_hello is not None and self.server_hello.version == TLS13


def facts(client_hello: ClientHello | None, records: TlsRecords) -> TlsFacts:
    """What is known of the connection now: its ClientHello, and what the engine read of the rest."""
    server = _server_hello(records.server_hello)
    certificate = server is not None and records.client_certificate(server.version == TLS13)
    return TlsFacts(client_hello, server, records.records, certificate)


def _server_hello(body: bytes | None) -> ServerHello | None:
    if body is None:
        return None
    try:
        return parse_server_hello(body)
    except TlsParseError:
        return None
