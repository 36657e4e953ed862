"""The events of the new mining analysers (HTTP, WebSocket, encodings, indicators, Stratum V2, the real
xmrig recording) validate against the published event schema."""

from __future__ import annotations

import base64
import json
import os
from importlib import resources
from pathlib import Path

import jsonschema

from minerwatch.capture.writer import TcpConversation

SCHEMA = json.loads(resources.files("minerwatch").joinpath("schema/events.schema.json").read_text())
RECORDING = Path(__file__).resolve().parents[1] / "fixtures" / "recordings" / "xmrig-6.16.0-cryptonote.pcapng"


def flows() -> list[tuple[float, bytes]]:
    packets: list[tuple[float, bytes]] = []
    script = b"xmrig -o stratum+tcp://pool.example.org:3333 --donate-level 1\n"
    web = TcpConversation("10.9.0.1", 50001, "198.51.100.1", 80).open()
    web.send(True, b"GET /x.sh HTTP/1.1\r\nHost: a\r\n\r\n")
    web.send(False, b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % len(script) + script)
    packets += web.close().packets
    sv2 = TcpConversation("10.9.0.2", 50002, "198.51.100.2", 34255).open()
    for from_client, size in [(True, 64), (False, 234), (True, 120), (False, 90)]:
        sv2.send(from_client, os.urandom(size))
    packets += sv2.close().packets
    login = {"id": 1, "method": "login", "params": {"login": "x", "pass": "x", "agent": "XMRig/6.21.0"}}
    b64 = TcpConversation("10.9.0.3", 50003, "198.51.100.3", 9999).open()
    b64.send(True, base64.b64encode(json.dumps(login).encode()) + b"\n")
    packets += b64.close().packets
    return sorted(packets)


def test_new_mining_events_follow_the_schema(write_capture, analyse):
    events = analyse(write_capture(flows())) + analyse(RECORDING)
    behaviours = {e["mining"]["behaviour"] for e in events if e["event_type"] == "mining"}
    assert {"pool-url", "miner-cmdline", "probable-stratum-v2", "login", "submit"} <= behaviours
    validator = jsonschema.Draft202012Validator(SCHEMA)
    for event in events:
        errors = sorted(validator.iter_errors(event), key=str)
        assert not errors, f"{event['event_type']} {event['event_id']}: {errors[0].message}"
