"""Mining inside HTTP and WebSocket, end to end from crafted captures: getwork with Basic auth and an
X-Stratum redirect, Ethereum getWork with the wallet in the URL, CoinHive and relayed Stratum over
WebSocket, an encoded body; benign JSON-RPC over HTTP yields nothing."""

from __future__ import annotations

import base64
import json
import os
import struct

from minerwatch.capture.writer import TcpConversation

MINER, POOL = "10.1.1.5", "203.0.113.9"
HEADER = "00000002" + "ab" * 32 + "cd" * 32 + "5b8d0c3c" + "1a0b0c0d" + "78563412" + "00" * 48
ETH_WALLET = "0x4b999ba68e017854ffb6b494bc2ddb9ef02bd745"
XMR_WALLET = "44AFFq5kSiGBoZ4NMDwYtN18obc8AemS33DBLWs3H7otXft3XjrpDtQGv7SqSsaBYBb98uNbr2VBBEt7f2wfn3RVGQBEP3A"


def post(target: str, body: dict | bytes, headers: str = "", host: str = "pool.example.org") -> bytes:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    return (
        f"POST {target} HTTP/1.1\r\nHost: {host}:8332\r\n{headers}"
        f"Content-Type: application/json\r\nContent-Length: {len(raw)}\r\n\r\n"
    ).encode() + raw


def answer(body: dict | bytes, headers: str = "", status: str = "200 OK") -> bytes:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    return f"HTTP/1.1 {status}\r\n{headers}Content-Length: {len(raw)}\r\n\r\n".encode() + raw


def conversation(exchanges: list[tuple[bytes, bytes]], port: int = 8332) -> TcpConversation:
    c = TcpConversation(MINER, 40000 + port % 1000, POOL, port).open()
    for request, response in exchanges:
        c.send(True, request).send(False, response)
    return c.close()


def mining_events(events: list[dict], behaviour: str | None = None) -> list[dict]:
    found = [e["mining"] for e in events if e["event_type"] == "mining"]
    return [m for m in found if behaviour is None or m["behaviour"] == behaviour]


def only_verdict(events: list[dict]) -> dict:
    [verdict] = [e["verdict"] for e in events if e["event_type"] == "verdict"]
    return verdict


def test_getwork_with_basic_auth_reaches_stage_1_and_2_and_reports_the_redirect(write_capture, analyse):
    auth = "Authorization: Basic " + base64.b64encode(b"bob.rig1:x").decode() + "\r\n"
    miner_headers = auth + "User-Agent: cgminer 3.7.2\r\nX-Mining-Extensions: longpoll midstate rollntime\r\n"
    target = "ff" * 28 + "00000000"
    work = {"data": HEADER, "midstate": "00", "hash1": "00", "target": target}
    pool_headers = "X-Long-Polling: /LP\r\nX-Stratum: stratum+tcp://pool.example.org:3333\r\n"
    c = conversation(
        [
            (
                post("/", {"method": "getwork", "params": [], "id": 0}, miner_headers),
                answer({"id": 0, "error": None, "result": work}, pool_headers),
            ),
            (
                post("/", {"method": "getwork", "params": [HEADER], "id": 1}, miner_headers),
                answer({"id": 1, "error": None, "result": True}),
            ),
        ]
    )
    events = analyse(write_capture(c.packets))
    [login] = mining_events(events, "login")
    assert login["transport"] == "http" and login["dialect"] == "getwork" and login["method"] == "basic-auth"
    assert login["login"] == "bob.rig1" and login["password"] == "********" and login["outcome"] == "accepted"
    assert login["extensions"] == ["longpoll", "midstate", "rollntime"]
    assert login["agent_info"]["family"] == "cgminer" and login["pool_host"] == "pool.example.org"
    [job] = mining_events(events, "job")
    assert job["job_shape"] == "getwork" and job["long_polling"] == "/LP" and job["algorithm"]
    [redirect] = mining_events(events, "redirect")
    assert redirect["target"] == "stratum+tcp://pool.example.org:3333" and redirect["transport"] == "http"
    [submit] = mining_events(events, "submit")
    assert submit["outcome"] == "accepted" and submit["nonce"] == "78563412"
    verdict = only_verdict(events)
    assert verdict["stages"] == [1, 2] and verdict["transports"] == ["http"]
    [pool] = verdict["pools"]
    assert pool["redirects"] == ["stratum+tcp://pool.example.org:3333"] and pool["dialect"] == "getwork"
    flow = [e["flow"] for e in events if e["event_type"] == "flow" and e["flow"].get("app_proto") == "http"]
    assert flow and flow[0]["methods"] == {"getwork": 2}


def test_http_401_makes_the_login_rejected(write_capture, analyse):
    auth = "Authorization: Basic " + base64.b64encode(b"bob:wrong").decode() + "\r\n"
    c = conversation(
        [(post("/", {"method": "getwork", "params": [], "id": 0}, auth), answer(b"no", status="401 No"))]
    )
    [login] = mining_events(analyse(write_capture(c.packets)), "login")
    assert login["outcome"] == "rejected" and login["error"] == "HTTP 401"


