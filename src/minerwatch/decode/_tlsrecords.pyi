"""Types of the compiled TLS record walker (_tlsrecords.pyx) for the type checker; the .pyx rules."""

RECORDS: int

class ClientRecords:
    @property
    def done(self) -> bool: ...
    @property
    def failed(self) -> bool: ...
    @property
    def records(self) -> tuple[tuple[int, int], ...]: ...
    def client_certificate(self, tls13: bool) -> bool: ...

UNWALKED: ClientRecords
