"""Throughput of the HTTP/1.x and WebSocket parsers on a synthetic, seeded traffic mix.

How the input is made (deterministic, seed 1): a client stream of pipelined GET/POST requests with
browser-like headers (POST bodies 0-4 KiB, a fifth of them chunked), the matching server stream of
responses (30% small JSON, 30% 1-16 KiB HTML with Content-Length, 20% chunked, 20% gzip-encoded
page), and a WebSocket stream of masked CoinHive-style JSON text frames. Each stream is fed in
1448-byte segments (one Ethernet MSS), as TCP reassembly hands it over, and the parser's events are
consumed (bodies joined) so nothing is lazily skipped.

Run: PYTHONPATH=src python benchmarks/bench_http_parser.py [--mib 32]  (wall time; 2 cores shared, so repeat)
"""

from __future__ import annotations

import argparse
import gzip
import json
import random
import resource
import time
from collections.abc import Callable

from minerwatch.protocols.http import HttpParser
from minerwatch.protocols.websocket import WebSocketParser

SEGMENT = 1448
HEADERS = (
    b"Host: www.example.com\r\n"
    b"User-Agent: Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0\r\n"
    b"Accept: text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8\r\nAccept-Language: en-US\r\n"
    b"Accept-Encoding: gzip, deflate\r\nCookie: session=0123456789abcdef; theme=dark\r\n"
    b"Connection: keep-alive\r\n"
)


def make_http(size: int, rng: random.Random) -> tuple[bytes, bytes, list[bytes]]:
    requests, responses, methods = bytearray(), bytearray(), []
    page = b"<html><body>" + b"<p>lorem ipsum dolor sit amet</p>" * 300 + b"</body></html>"
    zipped = gzip.compress(page)
    while len(requests) + len(responses) < size:
        if rng.random() < 0.3:
            body = rng.randbytes(rng.randrange(4096))
            if rng.random() < 0.2:
                framed = b"".join(b"%x\r\n%s\r\n" % (len(p), p) for p in (body[:1000], body[1000:]) if p)
                requests += b"POST /api HTTP/1.1\r\n" + HEADERS + b"Transfer-Encoding: chunked\r\n\r\n"
                requests += framed + b"0\r\n\r\n"
            else:
                requests += (
                    b"POST /api HTTP/1.1\r\n" + HEADERS + b"Content-Length: %d\r\n\r\n" % len(body) + body
                )
            methods.append(b"POST")
        else:
            requests += (
                b"GET /static/%d.js?v=%d HTTP/1.1\r\n" % (rng.randrange(999), rng.randrange(99)) + HEADERS
            )
            requests += b"\r\n"
            methods.append(b"GET")
        kind = rng.random()
        head = b"HTTP/1.1 200 OK\r\nServer: nginx\r\nDate: Tue, 01 Oct 2024 10:00:00 GMT\r\n"
        if kind < 0.3:
            body = json.dumps({"ok": True, "id": rng.randrange(10**9)}).encode()
            responses += (
                head + b"Content-Type: application/json\r\nContent-Length: %d\r\n\r\n" % len(body) + body
            )
        elif kind < 0.6:
            body = page[: rng.randrange(1024, 16384)]
            responses += head + b"Content-Type: text/html\r\nContent-Length: %d\r\n\r\n" % len(body) + body
        elif kind < 0.8:
            body = page[: rng.randrange(1024, 8192)]
            chunks = [body[i : i + 2048] for i in range(0, len(body), 2048)]
            responses += head + b"Transfer-Encoding: chunked\r\n\r\n"
            responses += b"".join(b"%x\r\n%s\r\n" % (len(c), c) for c in chunks) + b"0\r\n\r\n"
        else:
            responses += head + b"Content-Encoding: gzip\r\nContent-Length: %d\r\n\r\n" % len(zipped) + zipped
    return bytes(requests), bytes(responses), methods


def make_websocket(size: int, rng: random.Random) -> bytes:
    stream = bytearray()
    while len(stream) < size:
        payload = json.dumps(
            {
                "type": "submit",
                "params": {
                    "job_id": str(rng.randrange(10**6)),
                    "nonce": rng.randbytes(4).hex(),
                    "result": rng.randbytes(32).hex(),
                },
            }
        ).encode()
        key = rng.randbytes(4)
        masked = bytes(b ^ key[i % 4] for i, b in enumerate(payload))
        stream += bytes([0x81, 0x80 | 126]) + len(payload).to_bytes(2, "big") + key + masked
    return bytes(stream)


def measure(data: bytes, make: Callable[[], HttpParser | WebSocketParser]) -> tuple[float, int]:
    parser = make()
    segments = [data[i : i + SEGMENT] for i in range(0, len(data), SEGMENT)]
    events = 0
    start = time.perf_counter()
    for segment in segments:
        events += len(parser.feed(segment))
    events += len(parser.feed_eof())
    elapsed = time.perf_counter() - start
    assert parser.error is None, parser.error
    return len(data) / elapsed / 1e6, events


def main() -> None:
    cli = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    cli.add_argument(
        "--mib", type=int, default=32, help="HTTP MiB (both directions together); WebSocket gets half"
    )
    args = cli.parse_args()
    rng = random.Random(1)
    requests, responses, methods = make_http(args.mib * 2**20, rng)
    websocket = make_websocket(args.mib * 2**20 // 2, rng)

    def response_parser() -> HttpParser:
        parser = HttpParser("response")
        for method in methods:
            parser.expect_response_to(method)
        return parser

    rows = [
        ("HTTP requests", requests, lambda: HttpParser("request")),
        ("HTTP responses (gzip decoded)", responses, response_parser),
        ("WebSocket masked text frames", websocket, lambda: WebSocketParser("client")),
    ]
    print(f"{'stream':32} {'MiB':>7} {'events':>9} {'MB/s':>8}")
    for name, data, make in rows:
        rate, events = measure(data, make)
        print(f"{name:32} {len(data) / 2**20:7.1f} {events:9d} {rate:8.1f}")
    print(
        f"peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB (includes the inputs)"
    )


if __name__ == "__main__":
    main()
