"""Cost of the exploit rules: matcher requests/s with no rules, the shipped rules, and 20x as many; and
(with --capture) whole-analysis throughput with and without the exploits plugin.

How the input is made (deterministic, seed 1): 5000 HTTP messages parsed once by the project's HTTP parser
(not timed): browser-like GETs of static files, JSON and form POSTs (0-4 KiB bodies), and the responses
(HTML pages, JavaScript, JSON, a few shell-script downloads), plus one in fifty requests carrying a
shipped rule's own positive example. Timed: building each message's fields and matching them, which is
what the detector does per HTTP message (with no rules it does nothing at all). "+ 1000 synthetic" adds
a thousand distinct rules with their own literals and regexes that this traffic never triggers: with the
prefilter the cost per message should barely move. The hostile row is the worst case per message: a
64 KiB body repeating a shipped literal, so that every position is a prefilter hit.

    PYTHONPATH=src python benchmarks/bench_rules.py [--messages 5000]
    python benchmarks/make_mixed_capture.py /tmp/mixed.pcap --packets 300000 --seed 1
    PYTHONPATH=src python benchmarks/bench_rules.py --capture /tmp/mixed.pcap --repeat 3

The capture part runs minerwatch's Analysis in this process (all plugins, events discarded) and reports
packets/s with every plugin and with every plugin but exploits. 2 cores are shared: repeat, keep the best.
"""

from __future__ import annotations

import argparse
import json
import random
import time
from pathlib import Path

from minerwatch import pipeline
from minerwatch.detectors.exploits import SHIPPED, RuleSet, load_rules
from minerwatch.detectors.exploits.examples import streams
from minerwatch.detectors.exploits.rules import compile_rule
from minerwatch.detectors.exploits.subject import http_subject
from minerwatch.flows.http import HttpMessage
from minerwatch.protocols.http import Data, EndOfMessage, HttpConnection, Request, Response

HEADERS = (
    b"Host: shop.example.com\r\nUser-Agent: Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 "
    b"Firefox/128.0\r\nAccept: text/html,application/xhtml+xml,*/*;q=0.8\r\nAccept-Language: en-US\r\n"
    b"Cookie: session=0123456789abcdef; theme=dark\r\nConnection: keep-alive\r\n"
)
PAGE = b"<!DOCTYPE html><html><body>" + b"<p>lorem ipsum dolor sit amet, consectetur adipiscing</p>" * 200
SCRIPT = b"function f(a){return a.map(x=>x*2)};" * 150
SHELL = b"#!/bin/sh\nset -e\napt-get update\napt-get install -y nginx\nsystemctl restart nginx\n"


