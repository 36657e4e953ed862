"""Read a capture file in fixed-size chunks and hand its records to the compiled engine.

Memory does not grow with capture length: at most one chunk plus one partial record is held. Truncated
files and corrupt record headers end the file with a counted, one-line warning, never a traceback.
"""

from __future__ import annotations

import struct
import sys
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from minerwatch.decode import MAX_RECORD_BYTES, SUPPORTED_LINKTYPES, Engine
from minerwatch.errors import InputError

CHUNK = 1 << 20  # read at a time: a larger buffer (4 MiB until issue 12) costs peak RSS and saves nothing
PCAP_MAGICS = {
    b"\xd4\xc3\xb2\xa1": (False, False),  # little-endian, microseconds
    b"\xa1\xb2\xc3\xd4": (True, False),  # big-endian, microseconds
    b"\x4d\x3c\xb2\xa1": (False, True),  # little-endian, nanoseconds
    b"\xa1\xb2\x3c\x4d": (True, True),  # big-endian, nanoseconds
}
PCAPNG_SHB = b"\x0a\x0d\x0d\x0a"
GZIP_MAGIC = b"\x1f\x8b"


@dataclass
class CaptureStats:
    """Per-file facts for the summary: what was read and what could not be."""

    path: str
    format: str = ""
    bytes_read: int = 0
    warnings: list[str] = field(default_factory=list)


class RawInput(Protocol):
    """A binary file, pipe or decompressing reader (typing.BinaryIO does not declare readinto)."""

    def read(self, n: int = -1, /) -> bytes: ...

    def readinto(self, buffer: memoryview, /) -> int | None: ...

    def close(self) -> None: ...


class Source:
    """A capture's raw bytes, read forward only, so that FIFOs, pipes and standard input work like files:
    the bytes taken to recognise the format are handed back first, and a count of the bytes taken stands
    in for tell() (which a pipe does not have). A failed read is an InputError naming the capture."""

    def __init__(self, raw: RawInput, name: str, own: bool) -> None:
        self.raw, self.name, self._own = raw, name, own
        self._pending = b""
        self._taken = 0

    def peek(self, n: int) -> bytes:
        """The first `n` bytes (fewer at the end), to be read again; only before any other read."""
        self._pending = self._raw_read(n)
        return self._pending

    def _raw_read(self, n: int) -> bytes:
        try:
            data = self.raw.read(n)
        except OSError as exc:
            raise self._failed(exc) from None
        self._taken += len(data)
        return data

    def _failed(self, exc: OSError) -> InputError:
        return InputError(f"{self.name}: read failed: {exc.strerror or exc}")

    def readinto(self, view: memoryview) -> int:
        if self._pending:
            data = self.read(len(view))
            view[: len(data)] = data
            return len(data)
        try:
            n = self.raw.readinto(view) or 0
        except OSError as exc:
            raise self._failed(exc) from None
        self._taken += n
        return n

    def read(self, n: int) -> bytes:
        head, self._pending = self._pending[:n], self._pending[n:]
        return head + self._raw_read(n - len(head)) if len(head) < n else head

    def position(self) -> int:
        return self._taken

    def close(self) -> None:
        if self._own:
            self.raw.close()

    def __enter__(self) -> Source:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class GzipStream:
    """Incremental gzip decompression that keeps everything before damage or a cut (gzip.GzipFile loses the
    whole read that hits the end of a truncated file). Concatenated members are followed."""

    def __init__(self, raw: Source) -> None:
        self.raw = raw
        self.damaged: str | None = None
        self._inflate = zlib.decompressobj(16 + zlib.MAX_WBITS)
        self._input = b""

    def readinto(self, view: memoryview) -> int:
        while self.damaged is None:
            if self._inflate.eof:
                rest = self._inflate.unused_data + self._input
                if not rest and not (rest := self.raw.read(1 << 20)):
                    return 0
                self._inflate, self._input = zlib.decompressobj(16 + zlib.MAX_WBITS), rest
            if not self._input:
                self._input = self.raw.read(1 << 20)
                if not self._input:
                    self.damaged = "compressed stream ends early: file truncated"
                    return 0
            try:
                out = self._inflate.decompress(self._input, len(view))
            except zlib.error as exc:
                self.damaged = f"compressed stream is damaged: {exc}"
                return 0
            self._input = self._inflate.unconsumed_tail
            if out:
                view[: len(out)] = out
                return len(out)
        return 0

    def position(self) -> int:
        return self.raw.position()

    def read(self, n: int) -> bytes:
        buf = bytearray(n)
        view = memoryview(buf)
        got = 0
        while got < n and (step := self.readinto(view[got:])):
            got += step
        return bytes(buf[:got])

    def close(self) -> None:
        self.raw.close()

    def __enter__(self) -> GzipStream:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


