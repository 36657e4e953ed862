"""The shipped set names every mining family issue 4 lists, as loaded by minerwatch itself: seeded into a
fresh knowledge base (source minerwatch-builtin) and matched through IntelMatcher, each hit naming its
family and a public reference."""

from __future__ import annotations

from pathlib import Path

import pytest

from minerwatch.intel import builtin
from minerwatch.intel.matcher import IntelMatcher
from minerwatch.intel.store import KnowledgeBase

# Issue 4: "Kinsing, TeamTNT, WatchDog, H2Miner, Sysrv, LemonDuck, 8220" (8220 is shipped as "8220 Gang").
FAMILIES = ["Kinsing", "TeamTNT", "WatchDog", "H2Miner", "Sysrv", "LemonDuck", "8220 Gang"]


@pytest.fixture(scope="module")
def shipped_rows(tmp_path_factory) -> list[tuple]:
    path: Path = tmp_path_factory.mktemp("kb") / "intel.sqlite"
    with KnowledgeBase.open(path) as kb:
        return list(kb.rows(builtin.BUILTIN_SOURCE))


@pytest.fixture(scope="module")
def shipped_matcher(shipped_rows) -> IntelMatcher:
    return IntelMatcher.from_rows(shipped_rows)


@pytest.mark.parametrize("family", FAMILIES)
def test_family_is_shipped_and_matched(shipped_rows, shipped_matcher: IntelMatcher, family: str) -> None:
    rows = [r for r in shipped_rows if r[3] == family]
    assert rows, f"no shipped indicator names {family}"
    for _source, kind, value, *_rest in rows:
        assert kind in ("domain", "ip"), (family, kind, value)
        hits = shipped_matcher.match_domain(value) if kind == "domain" else shipped_matcher.match_ip(value)
        mine = [h for h in hits if h.family == family]
        assert mine, (family, value)
        assert all(h.source == builtin.BUILTIN_SOURCE for h in mine)
        assert all(h.reference.startswith("https://") for h in mine)
        assert "c2" in mine[0].tags


def test_family_indicators_name_their_list() -> None:
    """Every family row carries the URL of the public list it was copied from (SOURCES.md)."""
    lists = (
        "https://github.com/stamparm/maltrail/",
        "https://github.com/getCUJO/ThreatIntel/",
        "https://github.com/uptycslabs/IOCs/",
    )
    with KnowledgeBase.open(":memory:") as kb:
        rows = [r for r in kb.rows(builtin.BUILTIN_SOURCE) if r[3] in FAMILIES]
    assert rows
    assert [r[2] for r in rows if not r[9].startswith(lists)] == []
