"""Bodies no HTTP consumer wants are skipped in the hot path; the heads after them are still parsed."""

from __future__ import annotations

from minerwatch.capture import feed_capture
from minerwatch.capture.writer import TcpConversation
from minerwatch.decode import Engine
from minerwatch.flows.http import HttpConsumer
from minerwatch.flows.http_inspection import HttpInspection
from minerwatch.flows.http_interest import HttpInterest
from minerwatch.flows.inspector import Inspector

BODY = bytes(range(256)) * 800  # 200 KiB


class Consumer(HttpConsumer):
    def __init__(self, wants: bool | int) -> None:
        self.wants = wants
        self.messages = []
        self.bodies = []

    @property
    def interest(self) -> HttpInterest:
        return HttpInterest(bodies=lambda flow, message: self.wants)

    def on_http(self, flow, message) -> None:
        self.messages.append(message)
        self.bodies.append(bytes(message.body))  # bodies are released once handed over


def download_twice(write_capture):
    c = TcpConversation("10.0.0.1", 40000, "10.0.0.2", 80).open()
    for name in (b"/big.bin", b"/after"):
        c.send(True, b"GET " + name + b" HTTP/1.1\r\nHost: x\r\n\r\n")
        c.send(False, b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % len(BODY) + BODY)
    return write_capture(c.close().packets)


def run(path, *consumers):
    http = HttpInspection(consumers, 10**9, gate=False)  # every HTTP connection through the parser
    engine = Engine(Inspector([], http=http))
    feed_capture(path, engine)
    engine.finish()
    return engine.counters, http.stats


def test_unwanted_body_is_skipped_and_the_next_request_still_parsed(write_capture):
    consumer = Consumer(wants=False)
    counters, stats = run(download_twice(write_capture), consumer)
    heads = [m.head.target if m.from_client else m.head.status for m in consumer.messages]
    assert heads == [b"/big.bin", 200, b"/after", 200]
    responses = [m for m in consumer.messages if not m.from_client]
    assert all(m.end.truncated and m.end.skipped > 0 and m.end.body_length == len(BODY) for m in responses)
    assert stats.bodies_skipped == 2
    assert counters.packets_skipped > 250 and counters.packets_inspected < 10


def test_wanted_body_is_delivered_whole(write_capture):
    consumer = Consumer(wants=True)
    counters, stats = run(download_twice(write_capture), consumer)
    bodies = [b for m, b in zip(consumer.messages, consumer.bodies, strict=True) if not m.from_client]
    assert bodies == [BODY, BODY]
    assert stats.bodies_skipped == 0 and counters.packets_skipped == 0


def test_a_prefix_is_read_and_the_rest_skipped_unless_someone_wants_it_all(write_capture):
    """Consumers that read only the start of a body (an int) get that prefix; the rest never reaches Python,
    and the next request is still parsed. One consumer wanting the whole body keeps it whole for all."""
    scanner = Consumer(wants=16 * 1024)
    counters, stats = run(download_twice(write_capture), scanner, Consumer(wants=1024))
    heads = [m.head.target if m.from_client else m.head.status for m in scanner.messages]
    assert heads == [b"/big.bin", 200, b"/after", 200]
    bodies = [b for m, b in zip(scanner.messages, scanner.bodies, strict=True) if not m.from_client]
    assert bodies == [BODY[: 16 * 1024]] * 2  # the longest prefix asked for, not more
    assert stats.bodies_cut == 2 and stats.bodies_skipped == 0
    assert counters.packets_skipped > 200 and counters.packets_inspected < 60

    whole = Consumer(wants=True)
    counters, stats = run(download_twice(write_capture), Consumer(wants=16 * 1024), whole)
    assert [b for m, b in zip(whole.messages, whole.bodies, strict=True) if not m.from_client] == [BODY] * 2
    assert stats.bodies_cut == 0 and counters.packets_skipped == 0
