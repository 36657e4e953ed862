"""Issue 18: an analysis never writes the knowledge base unless asked (--learn-pools, or
`intel import --discovered EVENTS`), and learnt pools match apart from curated feeds, at lower confidence."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from minerwatch.cli.main import main
from minerwatch.intel import Indicator, IntelMatcher, KnowledgeBase
from minerwatch.intel.formats.base import Problems
from minerwatch.intel.learn import from_events
from minerwatch.intel.model import DISCOVERED_CONFIDENCE, DISCOVERED_SOURCE

POOL_IP, POOL_NAME = "192.0.2.200", "fresh.pool.example"  # as in conftest.pool_capture


@pytest.fixture
def kb(tmp_path: Path) -> Path:
    path = tmp_path / "kb.sqlite"
    with KnowledgeBase.open(path) as base:
        base.replace_source("feed", [Indicator.build("domain", "known.example")])
    return path


def analyze(capture: Path, kb: Path, out: Path, *more: str, status: int = 1) -> list[dict]:
    args = [str(capture), "--intel-db", str(kb), "-o", str(out), "--no-progress", *more]
    assert main(["analyze", *args]) == status
    return [json.loads(line) for line in out.read_text().splitlines()]


def discovered(kb: Path) -> set[tuple[str, str]]:
    with KnowledgeBase.read(kb) as base:
        return {(i.type, i.value) for i in base.discovered()}


def test_analysis_leaves_the_knowledge_base_untouched(kb: Path, pool_capture: Path, tmp_path: Path) -> None:
    before, stat = kb.read_bytes(), kb.stat()
    events = analyze(pool_capture, kb, tmp_path / "events.jsonl")
    [verdict] = [e["verdict"] for e in events if e["event_type"] == "verdict"]
    assert verdict["pools"][0]["pool_candidate"] is True
    assert verdict["pools"][0]["resolved_names"] == [POOL_NAME]
    assert events[-1]["stats"]["intel"]["discovered_pools"] == 1
    assert kb.read_bytes() == before and kb.stat().st_mtime_ns == stat.st_mtime_ns
    assert discovered(kb) == set()


def test_a_missing_knowledge_base_is_not_created(pool_capture: Path, tmp_path: Path) -> None:
    analyze(pool_capture, tmp_path / "absent.sqlite", tmp_path / "events.jsonl")
    assert not (tmp_path / "absent.sqlite").exists()


def test_learn_pools_records_them_as_discovered(kb: Path, pool_capture: Path, tmp_path: Path) -> None:
    analyze(pool_capture, kb, tmp_path / "events.jsonl", "--learn-pools")
    assert discovered(kb) == {("ip", POOL_IP), ("domain", POOL_NAME)}
    with KnowledgeBase.read(kb) as base:
        assert [s.name for s in base.sources()] == ["feed", "minerwatch-builtin"]  # no feed of its own
        assert base.history()[0][1:4] == ("learn", DISCOVERED_SOURCE, 1)


def test_import_discovered_from_an_events_file(kb: Path, pool_capture: Path, tmp_path: Path, capsys) -> None:
    events = tmp_path / "events.jsonl"
    analyze(pool_capture, kb, events)
    with events.open("a") as fh:
        fh.write("not json\n" + json.dumps({"event_type": "verdict", "verdict": []}) + "\n")
    capsys.readouterr()
    assert main(["intel", "--db", str(kb), "import", "--discovered", str(events)]) == 0
    out, err = capsys.readouterr()
    assert "recorded 1 behaviour-confirmed pools as 'minerwatch-discovered'" in out
    assert "skipped 2 bad entries" in err  # the line that is not JSON, the verdict without a body
    assert discovered(kb) == {("ip", POOL_IP), ("domain", POOL_NAME)}
    assert main(["intel", "--db", str(kb), "list"]) == 0
    assert f"{DISCOVERED_SOURCE}\t2 indicators\tlearnt from captures" in capsys.readouterr().out
    assert main(["intel", "--db", str(kb), "import", "--discovered", "--source", "x", str(events)]) == 2


def test_discovered_pools_match_below_feeds_and_say_so(kb: Path, pool_capture: Path, tmp_path: Path) -> None:
    analyze(pool_capture, kb, tmp_path / "first.jsonl", "--learn-pools")
    with KnowledgeBase.open(kb) as base:
        base.replace_source("curated", [Indicator.build("domain", "other.pool.example")])
    matcher = IntelMatcher.load(kb)
    (learnt,) = matcher.match_ip(POOL_IP)
    (curated,) = matcher.match_domain("other.pool.example")
    assert learnt.discovered and not curated.discovered
    assert learnt.confidence == DISCOVERED_CONFIDENCE < curated.confidence
    events = analyze(pool_capture, kb, tmp_path / "second.jsonl")
    alerts = [e["alert"] for e in events if e["event_type"] == "alert"]
    assert alerts and all(a["intel"]["discovered"] for a in alerts)
    assert {a["category"] for a in alerts} == {"previously discovered mining pool"}
    assert {a["confidence"] for a in alerts} == {DISCOVERED_CONFIDENCE}
    [verdict] = [e["verdict"] for e in events if e["event_type"] == "verdict"]
    assert verdict["confidence"] == 0.6  # stage 2 alone; a learnt pool is no corroboration
    pool = verdict["pools"][0]
    assert pool["pool_candidate"] is True and all(h["discovered"] for h in pool["intel"])


def test_removing_discovered_pools(kb: Path, pool_capture: Path, tmp_path: Path, capsys) -> None:
    analyze(pool_capture, kb, tmp_path / "events.jsonl", "--learn-pools")
    assert main(["intel", "--db", str(kb), "remove", DISCOVERED_SOURCE]) == 0
    assert discovered(kb) == set()


def test_learn_pools_needs_intel(kb: Path, pool_capture: Path, tmp_path: Path, capsys) -> None:
    analyze(pool_capture, kb, tmp_path / "e.jsonl", "--learn-pools", "--no-intel", status=2)
    assert "needs the intel detector" in capsys.readouterr().err


def test_a_feed_cannot_take_the_discovered_name(kb: Path, tmp_path: Path, capsys) -> None:
    feed = tmp_path / "f.txt"
    feed.write_text("pool.example\n")
    assert main(["intel", "--db", str(kb), "import", str(feed), "--source", DISCOVERED_SOURCE]) == 2


_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4),
    max_leaves=20,
)
_POOL = st.fixed_dictionaries(
    {"stages": st.just([2]), "pool_candidate": st.just(True)},
    optional={"ip": _JSON, "port": _JSON, "last_seen": _JSON, "resolved_names": _JSON, "submits": _JSON},
)


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.one_of(
            st.builds(
                lambda p, h: {"event_type": "verdict", "verdict": {"host": h, "pools": p}},
                st.lists(_POOL | _JSON, max_size=3),
                _JSON,
            ),
            _JSON,
        ),
        max_size=5,
    )
)
def test_any_events_file_is_read_or_reported(tmp_path_factory, lines) -> None:
    path = tmp_path_factory.mktemp("events") / "events.jsonl"
    path.write_text("\n".join(json.dumps(line) for line in lines) + "\n")
    problems = Problems()
    for sighting in from_events(path, problems):
        assert sighting.kind in ("ip", "domain") and 0 <= sighting.port <= 65535
