"""The engine's incremental flow statistics against an independent computation
(tests/flowstats_reference.py), on real recordings, on the corpus and on generated conversations."""

from __future__ import annotations

import re
from dataclasses import asdict
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from flowstats_reference import expected, reference_flows
from minerwatch import pipeline
from minerwatch.capture import feed_capture
from minerwatch.capture.writer import PcapWriter, TcpConversation
from minerwatch.decode import Engine, Flow
from minerwatch.decode._flowstats import FEATURES
from minerwatch.detectors.base import Detector, DetectorContext, DetectorParts, NoOptions
from minerwatch.encrypted.features import FEATURE_NAMES
from minerwatch.encrypted.flowstats import FlowStats, attach, snapshots
from minerwatch.flows.analyzers import FlowEndObserver
from minerwatch.flows.inspector import Inspector

RECORDINGS = Path(__file__).parents[1] / "fixtures" / "recordings"
HTTP_REQUEST = re.compile(rb"[A-Z]+ \S+ HTTP/\d\.\d\r?\n")


def collect(path: Path, interval: float = 30.0) -> tuple[dict[tuple, FlowStats], list[FlowStats]]:
    """Run the bare engine (every flow bypassed) over a capture; final stats by flow, and checkpoints."""
    finals: dict[tuple, FlowStats] = {}
    checkpoints: list[FlowStats] = []

    def observe(flow: Flow, stats: FlowStats) -> None:
        if stats.final:
            key = (flow.client_addr, flow.client_port, flow.server_addr, flow.server_port)
            finals[key] = stats
        else:
            checkpoints.append(stats)

    engine = Engine(Inspector([]))
    attach(engine, [snapshots(observe)], interval)
    feed_capture(path, engine)
    engine.finish()
    return finals, checkpoints


def flat(figures: dict[str, object], prefix: str = "") -> dict[str, object]:
    """{"a": {"b": (1, 2)}} -> {"a.b.0": 1, "a.b.1": 2, "a.b.len": 2} (pytest.approx wants it flat)."""
    out: dict[str, object] = {}
    for key, value in figures.items():
        if isinstance(value, dict):
            out |= flat(value, f"{prefix}{key}.")
        elif isinstance(value, tuple):
            out |= flat({str(i): v for i, v in enumerate(value)} | {"len": len(value)}, f"{prefix}{key}.")
        else:
            out[prefix + key] = value
    return out


def as_figures(stats: FlowStats) -> dict[str, object]:
    figures = asdict(stats)
    for name in ("to_server", "to_client"):
        for summary in ("sizes", "gaps", "burst_gaps"):
            figures[name][summary] = tuple(figures[name][summary].values())
    return flat({key: figures[key] for key in ("packets", "to_server", "to_client", "first_sizes")})


def assert_matches_reference(path: Path) -> int:
    finals, _ = collect(path)
    reference = reference_flows(path)
    http = {
        k
        for k, f in reference.items()
        if f.first_payload and f.first_payload[0] and HTTP_REQUEST.match(f.first_payload[1])
    }
    assert set(finals) == set(reference) - http
    for key, stats in finals.items():
        assert as_figures(stats) == pytest.approx(flat(expected(reference[key])), rel=1e-9, abs=1e-6), key
    return len(finals)


@pytest.mark.parametrize(
    "name", ["xmrig-6.16.0-cryptonote-tls.pcapng", "postgres-psql-15-tls.pcapng", "ssh-hydra-9.4.pcapng"]
)
def test_recordings_match_an_independent_computation(name: str) -> None:
    assert assert_matches_reference(RECORDINGS / name) >= 1


def test_corpus_tls_and_mixed_captures_match(corpus: Path) -> None:
    total = sum(
        assert_matches_reference(corpus / name)
        for name in ("nDPI/443-curl.pcap", "DI-cryptominingdetection/cgminer.s0.pcapng")
    )
    assert total > 10


def test_tls_mining_flow_shape() -> None:
    """The real XMRig --tls session (25 s, the pool's job cadence 30 s): the miner speaks first
    (ClientHello) and starts every burst (the handshake with its login, then two shares); the pool only
    answers, its one job came with the login reply."""
    finals, checkpoints = collect(RECORDINGS / "xmrig-6.16.0-cryptonote-tls.pcapng")
    (stats,) = finals.values()
    assert stats.server_port == 3443 and stats.reason == "end-of-capture"
    assert stats.first_sizes[0] > 0 and stats.first_sizes[1] < 0
    assert (stats.to_server.bursts, stats.to_client.bursts) == (3, 0)
    assert stats.to_server.burst_gaps.min > 10.0
    assert [c.payload_packets for c in checkpoints][:1] == [8]


def test_checkpoints_follow_packets_and_capture_time() -> None:
    """Checkpoints at 8, 16, 32 payload segments, and at the first segment 30 s after the last one."""
    conv = TcpConversation("10.0.0.1", 40000, "10.0.0.2", 443).open()
    for _ in range(40):
        conv.send(True, b"x" * 100, dt=0.1)
    conv.send(False, b"y" * 50, dt=45.0)  # 45 s of silence: a time checkpoint
    conv.close()
    seen: list[tuple[int, bool]] = []
    engine = Engine(Inspector([]))
    attach(engine, [snapshots(lambda flow, stats: seen.append((stats.payload_packets, stats.final)))])
    for ts, frame in conv.packets:
        engine.feed_pcap(_record(ts, frame), False, False, 1)
    engine.finish()
    assert seen == [(8, False), (16, False), (32, False), (41, False), (41, True)]


