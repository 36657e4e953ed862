"""Types of the compiled DNS message walk (_dns.pyx) for the type checker; the .pyx rules."""

from minerwatch.protocols.dns import DnsMessage

def parse_message(data: bytes | bytearray | memoryview) -> DnsMessage: ...