def test_ethereum_getwork_over_http_takes_the_wallet_from_the_url(write_capture, analyse):
    work = ["0x" + "d4" * 32, "0x" + "71" * 32, "0x00000000" + "5b" * 28]
    target = f"/?miner=30@{ETH_WALLET}@rig7"
    c = conversation(
        [
            (
                post(target, {"id": 1, "jsonrpc": "2.0", "method": "eth_getWork"}),
                answer({"id": 1, "jsonrpc": "2.0", "result": work}),
            ),
            (
                post(
                    target,
                    {
                        "id": 2,
                        "jsonrpc": "2.0",
                        "method": "eth_submitWork",
                        "params": ["0x1122334455667788", work[0], "0x" + "ee" * 32],
                    },
                ),
                answer({"id": 2, "jsonrpc": "2.0", "result": True}),
            ),
        ],
        port=80,
    )
    events = analyse(write_capture(c.packets))
    [login] = mining_events(events, "login")
    assert login["dialect"] == "eth-getwork" and login["method"] == "url" and login["worker"] == "rig7"
    assert login["wallet"] == {
        "address": ETH_WALLET,
        "coin": "ETH",
        "kind": "account",
        "checksum_valid": None,
    }
    assert mining_events(events, "job")[0]["algorithm"] == "ethash"
    verdict = only_verdict(events)
    assert verdict["stages"] == [1, 2] and verdict["coins"] == ["ETH"]
    assert verdict["wallets"][0]["address"] == ETH_WALLET


def test_wallet_in_the_path_and_an_encoded_body(write_capture, analyse):
    body = base64.b64encode(json.dumps({"id": 1, "method": "eth_getWork"}).encode())
    c = conversation(
        [(post(f"/{ETH_WALLET}/worker2", body), answer({"id": 1, "result": ["0x" + "aa" * 32] * 3}))], port=80
    )
    events = analyse(write_capture(c.packets))
    [login] = mining_events(events, "login")
    assert login["worker"] == "worker2" and login["encoding"] == "base64"
    assert only_verdict(events)["encodings"] == ["base64"]


def test_benign_json_rpc_over_http_is_not_mining(write_capture, analyse):
    auth = "Authorization: Basic " + base64.b64encode(b"admin:zabbix").decode() + "\r\n"
    c = conversation(
        [
            (
                post("/api_jsonrpc.php", {"jsonrpc": "2.0", "method": "user.login", "id": 1}, auth),
                answer({"jsonrpc": "2.0", "result": "0424bd59b807674191e7d77572075f33", "id": 1}),
            ),
            (
                post("/", {"jsonrpc": "2.0", "method": "web3_clientVersion", "id": 67}),
                answer({"jsonrpc": "2.0", "result": "Geth/v1.13.0", "id": 67}),
            ),
        ]
    )
    events = analyse(write_capture(c.packets))
    assert mining_events(events) == [] and not any(e["event_type"] == "verdict" for e in events)


# --- WebSocket -------------------------------------------------------------------------------------------


def ws_frame(payload: bytes, masked: bool) -> bytes:
    head = bytes([0x81])
    size = len(payload)
    mask_bit = 0x80 if masked else 0
    if size < 126:
        head += bytes([mask_bit | size])
    else:
        head += bytes([mask_bit | 126]) + struct.pack("!H", size)
    if not masked:
        return head + payload
    key = os.urandom(4)
    return head + key + bytes(b ^ key[i % 4] for i, b in enumerate(payload))


def websocket(messages: list[tuple[bool, dict]]) -> TcpConversation:
    c = TcpConversation(MINER, 41000, POOL, 443).open()
    c.send(
        True,
        b"GET /proxy HTTP/1.1\r\nHost: ws.miner.example\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n",
    )
    c.send(
        False,
        b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        b"Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n",
    )
    for from_client, message in messages:
        c.send(from_client, ws_frame(json.dumps(message).encode(), masked=from_client))
    return c.close()


BLOB = "0707" + "ab" * 74


def test_coinhive_over_websocket(write_capture, analyse):
    c = websocket(
        [
            (True, {"type": "auth", "params": {"site_key": "SITEKEY123", "type": "anonymous", "user": None}}),
            (False, {"type": "authed", "params": {"token": "", "hashes": 0}}),
            (False, {"type": "job", "params": {"job_id": "j1", "blob": BLOB, "target": "b88d0600"}}),
            (True, {"type": "submit", "params": {"job_id": "j1", "nonce": "0a0b0c0d", "result": "ff" * 32}}),
            (False, {"type": "hash_accepted", "params": {"hashes": 256}}),
        ]
    )
    events = analyse(write_capture(c.packets))
    [login] = mining_events(events, "login")
    assert login["dialect"] == "coinhive" and login["transport"] == "websocket"
    assert login["login"] == "SITEKEY123" and login["outcome"] == "accepted"
    assert login["pool_host"] == "ws.miner.example"
    [submit] = mining_events(events, "submit")
    assert submit["outcome"] == "accepted" and submit["transport"] == "websocket"
    verdict = only_verdict(events)
    assert verdict["stages"] == [1, 2] and verdict["transports"] == ["websocket"]