STDIN = "-"


def capture_name(path: Path | str) -> str:
    """How messages and stats name a capture: its path, or "standard input" for `-`."""
    return "standard input" if str(path) == STDIN else str(path)


def _open(path: Path) -> Stream:
    """Open a capture (a file, a FIFO, or `-` for standard input), transparently decompressing gzip.

    Opening a FIFO waits for a writer, as `cat` does.
    """
    name = capture_name(path)
    if str(path) == STDIN:
        if sys.stdin is None or sys.stdin.isatty():
            raise InputError("standard input is a terminal or closed, not a capture: pipe one into `-`")
        # sys.stdin.buffer is a BufferedReader, which has readinto; typeshed's BinaryIO has not
        source = Source(sys.stdin.buffer, name, own=False)  # type: ignore[arg-type]
    else:
        try:
            source = Source(path.open("rb"), name, own=True)
        except IsADirectoryError:
            raise InputError(f"{name}: is a directory, not a capture file") from None
        except FileNotFoundError:
            raise InputError(f"{name}: no such file") from None
        except OSError as exc:
            raise InputError(f"{name}: cannot read: {exc.strerror or exc}") from None
    if source.peek(2) == GZIP_MAGIC:
        return GzipStream(source)
    return source


Progress = Callable[[int], None] | None
Stream = Source | GzipStream


def feed_capture(path: Path, engine: Engine, progress: Progress = None) -> CaptureStats:
    """Feed one capture to `engine`; `progress` gets the number of (compressed) bytes read.

    A capture that is damaged before its first packet is an InputError (it must not pass for an empty,
    clean one); damage after that is a warning in the stats, and what came before it is analysed.
    """
    stream = _open(path)
    stats = CaptureStats(capture_name(path))
    packets = engine.counters.packets
    with stream:
        head = stream.read(4)
        if head in PCAP_MAGICS:
            stats.format = "pcap"
            _read_pcap(stream, head, engine, stats, progress)
        elif head == PCAPNG_SHB:
            stats.format = "pcapng"
            _read_pcapng(stream, head, engine, stats, progress)
        else:
            raise InputError(
                f"{stats.path}: not a pcap or pcapng capture (starts with {head.hex() or 'nothing'})"
            )
    if isinstance(stream, GzipStream) and stream.damaged:
        stats.warnings.append(stream.damaged)
    if stats.warnings and engine.counters.packets == packets:
        raise InputError(f"{stats.path}: no packet could be read: {'; '.join(stats.warnings)}")
    return stats


def _pump(stream: Stream, start: int, head: bytes, stats: CaptureStats, progress: Progress, process) -> None:
    """Read chunk by chunk into one reused buffer; `process(view, offset)` (offset: where the view starts in
    the capture) returns the bytes it used, or None to stop.

    The buffer is allocated once (a chunk plus the longest record), and the unused tail of each chunk is
    moved to its front, so reading costs no allocation per chunk. What is left at the end of the file is a
    truncated record: counted as a warning.
    """
    buf = bytearray(CHUNK + MAX_RECORD_BYTES)
    view = memoryview(buf)
    buf[: len(head)] = head
    have = len(head)
    done = stream.position()
    while n := stream.readinto(view[have : have + CHUNK]):
        stats.bytes_read += n
        if progress is not None:
            now = stream.position()
            progress(now - done)
            done = now
        have += n
        used = process(view[:have], start)
        if used is None:
            return
        buf[: have - used] = view[used:have]
        have -= used
        start += used
    if have:
        stats.warnings.append(
            f"capture ends inside a record at byte {start} ({have} bytes ignored): file truncated"
        )


