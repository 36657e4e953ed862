"""What a TLS connection shows before its payload is encrypted: both hellos and the client's first records.

Sans-IO: `TlsHellos` takes each direction's reassembled bytes until both hellos are read (with the parsers
the intel detector uses, protocols/tls.py), or after MAX_BYTES of the flow, so that the flow is let go
right after the ServerHello. The shape of the client's first records (content type, length, the first
body byte of handshake records) is read by the engine, compiled, in every segment of the flow that
follows (decode/_tlsrecords.pyx: ClientRecords); `facts` puts the two together.

Why the record shape: in TLS 1.3 everything after the ServerHello is encrypted, but the client's first
encrypted record is its Finished (53 bytes with SHA-256, 69 with SHA-384) unless the server asked for a
certificate, in which case it carries the client's Certificate (hundreds of bytes at least). Chia peers
always authenticate both ways (chia/server/server.py: `verify_mode = ssl.CERT_REQUIRED` on both ends), a
browser or a miner almost never does. In TLS 1.2 the client's Certificate message is in clear. That
flight comes a round trip after the hellos: read in Python, it kept every TLS connection in Python for it.
"""

from __future__ import annotations

from dataclasses import dataclass

from minerwatch.decode._tlsrecords import ClientRecords
from minerwatch.protocols.tls import ClientHello, ClientHelloParser, ServerHello, ServerHelloParser, State

MAX_BYTES = 32 * 1024  # flow bytes after which the hellos are not awaited any more
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


class TlsHellos:
    """Both hellos of one TLS connection."""

    def __init__(self) -> None:
        self.client = ClientHelloParser()
        self.server = ServerHelloParser()
        self.client_hello: ClientHello | None = None
        self.server_hello: ServerHello | None = None

    def feed(self, to_server: bool, data: bytes) -> None:
        """One direction's next bytes."""
        if to_server and self.client.state is State.NEED_DATA:
            self.client_hello = self.client.feed(data)
        elif not to_server and self.server.state is State.NEED_DATA:
            self.server_hello = self.server.feed(data)

    def wants_more(self, bytes_seen: int) -> bool:
        if bytes_seen > MAX_BYTES or self.client.state in (State.NOT_TLS, State.FAILED):
            return False
        return State.NEED_DATA in (self.client.state, self.server.state)


def facts(hellos: TlsHellos, records: ClientRecords) -> TlsFacts:
    """What is known of the connection now: its hellos, and the client's records the engine walked."""
    server = hellos.server_hello
    certificate = server is not None and records.client_certificate(server.version == TLS13)
    return TlsFacts(hellos.client_hello, server, records.records, certificate)
