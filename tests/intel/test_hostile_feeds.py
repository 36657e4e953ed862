"""Hostile feeds: every bad entry is skipped and counted with its line/index and reason while the good
ones import; broken documents are one InputError; memory does not follow a document's size; CSV export
neutralises formulas. The fuzz tests feed random structures to every reader."""

from __future__ import annotations

import csv
import io
import json
import tracemalloc
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from minerwatch.cli.main import main
from minerwatch.errors import InputError
from minerwatch.intel.formats import read_indicators
from minerwatch.intel.formats.base import Problems
from minerwatch.intel.formats.csvfile import MAX_RECORD_LINES
from minerwatch.intel.formats.stix import MAX_PATTERN
from minerwatch.intel.formats.stream import MAX_DEPTH

GOOD = "good.example"


def read(path: Path, fmt: str | None = None) -> tuple[list, Problems]:
    problems = Problems()
    return list(read_indicators(path, fmt, problems)), problems


def feed(tmp_path: Path, name: str, content: str | bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(content.encode() if isinstance(content, str) else content)
    return path


@pytest.mark.parametrize(
    "row, reason",
    [
        ({"tags": 5}, "'tags' must be a string or a list of strings, not int"),
        ({"tags": True}, "not bool"),
        ({"tags": ["ok", {"a": 1}]}, "'tags' must be a string, not dict"),
        ({"family": ["x"]}, "'family' must be a string, not list"),
        ({"value": {"a": 1}}, "'value' must be a string, not dict"),
        ({"first_seen": "0001-01-01T00:00:00+14:00"}, "time out of range in UTC"),
        ({"valid_until": "9999-12-31T23:59:59-14:00"}, "time out of range in UTC"),
        ({"last_seen": [2024]}, "'time' must be a string, not list"),
        ({"confidence": False}, "'confidence' must be a string, not bool"),
    ],
)
def test_jsonl_fields_of_the_wrong_type_are_counted(tmp_path: Path, row: dict, reason: str) -> None:
    bad = {"type": "domain", "value": "bad.example", **row}
    path = feed(
        tmp_path, "f.jsonl", json.dumps(bad) + "\n" + json.dumps({"value": GOOD, "tags": ["a"]}) + "\n"
    )
    found, problems = read(path)
    assert [i.value for i in found] == [GOOD]
    assert problems.count == 1 and problems.samples[0][0] == 1 and reason in problems.samples[0][1]


def test_csv_time_out_of_range_is_counted(tmp_path: Path) -> None:
    path = feed(tmp_path, "f.csv", f"value,first_seen\nbad.example,0001-01-01T00:00:00+14:00\n{GOOD},\n")
    found, problems = read(path)
    assert [i.value for i in found] == [GOOD]
    assert problems.samples == [(2, "time out of range in UTC: '0001-01-01T00:00:00+14:00'")]


def test_csv_unclosed_quote_is_reported_at_its_line_and_the_rest_imports(tmp_path: Path) -> None:
    rows = "".join(f"h{n}.example,f{n}\n" for n in range(3))
    path = feed(tmp_path, "f.csv", f'value,family\n# note\nbad.example,"oops\n{rows}')
    found, problems = read(path)
    assert [i.value for i in found] == ["h0.example", "h1.example", "h2.example"]
    assert problems.count == 1 and problems.samples[0][0] == 3 and "unclosed quote" in problems.samples[0][1]


def test_csv_quote_open_longer_than_a_record_may_span(tmp_path: Path) -> None:
    rows = "".join(f"h{n}.example,f{n}\n" for n in range(MAX_RECORD_LINES + 2))
    path = feed(tmp_path, "f.csv", f'value,family\nbad.example,"oops\n{rows}h9.example,"late\n')
    found, problems = read(path)
    assert len(found) == MAX_RECORD_LINES + 2
    assert [n for n, _ in problems.samples] == [2, MAX_RECORD_LINES + 5]


def test_csv_multi_line_quoted_field_is_one_record(tmp_path: Path) -> None:
    path = feed(tmp_path, "f.csv", f'value,family\n{GOOD},"two\nlines"\nnext.example,x\n')
    found, problems = read(path)
    assert [(i.value, i.family) for i in found] == [(GOOD, "two\nlines"), ("next.example", "x")]
    assert problems.count == 0


HOSTILE_CELLS = ["=cmd|' /C calc'!A0", "+1+1", "-2+3", "@SUM(1)", "\tx", "\rx", "'=kept"]


def test_csv_export_neutralises_formulas_and_reimports_the_same(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("MINERWATCH_INTEL_DB", str(tmp_path / "kb.sqlite"))
    rows = [
        {"value": f"h{n}.example", "family": cell, "reference": cell} for n, cell in enumerate(HOSTILE_CELLS)
    ]
    source = feed(tmp_path, "src.jsonl", "".join(json.dumps(r) + "\n" for r in rows))
    assert main(["intel", "import", str(source)]) == 0
    out = tmp_path / "out.csv"
    assert main(["intel", "export", "--source", "src", "--format", "csv", "-o", str(out)]) == 0
    cells = [c for row in csv.reader(io.StringIO(out.read_text(), newline="")) for c in row]
    assert not [c for c in cells if c[:1] in ("=", "+", "-", "@", "\t", "\r")]
    assert main(["intel", "import", str(out), "--source", "copy"]) == 0
    again = tmp_path / "again.jsonl"
    assert main(["intel", "export", "--source", "copy", "--format", "jsonl", "-o", str(again)]) == 0
    families = {
        json.loads(line)["value"]: json.loads(line)["family"] for line in again.read_text().splitlines()
    }
    stripped = {f"h{n}.example": cell.strip() for n, cell in enumerate(HOSTILE_CELLS)}
    assert families == stripped


def stix(*patterns: str) -> str:
    objects = [
        {
            "type": "indicator",
            "spec_version": "2.1",
            "id": f"indicator--00000000-0000-4000-8000-{n:012d}",
            "created": "2024-01-01T00:00:00Z",
            "modified": "2024-01-01T00:00:00Z",
            "pattern": pattern,
            "pattern_type": "stix",
            "valid_from": "2024-01-01T00:00:00Z",
        }
        for n, pattern in enumerate(patterns)
    ]
    return json.dumps({"type": "bundle", "id": "bundle--1", "objects": objects})


def test_stix_pattern_with_20000_or_terms_is_rejected_and_counted(tmp_path: Path) -> None:
    huge = " OR ".join(f"[domain-name:value = 'd{n}.example']" for n in range(20_000))
    nested = "(" * 600 + "[domain-name:value = 'deep.example']" + ")" * 600  # under MAX_PATTERN, too deep
    assert len(nested) < MAX_PATTERN
    path = feed(tmp_path, "b.json", stix(huge, nested, f"[domain-name:value = '{GOOD}']"))
    found, problems = read(path, "stix")
    assert [i.value for i in found] == [GOOD]
    assert problems.samples == [
        (1, f"pattern longer than {MAX_PATTERN} characters, not read"),
        (2, "pattern nested too deeply to read"),
    ]


def misp(attributes: object = None, **event: object) -> str:
    good = {"type": "domain", "value": GOOD}
    body = {"Attribute": [good] if attributes is None else attributes, **event}
    return json.dumps({"response": [{"Event": body}]})


@pytest.mark.parametrize(
    "document, found, problem",
    [
        (misp({"type": "domain", "value": GOOD}), [], "event 1: Attribute is a JSON object, not an array"),
        (misp("x"), [], "event 1: Attribute is a JSON string, not an array"),
        (misp(["x", {"type": "domain", "value": GOOD}]), [GOOD], "attribute is a JSON string"),
        (misp([None, {"type": "domain", "value": GOOD}]), [GOOD], "attribute is a JSON null"),
        (misp(Object={"Attribute": []}), [GOOD], "event 1: Object is a JSON object, not an array"),
        (misp(Object=["o"]), [GOOD], "event 1: an Object entry is a JSON string, not an object"),
        (misp(Object=[{"Attribute": "s"}]), [GOOD], "event 1: Attribute is a JSON string, not an array"),
        (misp(Tag="tlp:white"), [GOOD], "event 1: Tag is a JSON string, not an array"),
        (misp(Tag=["tlp:white"]), [GOOD], "event 1: a Tag entry holds a JSON string, not an object"),
        (misp(Galaxy={"GalaxyCluster": []}), [GOOD], "event 1: Galaxy is a JSON object, not an array"),
        (misp(Galaxy=[{"GalaxyCluster": {"value": "x"}}]), [GOOD], "GalaxyCluster is a JSON object"),
        (misp(Galaxy=[[1]]), [GOOD], "event 1: a Galaxy entry is a JSON array, not an object"),
        (misp(info={"a": 1}), [GOOD], "event 1: 'info' must be a string, not dict"),
        (misp([{"type": "domain", "value": GOOD, "Tag": {"name": "a"}}]), [], "Tag is a JSON object"),
        (misp([{"type": ["domain"], "value": GOOD}]), [], "'type' must be a string, not list"),
        (misp([{"type": "domain", "value": GOOD, "first_seen": "0001-01-01T00:00:00+14:00"}]), [], "range"),
        (json.dumps({"Event": 3}), [], "event 1: Event is a JSON number, not an object"),
        (
            json.dumps([{"Event": []}, {"Event": {"Attribute": [{"type": "domain", "value": GOOD}]}}]),
            [GOOD],
            "array",
        ),
    ],
)
def test_misp_parts_of_the_wrong_type_are_counted(
    tmp_path: Path, document: str, found: list, problem: str
) -> None:
    indicators, problems = read(feed(tmp_path, "e.json", document), "misp")
    assert [i.value for i in indicators] == found
    assert problems.count == 1 and problem in problems.samples[0][1]


def test_misp_event_fields_after_the_attributes_still_apply(tmp_path: Path) -> None:
    """MISP writes Tag and Galaxy after Attribute: the streamed reader still gives them to each event's own
    attributes."""
    events = [
        {
            "Attribute": [{"type": "domain", "value": f"e{n}.example"}],
            "Tag": [{"name": f"t{n}"}],
            "info": f"i{n}",
        }
        for n in range(3)
    ]
    events[1]["Galaxy"] = [{"GalaxyCluster": [{"value": "Kinsing"}]}]
    path = feed(tmp_path, "e.json", json.dumps({"response": [{"Event": e} for e in events]}))
    found, problems = read(path, "misp")
    assert [(i.value, i.family, i.tags) for i in found] == [
        ("e0.example", "i0", ("t0",)),
        ("e1.example", "Kinsing", ("t1",)),
        ("e2.example", "i2", ("t2",)),
    ]
    assert problems.count == 0


@pytest.mark.parametrize("fmt", ["stix", "misp"])
@pytest.mark.parametrize(
    "content, message",
    [
        (
            b'{"objects": ' + b"[" * 100_000 + b"]" * 100_000 + b"}",
            f"JSON nested deeper than {MAX_DEPTH} levels",
        ),
        (b'{"Event": {"Attribute": [' + b"{}," * 1000 + b"{", "not valid JSON"),
        (b'{"type": "bundle", "objects": [1, 2,]}', "not valid JSON"),
        (b"\xff\xfe{}", "not valid JSON"),
    ],
)
def test_broken_documents_are_one_input_error(tmp_path: Path, fmt: str, content: bytes, message: str) -> None:
    path = feed(tmp_path, "d.json", content)
    with pytest.raises(InputError) as caught:
        read(path, fmt)
    assert str(caught.value).startswith(f"{path}: ") and message in str(caught.value)
    assert "\n" not in str(caught.value)


def test_cli_import_reports_rejected_entries_and_exits_2_on_broken_json(
    tmp_path: Path, monkeypatch, capsys
) -> None:
    monkeypatch.setenv("MINERWATCH_INTEL_DB", str(tmp_path / "kb.sqlite"))
    good = feed(tmp_path, "e.json", misp(["x", {"type": "domain", "value": GOOD}], Tag="bad"))
    assert main(["intel", "import", str(good), "--format", "misp"]) == 0
    out, err = capsys.readouterr()
    assert "imported 1 indicators" in out
    assert "skipped 2 bad entries:" in err
    assert (
        f"{good}:0: event 1: Tag is a JSON string" in err and f"{good}:1: attribute is a JSON string" in err
    )
    broken = feed(tmp_path, "b.json", b'{"Event": {"Attribute": [')
    assert main(["intel", "import", str(broken), "--format", "misp"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith(f"minerwatch: error: {broken}: not valid JSON")


def misp_document(attributes: int) -> bytes:
    items = ",".join(
        json.dumps({"type": "domain", "value": f"h{n}.example", "comment": "x" * 200, "Tag": [{"name": "t"}]})
        for n in range(attributes)
    )
    return b'{"Event": {"info": "big", "Attribute": [' + items.encode() + b'], "Tag": [{"name": "tlp"}]}}'


def test_misp_memory_does_not_follow_document_size(tmp_path: Path) -> None:
    """The streamed reader holds one attribute at a time: reading a 6 MB event allocates far less than the
    document (the whole-document parse it replaced held every attribute as Python objects, ~10x the file)."""
    path = feed(tmp_path, "big.json", misp_document(20_000))
    assert path.stat().st_size > 5_000_000
    tracemalloc.start()
    try:
        count = sum(1 for _ in read_indicators(path, "misp", Problems()))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert count == 20_000
    assert peak < 1_000_000


# Fuzz: random JSON, shaped like each format or not, must give indicators or counted problems, or one
# InputError; never another exception.
_SCALARS = (
    st.none() | st.booleans() | st.integers(-(2**63), 2**64 - 1) | st.floats(allow_nan=False) | st.text()
)
_JSON = st.recursive(
    _SCALARS,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=5),
    max_leaves=25,
)
_FIELD_NAMES = st.sampled_from(
    [
        *("type", "value", "tags", "family", "confidence", "first_seen", "valid_until", "Tag", "Galaxy"),
        *("info", "Attribute", "Object", "GalaxyCluster", "name", "comment", "pattern", "pattern_type"),
        *("objects", "id"),
    ]
)
_FIELD_VALUES = _JSON | st.sampled_from(
    [
        *("domain", "ip-dst|port", "url", GOOD, "1.2.3.4|80", "indicator", "bundle", "stix", "a,b"),
        *("2024-01-01T00:00:00Z", "0001-01-01T00:00:00+14:00", "[domain-name:value = 'a.example']"),
        "[x:y = 1] OR [",
    ]
)
_OBJECTS = st.recursive(
    st.dictionaries(_FIELD_NAMES, _FIELD_VALUES, max_size=6),
    lambda inner: st.dictionaries(_FIELD_NAMES, inner | st.lists(inner, max_size=3), max_size=5),
    max_leaves=12,
)
_DOCUMENTS = st.one_of(
    _JSON,
    _OBJECTS,
    _OBJECTS.map(lambda o: {"Event": o}),
    st.lists(_OBJECTS, max_size=3).map(lambda e: {"response": [{"Event": x} for x in e]}),
    st.lists(_OBJECTS, max_size=3).map(lambda o: {"type": "bundle", "objects": o}),
)


def _read_all(path: Path, fmt: str) -> None:
    try:
        found, problems = read(path, fmt)
    except InputError as exc:
        assert "\n" not in str(exc)
        return
    assert all(i.value for i in found)
    assert all("\n" not in reason for _, reason in problems.samples)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(_DOCUMENTS)
def test_fuzz_document_formats(tmp_path: Path, document: object) -> None:
    path = feed(tmp_path, "doc.json", json.dumps(document))
    for fmt in ("misp", "stix", "jsonl"):
        _read_all(path, fmt)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(_OBJECTS | _JSON, max_size=5))
def test_fuzz_line_formats_with_hostile_rows(tmp_path: Path, rows: list) -> None:
    jsonl = feed(tmp_path, "rows.jsonl", "".join(json.dumps(r) + "\n" for r in rows))
    _read_all(jsonl, "jsonl")
    table = io.StringIO()
    writer = csv.writer(table)
    writer.writerow(["value", "type", "tags", "first_seen", "confidence"])
    for row in rows:
        cells = list(row.values())[:5] if isinstance(row, dict) else [row]
        writer.writerow([str(c) for c in cells])
    _read_all(feed(tmp_path, "rows.csv", table.getvalue()), "csv")
    _read_all(feed(tmp_path, "rows.txt", "\n".join(map(str, rows))), "plain")


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.binary(max_size=400) | st.text(alphabet='{}[]":,\\ 0123456789abcdefnulltrue.-eE', max_size=300))
def test_fuzz_document_bytes(tmp_path: Path, data: bytes | str) -> None:
    path = feed(tmp_path, "raw.json", data)
    for fmt in ("misp", "stix", "csv", "jsonl", "plain"):
        _read_all(path, fmt)
