"""Capture files in every supported container, and every way a file can be broken."""

from __future__ import annotations

import gzip
import io
import os
import struct
import threading
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from minerwatch.capture import feed_capture
from minerwatch.capture.reader import CHUNK
from minerwatch.capture.writer import PcapngWriter, PcapWriter, frame, tcp_segment
from minerwatch.decode import Engine
from minerwatch.errors import InputError

FRAME = frame("10.0.0.1", "10.0.0.2", 6, tcp_segment(1234, 3333, 1, 0, 0x18, b"payload"))
TS = 1_600_000_000.123456


class Timestamps:
    def __init__(self) -> None:
        self.ts: list[float] = []

    def ip_fragment(self, ts, packet) -> None:
        pass

    def flow_start(self, flow) -> None:
        pass

    def tcp_segment(self, flow, ts, *rest) -> None:
        self.ts.append(ts)

    def udp_datagram(self, *args) -> None:
        pass

    def flow_end(self, *args) -> None:
        pass


def read(path: Path) -> tuple[Engine, Timestamps, object]:
    sink = Timestamps()
    engine = Engine(sink)
    stats = feed_capture(path, engine)
    return engine, sink, stats


def big_endian_pcap(path: Path, nanosecond: bool) -> None:
    magic = 0xA1B23C4D if nanosecond else 0xA1B2C3D4
    frac = 123456000 if nanosecond else 123456
    with path.open("wb") as out:
        out.write(struct.pack(">IHHiIII", magic, 2, 4, 0, 0, 65535, 1))
        out.write(struct.pack(">IIII", int(TS), frac, len(FRAME), len(FRAME)) + FRAME)


@pytest.mark.parametrize("nanosecond", [False, True])
def test_pcap_in_both_byte_orders_and_resolutions(tmp_path, nanosecond):
    little = tmp_path / "le.pcap"
    with little.open("wb") as out:
        PcapWriter(out, nanosecond=nanosecond).write(TS, FRAME)
    big = tmp_path / "be.pcap"
    big_endian_pcap(big, nanosecond)
    for path in (little, big):
        _engine, sink, stats = read(path)
        assert stats.format == "pcap" and not stats.warnings
        assert sink.ts == [pytest.approx(TS, abs=1e-6)]


def test_pcapng_with_several_interfaces_and_block_types(tmp_path):
    path = tmp_path / "multi.pcapng"
    with path.open("wb") as out:
        w = PcapngWriter(out)
        w.interface(linktype=1, tsresol=6)
        raw = w.interface(linktype=101, tsresol=9)
        w.write(TS, FRAME, 0)
        w.write(TS + 1, FRAME[14:], raw)
        w.write_simple(FRAME)
        ticks = round((TS + 2) * 1e6)  # an obsolete packet block (type 2), as old tools wrote them
        body = struct.pack("<HHIIII", 0, 0, ticks >> 32, ticks & 0xFFFFFFFF, len(FRAME), len(FRAME)) + FRAME
        body += b"\0" * (-len(body) % 4)
        out.write(struct.pack("<II", 2, len(body) + 12) + body + struct.pack("<I", len(body) + 12))
    engine, sink, stats = read(path)
    assert stats.format == "pcapng" and not stats.warnings
    assert engine.counters.packets == 4
    assert sink.ts[-1] == pytest.approx(TS + 2, abs=1e-6)
    assert sink.ts[:2] == [pytest.approx(TS, abs=1e-6), pytest.approx(TS + 1, abs=1e-6)]


def test_gzip_compressed_capture(tmp_path, write_capture):
    plain = write_capture([(TS, FRAME)] * 3)
    packed = tmp_path / "c.pcap.gz"
    packed.write_bytes(gzip.compress(plain.read_bytes()))
    engine, _, stats = read(packed)
    assert engine.counters.packets == 3 and not stats.warnings


def test_truncated_capture_keeps_what_was_read_and_says_so(tmp_path, write_capture):
    path = write_capture([(TS, FRAME)] * 3)
    path.write_bytes(path.read_bytes()[:-10])
    engine, _, stats = read(path)
    assert engine.counters.packets == 2
    assert "truncated" in stats.warnings[0]


def test_damaged_gzip_is_a_warning_not_a_crash(tmp_path, write_capture):
    packed = tmp_path / "bad.pcap.gz"
    packed.write_bytes(gzip.compress(write_capture([(TS, FRAME)] * 50).read_bytes())[:-30])
    engine, _, stats = read(packed)
    assert stats.warnings and engine.counters.packets > 0


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "not a pcap"),
        (b"GIF89a....", "not a pcap"),
        (b"\xd4\xc3\xb2\xa1\x02\x00", "truncated pcap file header"),
    ],
)
def test_not_a_capture_is_one_clear_error(tmp_path, content, message):
    path = tmp_path / "x.pcap"
    path.write_bytes(content)
    with pytest.raises(InputError, match=message):
        read(path)