def test_stratum_relayed_over_websocket(write_capture, analyse):
    job = {"blob": BLOB, "job_id": "7", "target": "ffff0000", "algo": "rx/0", "seed_hash": "cd" * 32}
    c = websocket(
        [
            (
                True,
                {
                    "id": 1,
                    "method": "login",
                    "params": {"login": XMR_WALLET, "pass": "x", "agent": "XMRig/6.21.0 (Linux x86_64)"},
                },
            ),
            (False, {"id": 1, "result": {"id": "a", "job": job, "status": "OK"}, "error": None}),
            (True, {"id": 2, "method": "submit", "params": {"id": "a", "job_id": "7", "nonce": "01020304"}}),
            (False, {"id": 2, "result": {"status": "OK"}, "error": None}),
        ]
    )
    events = analyse(write_capture(c.packets))
    [login] = mining_events(events, "login")
    assert login["dialect"] == "cryptonote" and login["transport"] == "websocket"
    assert login["wallet"]["coin"] == "XMR" and login["wallet"]["checksum_valid"] is True
    assert login["agent_info"]["family"] == "xmrig"
    verdict = only_verdict(events)
    assert verdict["stages"] == [1, 2] and verdict["coins"] == ["XMR"] and verdict["algorithms"] == ["rx/0"]


def test_bodies_asked_for_are_json_or_encoded_pool_requests_and_answers_on_mining_flows():
    from types import SimpleNamespace

    from minerwatch.detectors.mining_http import HttpMiningStats, MiningHttpConsumer
    from minerwatch.detectors.pool_urls import IndicatorStats, PoolIndicatorScanner
    from minerwatch.flows.http import HttpMessage
    from minerwatch.protocols.http import Headers, Request, Response

    consumer = MiningHttpConsumer(detector=None, stats=HttpMiningStats())  # type: ignore[arg-type]
    flow = SimpleNamespace(flow_id=7)
    request = Request(b"POST", b"/", b"1.1", Headers([]))

    def message(body: bytes, head=request, from_client: bool = True) -> HttpMessage:
        return HttpMessage(head, 0.0, from_client, bytearray(body))

    assert consumer.interest.bodies(flow, message(b'  {"method": "getwork"'))
    assert consumer.interest.bodies(flow, message(base64.b64encode(b'{"id":1,"method":"login","params":{}}')))
    assert not consumer.interest.bodies(flow, message(b"\x89PNG\r\n\x1a\n" + bytes(100)))
    answer_head = Response(200, b"OK", b"1.1", Headers([]))
    assert not consumer.interest.bodies(flow, message(b"{}", answer_head, from_client=False))

    scanner = PoolIndicatorScanner(events=None, emit=None, stats=IndicatorStats())  # type: ignore[arg-type]
    image = Response(200, b"OK", b"1.1", Headers([(b"Content-Type", b"image/png")]))
    huge = Response(200, b"OK", b"1.1", Headers([(b"Content-Length", b"50000000")]))
    assert scanner.interest.bodies(flow, message(b"#!/bin/sh\n", answer_head, from_client=False))
    assert not scanner.interest.bodies(flow, message(b"GIF89a", image, from_client=False))
    assert not scanner.interest.bodies(flow, message(b"#!/bin/sh\n", huge, from_client=False))
    assert not scanner.interest.bodies(flow, message(b"\x7fELF\x02\x01\x00", answer_head, from_client=False))


def test_a_long_getwork_session_is_followed_past_the_stream_depth(write_capture, analyse):
    """Known mining over HTTP is evidence to its end, like a Stratum flow: every share is counted."""
    work = ["0x" + "d4" * 32, "0x" + "71" * 32, "0x00000000" + "5b" * 28]
    target = f"/?miner=30@{ETH_WALLET}@rig7"
    exchanges = [
        (
            post(target, {"id": 1, "jsonrpc": "2.0", "method": "eth_getWork"}),
            answer({"id": 1, "jsonrpc": "2.0", "result": work}),
        )
    ]
    submit = {"jsonrpc": "2.0", "method": "eth_submitWork", "params": ["0x11", work[0], "0x" + "ee" * 32]}
    exchanges += [
        (post(target, {**submit, "id": 10 + i}), answer({"id": 10 + i, "jsonrpc": "2.0", "result": True}))
        for i in range(60)
    ]
    events = analyse(write_capture(conversation(exchanges, port=80).packets), stream_depth=4096)
    assert only_verdict(events)["submits"] == 60
