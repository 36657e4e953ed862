"""Scan detector: port scans and sweeps from SYN probes and empty connections, never from real traffic."""

from __future__ import annotations

import json
from importlib import resources

import jsonschema
import pytest

from minerwatch.capture.writer import TcpConversation, frame, tcp_segment
from minerwatch.correlate.stages import Stage
from minerwatch.detectors.scan import ScanConfig, ScanDetector
from minerwatch.events import EventFactory

SCANNER = "198.51.100.66"
RST_ACK, SYN = 0x14, 0x02
T0 = 1_700_000_000.0


def syn_probe(dst: str, port: int, ts: float, answer: bool = True) -> list[tuple[float, bytes]]:
    """A SYN scan probe of a closed port (answered by RST/ACK), or of a filtered one (no answer)."""
    packets = [(ts, frame(SCANNER, dst, 6, tcp_segment(40000 + port % 20000, port, 1, 0, SYN)))]
    if answer:
        packets.append(
            (ts + 0.001, frame(dst, SCANNER, 6, tcp_segment(port, 40000 + port % 20000, 0, 2, RST_ACK)))
        )
    return packets


def scans(events: list[dict]) -> list[dict]:
    return [e for e in events if e["event_type"] == "scan"]


def test_a_syn_scan_of_many_ports_is_one_port_scan(write_capture, analyse):
    packets = [p for n in range(30) for p in syn_probe("10.1.1.20", 1000 + n, T0 + n * 0.1)]
    found = scans(analyse(write_capture(sorted(packets))))
    assert len(found) == 1
    scan = found[0]
    assert scan["src_ip"] == SCANNER and scan["dest_ip"] == "10.1.1.20"
    assert scan["scan"] | {"kind": "portscan", "hosts": ["10.1.1.20"], "distinct": 20} == scan["scan"]
    assert scan["scan"]["ports"] == list(range(1000, 1020)) and scan["scan"]["answered"] == 0
    schema = json.loads(resources.files("minerwatch").joinpath("schema/events.schema.json").read_text())
    assert list(jsonschema.Draft202012Validator(schema).iter_errors(scan)) == []


def test_one_port_on_many_hosts_is_a_sweep(write_capture, analyse):
    packets = [p for n in range(25) for p in syn_probe(f"10.1.2.{n + 1}", 6379, T0 + n, answer=False)]
    (scan,) = scans(analyse(write_capture(sorted(packets))))
    assert scan["scan"]["kind"] == "sweep" and scan["scan"]["ports"] == [6379] and scan["dest_port"] == 6379
    assert len(scan["scan"]["hosts"]) == 20


def test_connect_scans_count_and_open_ports_are_told(write_capture, analyse):
    packets = []
    for n in range(20):
        packets += (
            TcpConversation(SCANNER, 41000 + n, "10.1.1.20", 2000 + n, ts=T0 + n).open().close().packets
        )
    (scan,) = scans(analyse(write_capture(sorted(packets))))
    assert scan["scan"]["kind"] == "portscan" and scan["scan"]["answered"] == 20


def test_connections_that_carry_data_are_no_probes(write_capture, analyse):
    packets = []
    for n in range(40):
        conv = TcpConversation("10.1.1.21", 42000 + n, f"192.0.2.{n + 1}", 443, ts=T0 + n)
        packets += conv.open().send(True, b"\x16\x03\x01hello").close().packets
    assert scans(analyse(write_capture(sorted(packets)))) == []


def test_the_thresholds_and_window_are_flags(write_capture, analyse):
    from minerwatch.detectors.scan import ScanConfig

    packets = [p for n in range(8) for p in syn_probe("10.1.1.20", 1000 + n, T0 + n * 20)]
    path = write_capture(sorted(packets))
    assert scans(analyse(path)) == []
    assert scans(analyse(path, detector_options={"scan": ScanConfig(ports=8, window=200)}))
    assert (
        scans(analyse(path, detector_options={"scan": ScanConfig(ports=8, window=60)})) == []
    )  # 140 s from first to last


@pytest.mark.parametrize(
    "flag", ["--scan-ports=0", "--scan-hosts=-3", "--scan-window=nan", "--scan-window=inf"]
)
def test_bad_thresholds_are_usage_errors(tmp_path, flag, capsys):
    from minerwatch.cli.main import main

    with pytest.raises(SystemExit) as exit_:
        main(["analyze", str(tmp_path / "none.pcap"), flag])
    assert exit_.value.code == 2 and "is out of range (allowed:" in capsys.readouterr().err


class FakeFlow:
    """What the detector reads of an ended flow."""

    def __init__(self, n: int, source: bytes) -> None:
        self.proto, self.tcp_flags, self.isn_toclient = 6, SYN, None
        self.pkts_toserver, self.pkts_toclient, self.bytes_toserver, self.bytes_toclient = 1, 0, 40, 0
        self.client_addr, self.server_addr = source, bytes([10, 1, 1, n % 250])
        self.server_port, self.first_ts, self.last_ts, self.flow_id = 22, T0 + n, T0 + n, n


def test_memory_is_bounded_and_forgetting_counted():
    events, steps = [], []
    detector = ScanDetector(EventFactory(), events.append, steps.append, ScanConfig(max_keys=10, hosts=3))
    for n in range(100):
        detector.probe(FakeFlow(n, bytes([192, 0, 2, n])))  # type: ignore[arg-type]
    assert len(detector.counts) == 10 and detector.stats["keys_forgotten"] == 190
    assert events == [] and steps == []


def test_each_host_reached_is_a_reconnaissance_step_for_the_kill_chain():
    events, steps = [], []
    detector = ScanDetector(EventFactory(), events.append, steps.append, ScanConfig(hosts=3))
    for n in range(5):
        detector.probe(FakeFlow(n, bytes([192, 0, 2, 1])))  # type: ignore[arg-type]
    assert len(events) == 1 and events[0]["scan"]["distinct"] == 3 and detector.stats["scans"] == 1
    assert [(s.host, s.peer, s.stage, s.event_id) for s in steps] == [
        (f"10.1.1.{n}", "192.0.2.1", Stage.RECONNAISSANCE, events[0]["event_id"]) for n in range(3)
    ]
