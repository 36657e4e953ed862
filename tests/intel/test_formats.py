"""Every feed format, with malformed entries reported by line/object number and valid ones kept."""

from __future__ import annotations

import contextlib
import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from minerwatch.errors import InputError
from minerwatch.intel.formats import detect, read_indicators
from minerwatch.intel.formats.base import MAX_LINE, Problems


def read(path: Path, fmt: str | None = None, default_type: str | None = None):
    problems = Problems()
    found = list(read_indicators(path, fmt, problems, default_type))
    return found, problems


def test_plain_list_guesses_types_and_reports_bad_lines(tmp_path: Path) -> None:
    feed = tmp_path / "feed.txt"
    feed.write_text(
        "# comment\n\nPool.Example.  # trailing comment\n*.xmr.example\n203.0.113.0/24\n2001:db8::/32\n"
        "stratum+tcp://eu.pool.example:3333\n198.51.100.9:4444\n"
        "d41d8cd98f00b204e9800998ecf8427e\nja3:E7D705A3286E19EA42F587B344EE6865\n"
        "agent:XMRig/6.21\nnot an indicator\nport:99999\nbücher.example\n"
    )
    found, problems = read(feed)
    assert [(i.type, i.value) for i in found] == [
        ("domain", "pool.example"),
        ("domain", "xmr.example"),
        ("ip", "203.0.113.0/24"),
        ("ip", "2001:db8::/32"),
        ("domain", "eu.pool.example"),
        ("ip", "198.51.100.9"),
        ("hash", "d41d8cd98f00b204e9800998ecf8427e"),
        ("ja3", "e7d705a3286e19ea42f587b344ee6865"),
        ("agent", "xmrig/6.21"),
        ("domain", "xn--bcher-kva.example"),
    ]
    assert [line for line, _ in problems.samples] == [12, 13]
    assert problems.count == 2


def test_plain_list_with_forced_type(tmp_path: Path) -> None:
    feed = tmp_path / "wallets.txt"
    feed.write_text("4" + "A" * 94 + "\nshort\n")
    found, problems = read(feed, default_type="wallet")
    assert [i.type for i in found] == ["wallet"]
    assert problems.samples[0][0] == 2


def test_csv_with_header_and_bad_rows(tmp_path: Path) -> None:
    feed = tmp_path / "feed.csv"
    feed.write_text(
        "indicator,type,malware,tags,confidence,valid_until,reference\n"
        'kinsing.example,domain,Kinsing,"c2,miner",90,2030-01-01,https://r.example\n'
        "1.2.3.4,ip,,,200,,\n"
        "short,row\n"
        "bad..domain,domain,,,,,\n"
        "5.6.7.8,ip,TeamTNT,,,2029-05-01T10:00:00+02:00,\n"
    )
    found, problems = read(feed)
    assert [(i.value, i.family, i.tags, i.confidence) for i in found] == [
        ("kinsing.example", "Kinsing", ("c2", "miner"), 90),
        ("5.6.7.8", "TeamTNT", (), 50),
    ]
    assert found[0].valid_until == "2030-01-01T00:00:00Z"
    assert found[1].valid_until == "2029-05-01T08:00:00Z"
    assert [line for line, _ in problems.samples] == [3, 4, 5]


def test_csv_without_value_column(tmp_path: Path) -> None:
    feed = tmp_path / "feed.csv"
    feed.write_text("name,comment\nx,y\n")
    with pytest.raises(InputError, match="no value column"):
        read(feed)


def test_jsonl(tmp_path: Path) -> None:
    feed = tmp_path / "feed.jsonl"
    feed.write_text(
        '{"type": "domain", "value": "pool.example", "tags": ["pool"], "confidence": 80}\n'
        "{not json\n"
        "[1, 2]\n"
        '{"value": "198.51.100.7", "family": "H2Miner"}\n'
        '{"type": "hash", "value": "zz"}\n'
    )
    found, problems = read(feed)
    assert [(i.type, i.value, i.family) for i in found] == [
        ("domain", "pool.example", ""),
        ("ip", "198.51.100.7", "H2Miner"),
    ]
    assert [line for line, _ in problems.samples] == [2, 3, 5]


def stix_indicator(n: int, pattern: str, **extra) -> dict:
    return {
        "type": "indicator",
        "spec_version": "2.1",
        "id": f"indicator--00000000-0000-4000-8000-{n:012d}",
        "created": "2024-01-01T00:00:00.000Z",
        "modified": "2024-01-01T00:00:00.000Z",
        "pattern": pattern,
        "pattern_type": "stix",
        "valid_from": "2024-01-01T00:00:00Z",
        **extra,
    }


