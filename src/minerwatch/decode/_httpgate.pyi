"""Types of the compiled HTTP gate (_httpgate.pyx) for the type checker; the .pyx is the reference."""

from collections.abc import Callable, Iterable

Buffer = bytes | bytearray | memoryview
HeadFilter = Callable[[bytes], bool]

CONSUMED: int
HANDOVER: int
HANDOVER_BEFORE: int
BYPASS: int
MAX_HEAD: int
MAX_UNANSWERED: int
MAX_FIELDS: int

def starts_with_request_line(payload: Buffer) -> bool: ...

class LiteralScreen:
    def __init__(self, literals: Iterable[bytes]) -> None: ...
    def screens_out(self, head: Buffer) -> bool: ...

class GateConfig:
    request_headers: tuple[bytes, ...]
    response_headers: tuple[bytes, ...]
    statuses: frozenset[int]
    text_bodies: bool
    typed_bodies: bool
    magics: tuple[tuple[int, bytes], ...]
    request_filter: HeadFilter | None
    request_screen: LiteralScreen | None
    response_filter: HeadFilter | None
    depth: int
    binary_sample: int
    control_limit: int
    nul_sample: int
    def __init__(
        self,
        request_headers: Iterable[bytes] = (),
        response_headers: Iterable[bytes] = (),
        statuses: Iterable[int] = ...,
        text_bodies: bool = False,
        typed_bodies: bool = False,
        magics: Iterable[tuple[int, bytes]] = (),
        request_filter: HeadFilter | None = None,
        response_filter: HeadFilter | None = None,
        depth: int = ...,
        binary_sample: int = 512,
        control_limit: int = 4,
        nul_sample: int = 0,
        request_screen: LiteralScreen | None = None,
    ) -> None: ...

class HttpGate:
    parsed: int
    messages: int
    bodies_skipped: int
    retransmitted_bytes: int
    def __init__(self, config: GateConfig, client_seq: int, server_isn: int | None = None) -> None: ...
    def feed(self, to_server: bool, seq: int, flags: int, payload: Buffer) -> int: ...
    def pending(self) -> tuple[tuple[int, bytes], tuple[int, bytes] | None]: ...
    def in_flight(self) -> int: ...
    def messages_read(self, handover: bool) -> int: ...