def _read_pcap(stream: Stream, head: bytes, engine: Engine, stats: CaptureStats, progress: Progress) -> None:
    swapped, nanosecond = PCAP_MAGICS[head]
    header = stream.read(20)
    if len(header) < 20:
        raise InputError(f"{stats.path}: truncated pcap file header")
    linktype = struct.unpack(">I" if swapped else "<I", header[16:20])[0] & 0x0FFFFFFF
    if linktype not in SUPPORTED_LINKTYPES:
        raise InputError(f"{stats.path}: unsupported link type {linktype}")

    def process(buf: memoryview, start: int) -> int | None:
        used, error = engine.feed_pcap(buf, swapped, nanosecond, linktype)
        if error:
            stats.warnings.append(f"{error} at byte {start + used}")
            return None
        return used

    _pump(stream, len(head) + len(header), b"", stats, progress, process)


def _read_pcapng(
    stream: Stream, head: bytes, engine: Engine, stats: CaptureStats, progress: Progress
) -> None:
    interfaces: list[tuple[int, float]] = []
    swapped = False

    def process(buf: memoryview, start: int) -> int | None:
        nonlocal swapped
        offset = 0
        while True:
            used, block_type, error = engine.feed_pcapng(buf[offset:], interfaces, swapped)
            offset += used
            if error:
                stats.warnings.append(f"{error} at byte {start + offset}")
                return None
            if not block_type:
                return offset
            if block_type == 0x0A0D0D0A and len(buf) - offset >= 12:
                swapped = _section_swapped(buf, offset)
                interfaces.clear()
            consumed = _control_block(buf, offset, block_type, interfaces, swapped, stats)
            if isinstance(consumed, str):
                stats.warnings.append(f"{consumed} at byte {start + offset}")
                return None
            if consumed == 0:
                return offset  # block continues in the next chunk
            offset += consumed

    _pump(stream, 0, head, stats, progress, process)


def _section_swapped(buf: memoryview, offset: int) -> bool:
    return buf[offset + 8 : offset + 12] == b"\x1a\x2b\x3c\x4d"


def _control_block(
    buf: memoryview, offset: int, block_type: int, interfaces, swapped: bool, stats
) -> int | str:
    """Parse a section header or interface description block; bytes consumed, 0 if incomplete, or what is
    wrong with it (the caller says where)."""
    if len(buf) - offset < 12:
        return 0
    if block_type == 0x0A0D0D0A:
        bom = buf[offset + 8 : offset + 12]
        if bom not in (b"\x1a\x2b\x3c\x4d", b"\x4d\x3c\x2b\x1a"):
            return "pcapng section has no valid byte-order magic"
    order = ">" if swapped else "<"
    (length,) = struct.unpack_from(order + "I", buf, offset + 4)
    if length < 12 or length % 4 or length > MAX_RECORD_BYTES:
        return f"corrupt pcapng block (length {length})"
    if len(buf) - offset < length:
        return 0
    if block_type == 1:
        if length < 20:
            return "corrupt interface block"
        (linktype,) = struct.unpack_from(order + "H", buf, offset + 8)
        rate = _tsresol(buf, offset + 16, offset + length - 4, order)
        if linktype not in SUPPORTED_LINKTYPES:
            stats.warnings.append(f"interface {len(interfaces)}: unsupported link type {linktype}")
        interfaces.append((linktype, rate))
    return length


def _tsresol(buf: memoryview, start: int, end: int, order: str) -> float:
    """Ticks per second from the if_tsresol option (default microseconds)."""
    while start + 4 <= end:
        code, size = struct.unpack_from(order + "HH", buf, start)
        if code == 0:
            break
        if code == 9 and size >= 1:
            value = buf[start + 4]
            return float(2 ** (value & 0x7F)) if value & 0x80 else float(10**value)
        start += 4 + ((size + 3) & ~3)
    return 1e6
