"""Types of the compiled ClientHello walk (_tls.pyx) for the type checker; the .pyx rules."""

from minerwatch.protocols.tls import ClientHello

def parse_client_hello(body: bytes) -> ClientHello: ...
