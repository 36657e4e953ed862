"""scan-disk's findings read back for the Chia join (correlate/disk.py): a findings file is hostile input,
so what is kept is bounded, what is skipped is counted, and nothing in it raises."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from minerwatch.correlate import disk
from minerwatch.correlate.disk import MAX_LINE, MAX_LISTED, MAX_TEXT, DiskFindings
from minerwatch.errors import InputError


def finding(host: str = "10.0.0.5", kind: str = "plot", n: int = 0, **extra) -> dict:
    body = {"kind": kind, "path": f"/srv/plots/p{n}.plot", "size": 1000 + n, "confidence": 0.95} | extra
    return {
        "timestamp": f"2026-12-01T00:00:{n % 60:02d}Z",
        "event_type": "diskmining",
        "event_id": n + 1,
        "src_ip": host,
        "diskmining": body,
    }


def read(tmp_path: Path, lines: list[bytes]) -> DiskFindings:
    path = tmp_path / "disk.jsonl"
    path.write_bytes(b"\n".join(lines) + b"\n")
    found = DiskFindings()
    found.read_file(str(path))
    return found


def line(event: dict) -> bytes:
    return json.dumps(event).encode()


def test_what_is_not_a_finding_is_counted_and_skipped(tmp_path: Path) -> None:
    lines = [
        line(finding(n=1)),
        b"not json",
        line({"event_type": "stats", "stats": {}}),
        line(finding(kind="wallet")),  # no such kind
        line(finding(n=2) | {"src_ip": 7}),
        line(finding(n=3, confidence=float("nan"))),  # NaN is no confidence
        line(finding(n=4, size=-1)),
        b"[" * 100_000 + b"]" * 100_000,  # nesting deeper than the JSON parser recurses
        b"x" * (MAX_LINE + 10) + b'"' + line(finding(n=5)),  # one long line, a finding at its end
        b"",
        line(finding(n=6)),
    ]
    found = read(tmp_path, lines)
    assert found.stats.lines == len(lines) and found.stats.findings == 2
    assert found.stats.skipped_lines == len(lines) - 3  # the two findings and the empty line
    [host] = found.hosts.values()
    assert [f.source.split(":")[-1] for f in host.findings()] == ["1 (event 2)", "11 (event 7)"]


def test_kept_fields_are_known_and_cut_to_size(tmp_path: Path) -> None:
    event = finding(
        path="/" + "p" * 100_000,
        k=2**70,  # no such k: dropped
        pool_urls=["https://pool.example/"] * 100 + [{"nested": "no"}],
        farmer_public_key="ab" * 48,
        secret="never kept",
        expected_size=float("inf"),
    )
    [host] = read(tmp_path, [line(event)]).hosts.values()
    [kept] = host.findings()
    assert len(kept.body["path"]) == MAX_TEXT
    assert kept.body["pool_urls"] == ["https://pool.example/"] * disk.MAX_ITEMS
    assert {"k", "secret", "expected_size"}.isdisjoint(kept.body)
    assert host.farmer_keys == {"ab" * 48}


def test_each_host_lists_its_plots_first_and_counts_all(tmp_path: Path) -> None:
    temps = [line(finding(kind="plot_in_progress", n=n)) for n in range(100)]
    plots = [line(finding(n=100 + n, complete=True)) for n in range(5)]
    found = read(tmp_path, temps[:50] + plots + temps[50:])
    [host] = found.hosts.values()
    listed = host.findings()
    assert len(listed) == MAX_LISTED and sum(f.body["kind"] == "plot" for f in listed) == 5
    assert host.counts == {"plot_in_progress": 100, "plot": 5} and host.plots_complete == 5
    assert host.plot_bytes == sum(1100 + n for n in range(5))


def test_hosts_are_bounded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(disk, "MAX_HOSTS", 3)
    found = read(tmp_path, [line(finding(host=f"10.0.0.{n}", n=n)) for n in range(10)])
    assert len(found.hosts) == 3 and found.stats.hosts_dropped == 7 and found.stats.findings == 10


def test_an_unreadable_file_is_one_line(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"^cannot read disk findings .*missing"):
        DiskFindings().read_file(str(tmp_path / "missing"))


@settings(deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture], max_examples=200)
@given(
    st.lists(
        st.one_of(
            st.binary(max_size=300),
            st.builds(
                line,
                st.builds(
                    finding,
                    host=st.text(max_size=20),
                    kind=st.sampled_from([*disk.KINDS, "other"]),
                    n=st.integers(0, 10**6),
                    size=st.one_of(st.integers(), st.floats(), st.none(), st.text(max_size=5)),
                    confidence=st.one_of(st.floats(), st.integers(-2, 2), st.booleans()),
                ),
            ),
        ),
        max_size=40,
    )
)
def test_any_file_is_read_without_error(tmp_path: Path, lines: list[bytes]) -> None:
    found = read(tmp_path, lines)
    assert found.stats.findings + found.stats.skipped_lines <= found.stats.lines
    for host in found.hosts.values():
        assert len(host.findings()) <= MAX_LISTED and sum(host.counts.values()) >= len(host.findings())
        for kept in host.findings():
            assert 0 <= kept.body["confidence"] <= 1 and kept.body["size"] >= 0