def test_directory_and_missing_file_are_clear_errors(tmp_path):
    with pytest.raises(InputError, match="is a directory"):
        read(tmp_path)
    with pytest.raises(InputError, match="no such file"):
        read(tmp_path / "missing.pcap")


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(garbage=st.binary(max_size=3000), pcapng=st.booleans())
def test_garbage_after_a_valid_header_is_a_warning_or_one_clear_error(tmp_path, garbage, pcapng):
    """Damage after a packet is a warning; damage before any packet is an input error (a capture that
    could not be read must not pass for an empty, clean one). Nothing else is ever raised."""
    path = tmp_path / "fuzz.cap"
    with path.open("wb") as out:
        if pcapng:
            PcapngWriter(out).interface()
        else:
            PcapWriter(out)
        out.write(garbage)
    try:
        engine, _, stats = read(path)
    except InputError as exc:
        assert "no packet could be read" in str(exc)
    else:
        assert engine.counters.packets > 0 or not stats.warnings


def test_a_timestamp_past_year_9999_is_counted_and_the_capture_clock_used(tmp_path):
    path = tmp_path / "far.pcapng"
    with path.open("wb") as out:
        w = PcapngWriter(out)
        w.interface()
        w.write(TS, FRAME)
        w.write(1e13, FRAME)  # year ~318,000: a corrupt record
    engine, sink, _ = read(path)
    assert engine.counters.bad_timestamps == 1
    assert sink.ts == [pytest.approx(TS, abs=1e-6)] * 2


def _capture_bytes(pcapng: bool, count: int, frame_bytes: bytes = FRAME) -> bytes:
    out = io.BytesIO()
    if pcapng:
        writer = PcapngWriter(out)
        writer.interface()
    else:
        writer = PcapWriter(out)
    for _ in range(count):
        writer.write(TS, frame_bytes)
    return out.getvalue()


@pytest.mark.parametrize("pcapng", [False, True])
def test_a_capture_damaged_before_its_first_packet_is_an_input_error(tmp_path, pcapng):
    """An absurd length in the first record: nothing could be read, which must not look like a clean,
    empty capture (exit 0) but be an input error."""
    data = bytearray(_capture_bytes(pcapng, 2))
    first = len(_capture_bytes(pcapng, 0))
    struct.pack_into("<I", data, first + (20 if pcapng else 8), 0x7FFFFFF0)  # caplen / block length
    if pcapng:
        struct.pack_into("<I", data, first + 4, 0x7FFFFFF0)
    path = tmp_path / "bad.cap"
    path.write_bytes(bytes(data))
    with pytest.raises(InputError, match=f"no packet could be read: corrupt .* at byte {first}"):
        read(path)
    empty = tmp_path / "empty.cap"
    empty.write_bytes(_capture_bytes(pcapng, 0))
    engine, _, stats = read(empty)  # a capture with no packets at all is fine
    assert engine.counters.packets == 0 and not stats.warnings


@pytest.mark.parametrize("pcapng", [False, True])
def test_damage_past_the_first_chunk_is_reported_at_its_real_offset(tmp_path, pcapng):
    """The reader works in chunks (CHUNK): a corrupt record header past the first one is located in the
    file, not in the chunk."""
    big = FRAME + bytes(1400)
    count = (CHUNK + CHUNK // 2) // len(big)
    data = bytearray(_capture_bytes(pcapng, count, big))
    record = len(_capture_bytes(pcapng, count - 3, big))  # a record past the first chunk
    assert record > CHUNK
    struct.pack_into("<I", data, record + 4, 0x7FFFFFF1)  # block length (pcapng) or microseconds (pcap)
    struct.pack_into("<I", data, record + 8, 0x7FFFFFF1)  # captured length (pcap)
    path = tmp_path / "big.cap"
    path.write_bytes(bytes(data))
    engine, _, stats = read(path)
    assert engine.counters.packets == count - 3
    assert stats.warnings == [stats.warnings[0]] and stats.warnings[0].endswith(f" at byte {record}")


@pytest.mark.parametrize(("pcapng", "packed"), [(False, False), (True, False), (False, True), (True, True)])
def test_a_fifo_is_read_like_a_file(tmp_path, pcapng, packed):
    """Pipes cannot seek or tell: pcap, pcapng and gzip are recognised on a stream read once."""
    data = _capture_bytes(pcapng, 5)
    if packed:
        data = gzip.compress(data)
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    writer = threading.Thread(target=fifo.write_bytes, args=(data,))
    writer.start()
    try:
        engine, _, stats = read(fifo)
    finally:
        writer.join()
    assert engine.counters.packets == 5 and not stats.warnings
    assert stats.format == ("pcapng" if pcapng else "pcap")