def traffic(count: int, rng: random.Random, attacks: list[bytes]) -> tuple[bytes, bytes]:
    client, server = bytearray(), bytearray()
    for i in range(count // 2):
        if attacks and i % 50 == 0:
            client += attacks[i // 50 % len(attacks)]
        elif rng.random() < 0.3:
            body = json.dumps({"q": "x" * rng.randrange(4000), "n": i}).encode()
            kind = b"application/json" if rng.random() < 0.5 else b"application/x-www-form-urlencoded"
            client += b"POST /api/v1/items HTTP/1.1\r\n" + HEADERS + b"Content-Type: " + kind + b"\r\n"
            client += b"Content-Length: %d\r\n\r\n" % len(body) + body
        else:
            client += b"GET /static/%d.js?v=%d HTTP/1.1\r\n" % (rng.randrange(999), i) + HEADERS + b"\r\n"
        body = rng.choice([PAGE, SCRIPT, b'{"ok":true,"items":[1,2,3]}', SHELL])
        server += b"HTTP/1.1 200 OK\r\nServer: nginx\r\nContent-Length: %d\r\n\r\n" % len(body) + body
    return bytes(client), bytes(server)


def parse(client: bytes, server: bytes) -> list[HttpMessage]:
    connection = HttpConnection()
    messages: list[HttpMessage] = []
    current: dict[bool, HttpMessage] = {}
    # one request then its response, so the response side knows what it answers
    for side, event in connection.feed("client", client) + connection.feed("server", server):
        from_client = side == "client"
        if isinstance(event, Request | Response):
            current[from_client] = HttpMessage(event, 0.0, from_client)
        elif isinstance(event, Data):
            current[from_client].body += event.data
        elif isinstance(event, EndOfMessage):
            messages.append(current.pop(from_client))
    return messages


def synthetic(count: int) -> list:
    """`count` distinct rules, each with its own literal and a regex: a large user rule set that this
    traffic never triggers (the prefilter's job is to make them cost nothing)."""
    rules = []
    for k in range(count):
        spec = {"id": 9_900_000 + k, "name": f"synthetic {k}", "stage": "execution", "protocol": "http"}
        spec |= {"recommendation": "none", "direction": "any"}
        spec["match"] = {
            "all": [
                {"field": ["http.uri", "http.body"], "contains": f"zx-marker-{k:05d}", "nocase": True},
                {"field": "http.body", "regex": f"token{k}\\s*=\\s*\\w+"},
            ]
        }
        rules.append(compile_rule(spec, "synthetic"))
    return rules


def hostile(count: int) -> list[HttpMessage]:
    """POSTs whose 64 KiB bodies repeat a shipped literal ("curl "): every occurrence is a prefilter hit."""
    body = b"curl " * (64 * 1024 // 5)
    request = b"POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n" % len(body) + body
    return parse(request * count, b"")


def match_rate(rules: RuleSet, messages: list[HttpMessage], rounds: int = 3) -> tuple[float, int]:
    best, alerts = float("inf"), 0
    for _ in range(rounds):
        start = time.perf_counter()
        alerts = 0
        for message in messages:
            if rules.wants("http", message.from_client):
                alerts += len(rules.match(http_subject(message)))
        best = min(best, time.perf_counter() - start)
    return len(messages) / best, alerts


def analyse_seconds(capture: Path, detectors: tuple[str, ...]) -> tuple[float, float, int]:
    """Wall and CPU seconds (this process) of one analysis, and its packet count."""
    analysis = pipeline.Analysis([lambda event: None], pipeline.AnalysisOptions(detectors=detectors))
    wall, cpu = time.perf_counter(), time.process_time()
    analysis.feed_file(capture)
    result = analysis.finish()
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    return wall, cpu, result.stats["stats"]["capture"]["packets"]


def compare(capture: Path, repeat: int) -> None:
    """Both configurations alternate, so that load from other processes hits them alike; best of each.
    CPU time is this process's own, the steadier figure on shared cores."""
    everything = tuple(pipeline.detector_names())
    configurations = {
        "all plugins but exploits": tuple(name for name in everything if name != "exploits"),
        "all plugins": everything,
    }
    best = {label: (float("inf"), float("inf")) for label in configurations}
    packets = 0
    for _ in range(repeat):
        for label, plugins in configurations.items():
            wall, cpu, packets = analyse_seconds(capture, plugins)
            best[label] = (min(best[label][0], wall), min(best[label][1], cpu))
    print(f"\nanalysis of {capture}, {packets} packets (best of {repeat}, alternating)")
    print(f"{'':<28}{'packets/s (wall)':>18}{'packets/s (CPU)':>18}")
    for label, (wall, cpu) in best.items():
        print(f"{label:<28}{packets / wall:>18,.0f}{packets / cpu:>18,.0f}")
    (wall0, cpu0), (wall1, cpu1) = best.values()
    wall_cost, cpu_cost = 100 * (1 - wall0 / wall1), 100 * (1 - cpu0 / cpu1)
    print(f"{'throughput cost of exploits':<28}{wall_cost:>17.1f}%{cpu_cost:>17.1f}%")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--messages", type=int, default=5000)
    parser.add_argument("--capture", type=Path, help="also measure whole-analysis packets/s on this pcap")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    shipped, errors = load_rules([SHIPPED])
    assert not errors, errors
    attacks = [
        streams(example).client
        for rule in shipped
        if rule.protocol == "http"
        for example in rule.tests.get("match", [])
        if "request" in example
    ]
    messages = parse(*traffic(args.messages, random.Random(1), attacks))
    print(f"{len(messages)} HTTP messages ({sum(m.from_client for m in messages)} requests)\n")
    print(f"{'rule set':<34}{'rules':>7}{'messages/s':>13}{'us/message':>12}{'alerts':>8}")
    extra = synthetic(1000)
    for label, rules, sample in (
        ("shipped", shipped, messages),
        ("shipped + 1000 synthetic", shipped + extra, messages),
        ("shipped, hostile 64 KiB bodies", shipped, hostile(200)),
    ):
        rate, alerts = match_rate(RuleSet(rules), sample)
        print(f"{label:<34}{len(rules):>7}{rate:>13,.0f}{1e6 / rate:>12.1f}{alerts:>8}")

    if args.capture:
        compare(args.capture, args.repeat)


if __name__ == "__main__":
    main()
