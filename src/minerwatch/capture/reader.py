"""Read a capture file in fixed-size chunks and hand its records to the compiled engine.

Memory does not grow with capture length: at most one chunk plus one partial record is held. Truncated
files and corrupt record headers end the file with a counted, one-line warning, never a traceback.
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from minerwatch.decode import MAX_RECORD_BYTES, SUPPORTED_LINKTYPES, Engine
from minerwatch.errors import InputError

CHUNK = 4 << 20
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


class GzipStream:
    """Incremental gzip decompression that keeps everything before damage or a cut (gzip.GzipFile loses the
    whole read that hits the end of a truncated file). Concatenated members are followed."""

    def __init__(self, raw: BinaryIO) -> None:
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
        return self.raw.tell()

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


def _open(path: Path) -> Stream:
    """Open a capture, transparently decompressing gzip."""
    try:
        raw = path.open("rb")
        if raw.read(2) == GZIP_MAGIC:
            raw.seek(0)
            return GzipStream(raw)
        raw.seek(0)
        return raw
    except IsADirectoryError:
        raise InputError(f"{path}: is a directory, not a capture file") from None
    except FileNotFoundError:
        raise InputError(f"{path}: no such file") from None
    except OSError as exc:
        raise InputError(f"{path}: cannot read: {exc.strerror}") from None


Progress = Callable[[int], None] | None
Stream = BinaryIO | GzipStream


def feed_capture(path: Path, engine: Engine, progress: Progress = None) -> CaptureStats:
    """Feed one capture file to `engine`; `progress` gets the number of (decompressed) bytes read."""
    stats = CaptureStats(str(path))
    with _open(path) as stream:
        try:
            head = stream.read(4)
            if head in PCAP_MAGICS:
                stats.format = "pcap"
                _read_pcap(stream, head, engine, stats, progress)
            elif head == PCAPNG_SHB:
                stats.format = "pcapng"
                _read_pcapng(stream, head, engine, stats, progress)
            else:
                raise InputError(
                    f"{path}: not a pcap or pcapng capture (starts with {head.hex() or 'nothing'})"
                )
        except OSError as exc:
            raise InputError(f"{path}: read failed: {exc.strerror or exc}") from None
    if isinstance(stream, GzipStream) and stream.damaged:
        stats.warnings.append(stream.damaged)
    return stats


def _pump(stream: Stream, head: bytes, stats: CaptureStats, progress: Progress, process) -> None:
    """Read chunk by chunk into one reused buffer; `process(view)` returns the bytes it used, or None to stop.

    The buffer is allocated once (a chunk plus the longest record), and the unused tail of each chunk is
    moved to its front, so reading costs no allocation per chunk. What is left at the end of the file is a
    truncated record: counted as a warning.
    """
    buf = bytearray(CHUNK + MAX_RECORD_BYTES)
    view = memoryview(buf)
    buf[: len(head)] = head
    have = len(head)
    position = stream.position if isinstance(stream, GzipStream) else stream.tell
    done = position()
    while n := stream.readinto(view[have : have + CHUNK]):
        stats.bytes_read += n
        if progress is not None:
            now = position()
            progress(now - done)
            done = now
        have += n
        used = process(view[:have])
        if used is None:
            return
        buf[: have - used] = view[used:have]
        have -= used
    if have:
        stats.warnings.append(f"capture ends inside a record ({have} bytes ignored): file truncated")


def _read_pcap(stream: Stream, head: bytes, engine: Engine, stats: CaptureStats, progress: Progress) -> None:
    swapped, nanosecond = PCAP_MAGICS[head]
    header = stream.read(20)
    if len(header) < 20:
        raise InputError(f"{stats.path}: truncated pcap file header")
    linktype = struct.unpack(">I" if swapped else "<I", header[16:20])[0] & 0x0FFFFFFF
    if linktype not in SUPPORTED_LINKTYPES:
        raise InputError(f"{stats.path}: unsupported link type {linktype}")

    def process(buf: memoryview) -> int | None:
        used, error = engine.feed_pcap(buf, swapped, nanosecond, linktype)
        if error:
            stats.warnings.append(error)
            return None
        return used

    _pump(stream, b"", stats, progress, process)


def _read_pcapng(
    stream: Stream, head: bytes, engine: Engine, stats: CaptureStats, progress: Progress
) -> None:
    interfaces: list[tuple[int, float]] = []
    swapped = False

    def process(buf: memoryview) -> int | None:
        nonlocal swapped
        offset = 0
        while True:
            used, block_type, error = engine.feed_pcapng(buf[offset:], interfaces, swapped)
            offset += used
            if error:
                stats.warnings.append(error)
                return None
            if not block_type:
                return offset
            if block_type == 0x0A0D0D0A and len(buf) - offset >= 12:
                swapped = _section_swapped(buf, offset)
                interfaces.clear()
            consumed = _control_block(buf, offset, block_type, interfaces, swapped, stats)
            if consumed < 0:
                return None
            if consumed == 0:
                return offset  # block continues in the next chunk
            offset += consumed

    _pump(stream, head, stats, progress, process)


def _section_swapped(buf: memoryview, offset: int) -> bool:
    return buf[offset + 8 : offset + 12] == b"\x1a\x2b\x3c\x4d"


def _control_block(buf: memoryview, offset: int, block_type: int, interfaces, swapped: bool, stats) -> int:
    """Parse a section header or interface description block; bytes consumed, 0 if incomplete, -1 on error."""
    if len(buf) - offset < 12:
        return 0
    if block_type == 0x0A0D0D0A:
        bom = buf[offset + 8 : offset + 12]
        if bom not in (b"\x1a\x2b\x3c\x4d", b"\x4d\x3c\x2b\x1a"):
            stats.warnings.append(f"pcapng section at byte {offset} has no valid byte-order magic")
            return -1
    order = ">" if swapped else "<"
    (length,) = struct.unpack_from(order + "I", buf, offset + 4)
    if length < 12 or length % 4 or length > MAX_RECORD_BYTES:
        stats.warnings.append(f"corrupt pcapng block at byte {offset}: length {length}")
        return -1
    if len(buf) - offset < length:
        return 0
    if block_type == 1:
        if length < 20:
            stats.warnings.append(f"corrupt interface block at byte {offset}")
            return -1
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
