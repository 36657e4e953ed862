"""Whole-pipeline behaviour of inspection: who is the miner, bypass, stream depth, reordering, pickup."""

from __future__ import annotations

import json

from minerwatch.capture.writer import TCP_ACK, TCP_PSH, TcpConversation, frame, tcp_segment

SUBMIT = {"id": 5, "method": "submit", "params": {"id": "s", "job_id": "j", "nonce": "01", "result": "ff"}}
JOB = {"jsonrpc": "2.0", "method": "job", "params": {"blob": "07" * 76, "job_id": "j", "target": "b88d0600"}}


def line(obj) -> bytes:
    return json.dumps(obj).encode() + b"\n"


def by_type(events, kind):
    return [e for e in events if e["event_type"] == kind]


def test_mid_stream_pickup_where_the_pool_speaks_first(write_capture, analyse):
    """No handshake, and the first packet comes from the pool: the miner is still the one submitting."""
    c = TcpConversation("203.0.113.5", 3333, "10.0.0.9", 51000)  # 'client' here is the pool
    c.send(True, b'ob_id":"old"}}\n' + line(JOB))  # starts inside a line
    c.send(False, line(SUBMIT))
    c.send(True, line({"id": 5, "jsonrpc": "2.0", "error": None, "result": {"status": "OK"}}))
    events = analyse(write_capture(c.packets))
    [verdict] = by_type(events, "verdict")
    assert verdict["src_ip"] == "10.0.0.9" and verdict["verdict"]["stages"] == [2]
    pool = verdict["verdict"]["pools"][0]
    assert (pool["ip"], pool["port"], pool["accepted"]) == ("203.0.113.5", 3333, 1)
    submit = next(e for e in by_type(events, "mining") if e["mining"]["behaviour"] == "submit")
    assert (submit["src_ip"], submit["dest_ip"]) == ("10.0.0.9", "203.0.113.5")


def test_flow_without_analysed_protocol_is_bypassed_at_its_first_bytes(write_capture, analyse):
    c = TcpConversation("10.0.0.1", 40000, "10.0.0.2", 22).open()
    for _ in range(20):
        c.send(True, b"SSH-2.0-OpenSSH_9.6\r\n" + b"\x00" * 500)
    events = analyse(write_capture(c.close().packets))
    stats = events[-1]["stats"]
    assert stats["inspection"]["flows_bypassed"] == 1
    assert stats["capture"]["packets_bypassed"] >= 19


def test_json_that_is_not_mining_is_bypassed_after_the_stream_depth(write_capture, analyse):
    c = TcpConversation("10.0.0.1", 40000, "10.0.0.2", 9000).open()
    for i in range(200):
        c.send(True, line({"id": i, "method": "telemetry.push", "params": ["x" * 200]}))
    events = analyse(write_capture(c.close().packets), stream_depth=8192)
    stats = events[-1]["stats"]
    assert stats["inspection"]["flows_bypassed"] == 1 and stats["capture"]["packets_bypassed"] > 150
    assert not by_type(events, "mining")


def test_a_pool_flow_stays_inspected_past_the_stream_depth(write_capture, analyse):
    c = TcpConversation("10.0.0.1", 40000, "10.0.0.2", 3333).open()
    c.send(False, line(JOB))
    for i in range(100):
        c.send(True, line({**SUBMIT, "id": i}))
    events = analyse(write_capture(c.close().packets), stream_depth=1024)
    [verdict] = by_type(events, "verdict")
    assert verdict["verdict"]["submits"] == 100
    assert events[-1]["stats"]["capture"]["packets_bypassed"] == 0


def test_reordered_and_retransmitted_segments_do_not_change_the_evidence(write_capture, analyse):
    c = TcpConversation("10.0.0.1", 40000, "10.0.0.2", 3333, mss=40).open()
    c.send(False, line(JOB))
    for i in range(5):
        c.send(True, line({**SUBMIT, "id": i}))
    packets = c.close().packets
    order = packets[:3] + packets[3:][::-1] + packets[5:9]  # data segments reversed, then duplicates
    times = sorted(t for t, _ in order)  # capture time stays monotonic: only the segment order changes
    shuffled = [(t, f) for t, (_, f) in zip(times, order, strict=True)]
    [verdict] = by_type(analyse(write_capture(shuffled)), "verdict")
    assert verdict["verdict"]["submits"] == 5


def test_hole_in_a_stream_is_counted_and_parsing_resumes(write_capture, analyse):
    c = TcpConversation("10.0.0.1", 40000, "10.0.0.2", 3333).open()
    c.send(False, line(JOB))
    for i in range(3):
        c.send(True, line({**SUBMIT, "id": i}))
    packets = c.packets
    del packets[5]  # lose the second submit
    late = frame("10.0.0.1", "10.0.0.2", 6, tcp_segment(40000, 3333, 10**6, 0, TCP_PSH | TCP_ACK, b"x"))
    events = analyse(write_capture([*packets, (packets[-1][0] + 1, late)]))
    [verdict] = by_type(events, "verdict")
    assert verdict["verdict"]["submits"] == 2
    assert events[-1]["stats"]["inspection"]["reassembly_gaps"] >= 1


def test_eviction_counts_separately_the_flows_cut_short_in_analysis(write_capture, analyse):
    """A scan fills the flow table: its SYN-only flows lose nothing when evicted, the pool session does."""
    pool = TcpConversation("10.0.0.9", 51000, "203.0.113.5", 3333).open()
    pool.send(True, line(SUBMIT))  # still being analysed (a pool protocol keeps its flow inspected)
    scan = [
        frame("10.0.0.66", f"10.2.0.{i + 1}", 6, tcp_segment(40000 + i, 6379, 1, 0, 0x02)) for i in range(50)
    ]
    start = pool.packets[-1][0] + 1
    packets = pool.packets + [(start + i / 100, f) for i, f in enumerate(scan)]
    [stats] = by_type(analyse(write_capture(packets), max_flows=10), "stats")
    assert stats["stats"]["capture"]["flows_evicted"] > 1
    assert stats["stats"]["inspection"]["flows_evicted_in_analysis"] == 1
