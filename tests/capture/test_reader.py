"""Capture files in every supported container, and every way a file can be broken."""

from __future__ import annotations

import gzip
import struct
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from minerwatch.capture import feed_capture
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
def test_garbage_after_a_valid_header_never_raises(tmp_path, garbage, pcapng):
    path = tmp_path / "fuzz.cap"
    with path.open("wb") as out:
        if pcapng:
            PcapngWriter(out).interface()
        else:
            PcapWriter(out)
        out.write(garbage)
    engine, _, _stats = read(path)
    assert engine.counters.packets >= 0


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