def test_http_flows_keep_no_statistics_and_engine_without_hook_keeps_none() -> None:
    http = TcpConversation("10.0.0.1", 40001, "10.0.0.2", 80).open()
    http.send(True, b"GET / HTTP/1.1\r\nHost: a\r\n\r\n").send(False, b"HTTP/1.1 200 OK\r\n\r\n").close()
    tls = TcpConversation("10.0.0.1", 40002, "10.0.0.2", 443, ts=1_700_000_001.0).open()
    tls.send(True, b"\x16\x03\x01\x00\x05hello").send(False, b"\x16\x03\x03\x00\x02hi").close()
    seen: list[FlowStats] = []
    engine = Engine(Inspector([]))
    attach(engine, [snapshots(lambda flow, stats: seen.append(stats))])
    flows: list[Flow] = []
    plain = Engine(
        Inspector([], flow_end_observers=[FlowEndObserver(lambda flow, reason: flows.append(flow))])
    )
    for ts, frame in http.packets + tls.packets:
        engine.feed_pcap(_record(ts, frame), False, False, 1)
        plain.feed_pcap(_record(ts, frame), False, False, 1)
    engine.finish()
    plain.finish()
    assert [(s.server_port, s.first_sizes) for s in seen] == [(443, (10, -7))]
    assert [(f.server_port, f.stats) for f in flows] == [(80, None), (443, None)]


def _record(ts: float, frame: bytes) -> bytes:
    sec = int(ts)
    usec = round((ts - sec) * 1e6)
    return (
        sec.to_bytes(4, "little") + usec.to_bytes(4, "little") + len(frame).to_bytes(4, "little") * 2 + frame
    )


segment = st.tuples(
    st.booleans(), st.integers(1, 3000), st.sampled_from([0.0, 0.001, 0.3, 0.99, 1.5, 7.0, 121.0])
)


@settings(max_examples=60, deadline=None)
@given(segments=st.lists(segment, max_size=60), closed=st.booleans())
def test_generated_conversations_match_reference(tmp_path_factory, segments, closed) -> None:
    conv = TcpConversation("10.1.0.1", 50000, "10.1.0.2", 5555).open()
    for to_server, size, dt in segments:
        conv.send(to_server, b"\x17" * size, dt=dt)
    if closed:
        conv.close()
    path = tmp_path_factory.mktemp("gen") / "conv.pcap"
    with path.open("wb") as out:
        PcapWriter(out).write_all(conv.packets)
    assert assert_matches_reference(path) == 1


def test_analysis_hands_detectors_the_statistics_inspection_does_not_change(monkeypatch, analyse) -> None:
    """A detector that asks for flow statistics gets them from a whole analysis (inspected flows too),
    the same as from a bare engine that bypasses every flow; with no detector asking, none are kept."""
    got: list[FlowStats] = []

    def stats_setup(context: DetectorContext, options: NoOptions) -> DetectorParts:
        return DetectorParts(flow_stats_observers=[snapshots(lambda flow, stats: got.append(stats))])

    path = RECORDINGS / "xmrig-6.16.0-cryptonote-tls.pcapng"
    probe = Detector("stats-probe", NoOptions, stats_setup)
    monkeypatch.setattr(pipeline, "DETECTORS", (*pipeline.DETECTORS, probe))
    analyse(path)
    finals, checkpoints = collect(path)
    assert [s for s in got if not s.final] == checkpoints
    assert [s for s in got if s.final] == list(finals.values())
    assert pipeline.Analysis([]).engine.stats_hook is not None
    monkeypatch.undo()
    no_stats = pipeline.AnalysisOptions(detectors=("pool_protocols",))  # the encrypted detector asks for them
    assert pipeline.Analysis([], no_stats).engine.stats_hook is None


def reference_features(stats: FlowStats) -> list[float]:
    """The flow model's features computed in Python from a FlowStats, as they were defined before the
    accumulator computed them (the shipped model was trained on these)."""

    def side(d, minutes: float) -> list[float]:  # type: ignore[no-untyped-def]
        s, g, b = d.sizes, d.gaps, d.burst_gaps
        return [
            s.count, d.payload_bytes, s.mean, s.std, s.min, s.max, g.mean, g.std, g.min, g.max,
            d.bursts, b.mean, b.std, b.min, b.max, d.bursts / minutes,
        ]  # fmt: skip

    bursts = stats.to_server.bursts + stats.to_client.bursts
    minutes = max(stats.duration, 1.0) / 60.0
    first = list(stats.first_sizes[:8])
    return [
        stats.duration,
        stats.packets,
        stats.byte_ratio,
        stats.push_ratio,
        stats.to_client.bursts / bursts if bursts else 0.0,
        *side(stats.to_server, minutes),
        *side(stats.to_client, minutes),
        *(first + [0] * (8 - len(first))),
    ]


@pytest.mark.parametrize(
    "capture",
    [
        RECORDINGS / "xmrig-6.16.0-cryptonote-tls.pcapng",
        RECORDINGS / "openssl-3.0.19-mtls.pcapng",
        RECORDINGS / "scenario-ssh-worm.pcapng",
        *sorted((Path(__file__).parents[1] / "fixtures" / "encrypted").glob("*.pcap")),
    ],
    ids=lambda p: p.name,
)
def test_compiled_features_equal_their_python_definition(capture: Path) -> None:
    """The accumulator's features (what the model scores) are the same doubles as the Python definition,
    at every checkpoint and at every flow's end of real recordings; and there are as many as names."""
    finals, checkpoints = collect(capture)
    snapshots_seen = [*checkpoints, *finals.values()]
    assert snapshots_seen
    for stats in snapshots_seen:
        assert len(stats.features) == len(FEATURE_NAMES) == FEATURES
        assert list(stats.features) == reference_features(stats)