def test_stix_bundle(tmp_path: Path) -> None:
    malware = {
        "type": "malware",
        "spec_version": "2.1",
        "id": "malware--00000000-0000-4000-8000-000000000099",
        "created": "2024-01-01T00:00:00.000Z",
        "modified": "2024-01-01T00:00:00.000Z",
        "name": "Kinsing",
        "is_family": True,
    }
    objects = [
        malware,
        stix_indicator(1, "[domain-name:value = 'c2.example']", confidence=85),
        stix_indicator(2, "[ipv4-addr:value = '198.51.100.0/24'] OR [ipv6-addr:value = '2001:db8::1']"),
        stix_indicator(3, "[file:hashes.'SHA-256' = '" + "ab" * 32 + "']", labels=["miner"]),
        stix_indicator(4, "[url:value = 'http://dl.example/x.sh']"),
        stix_indicator(5, "[domain-name:value = 'broken'"),  # bad pattern
        stix_indicator(6, "[process:pid = 4]"),  # nothing we match
        {"type": "indicator", "id": "indicator--bad"},  # invalid object
        {
            "type": "relationship",
            "spec_version": "2.1",
            "id": "relationship--00000000-0000-4000-8000-000000000001",
            "created": "2024-01-01T00:00:00.000Z",
            "modified": "2024-01-01T00:00:00.000Z",
            "relationship_type": "indicates",
            "source_ref": "indicator--00000000-0000-4000-8000-000000000001",
            "target_ref": malware["id"],
        },
    ]
    feed = tmp_path / "bundle.json"
    feed.write_text(json.dumps({"type": "bundle", "id": "bundle--1", "objects": objects}))
    assert detect(feed) == "stix"
    found, problems = read(feed)
    assert [(i.type, i.value) for i in found] == [
        ("domain", "c2.example"),
        ("ip", "198.51.100.0/24"),
        ("ip", "2001:db8::1"),
        ("hash", "ab" * 32),
        ("domain", "dl.example"),
    ]
    assert found[0].family == "Kinsing"
    assert found[0].confidence == 85
    assert found[3].tags == ("miner",)
    assert [n for n, _ in problems.samples] == [6, 7, 8]


def test_misp_event(tmp_path: Path) -> None:
    event = {
        "Event": {
            "uuid": "5f000000-0000-4000-8000-000000000001",
            "info": "LemonDuck campaign",
            "Tag": [{"name": "tlp:white"}],
            "Galaxy": [{"GalaxyCluster": [{"value": "LemonDuck"}]}],
            "Attribute": [
                {"type": "domain", "value": "t.lemon.example", "comment": "download"},
                {"type": "ip-dst|port", "value": "198.51.100.4|443"},
                {"type": "filename|sha256", "value": "x.ps1|" + "cd" * 32},
                {"type": "xmr", "value": "4" + "B" * 94},
                {"type": "btc", "value": "x"},
                {"type": "email", "value": "a@b.example"},
                {"type": "ip-dst|port", "value": "1.2.3.4"},
            ],
            "Object": [{"Attribute": [{"type": "url", "value": "https://pool.lemon.example:3333/"}]}],
        }
    }
    feed = tmp_path / "event.json"
    feed.write_text(json.dumps({"response": [event]}))
    assert detect(feed) == "misp"
    found, problems = read(feed)
    assert [(i.type, i.value) for i in found] == [
        ("domain", "t.lemon.example"),
        ("ip", "198.51.100.4"),
        ("hash", "cd" * 32),
        ("wallet", "4" + "B" * 94),
        ("domain", "pool.lemon.example"),
    ]
    assert {i.family for i in found} == {"LemonDuck"}
    assert found[0].tags == ("tlp:white",)
    assert [n for n, _ in problems.samples] == [5, 6, 7]


@pytest.mark.parametrize("content", [b"", b"{", b"[]", b'{"type": "bundle"}', b'{"Event": 3}'])
def test_broken_documents_fail_with_a_message(tmp_path: Path, content: bytes) -> None:
    for fmt in ("stix", "misp"):
        feed = tmp_path / "doc.json"
        feed.write_bytes(content)
        try:
            found, problems = read(feed, fmt)
        except InputError as exc:
            assert "JSON" in str(exc)
        else:
            assert found == [] and problems.count >= 1


def test_unreadable_file(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="cannot read"):
        read(tmp_path / "missing.txt")


def test_huge_line_and_binary_garbage(tmp_path: Path) -> None:
    feed = tmp_path / "feed.txt"
    feed.write_bytes(b"pool.example\n" + b"x" * (3 * MAX_LINE) + b"\n\xff\xfe\x00garbage\nb.example\n")
    found, problems = read(feed)
    assert [i.value for i in found] == ["pool.example", "b.example"]
    assert [n for n, _ in problems.samples] == [2, 3]


@given(st.binary(max_size=300))
@settings(max_examples=150, deadline=None)
def test_fuzz_line_formats_never_crash(tmp_path_factory, data: bytes) -> None:
    folder = tmp_path_factory.mktemp("fuzz")
    for name in ("f.txt", "f.csv", "f.jsonl"):
        feed = folder / name
        feed.write_bytes(data)
        with contextlib.suppress(InputError):
            read(feed)
