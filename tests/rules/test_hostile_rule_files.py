"""User rule files are hostile: whatever the YAML holds, loading gives one-line "file:line: message" errors
(exit 2 from the CLI), never an exception; and random documents never get past that contract."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from minerwatch.cli.main import main
from minerwatch.detectors.exploits.detector import rule_set
from minerwatch.detectors.exploits.examples import check, counts
from minerwatch.detectors.exploits.loader import MAX_DEPTH, load_file, load_rules
from minerwatch.errors import InputError

RULE = """rules:
  - id: 9900001
    name: {name}
    stage: exploitation
    protocol: http
    recommendation: patch
    match: {{field: http.uri, contains: /evil}}
"""

DEEP = ":1: invalid YAML: nested deeper than"
LONG = ":2: invalid YAML: integer longer than"
HOSTILE = {
    "impossible date": ("rules:\n  - id: 9900001\n    when: 2024-13-45 25:61:00\n", ":2: rule 9900001"),
    "5000-digit integer": ("rules:\n  - id: " + "9" * 5000 + "\n", LONG),
    "sexagesimal integer": ("rules:\n  - id: 1" + ":59" * 100_000 + "\n", LONG),
    "300 flow lists": ("rules: " + "[" * 300 + "]" * 300 + "\n", DEEP),
    "100k flow lists": ("rules: " + "[" * 100_000 + "]" * 100_000 + "\n", DEEP),
    "100k flow maps": ("rules: " + "{a: " * 100_000 + "}" * 100_000 + "\n", DEEP),
    "block nesting": ("rules:\n" + "".join(" " * i + "- \n" for i in range(1, 300)), "invalid YAML: nested"),
    "aliases": ("a: &a [x]\nrules: [*a]\n", "invalid YAML: aliases"),
    "python tag": ("rules: !!python/object:os.system {}\n", "invalid YAML"),
    "bad base64": ("rules: !!binary 'a'\n", "invalid YAML"),
    "newline in a key": ('rules:\n  - {"a\\nb": 1}\n', r"unknown key(s) a\x0ab"),
}


@pytest.mark.parametrize("text, expected", HOSTILE.values(), ids=HOSTILE.keys())
def test_hostile_file_is_one_error_line(tmp_path: Path, text: str, expected: str) -> None:
    path = tmp_path / "hostile.yml"
    path.write_text(text)
    rules, errors = load_file(path)
    assert rules == []
    assert len(errors) == 1 and "\n" not in errors[0]
    assert errors[0].startswith(f"{path}:") and expected in errors[0]


def test_nesting_up_to_the_limit_loads(tmp_path: Path) -> None:
    path = tmp_path / "deep.yml"
    deep = "[" * (MAX_DEPTH - 3) + "]" * (MAX_DEPTH - 3)
    path.write_text(RULE.format(name="deep") + f"    description: {deep}\n")
    rules, errors = load_file(path)
    assert errors == [] and [r.name for r in rules] == ["deep"]


def test_timestamps_stay_strings(tmp_path: Path) -> None:
    path = tmp_path / "dated.yml"
    path.write_text(RULE.format(name="2024-05-01 10:00:00 +14:00"))
    rules, errors = load_file(path)
    assert errors == [] and rules[0].name == "2024-05-01 10:00:00 +14:00"


def test_cli_rules_test_exits_2_with_one_line(tmp_path: Path, capsys) -> None:
    path = tmp_path / "deep.yml"
    path.write_text(HOSTILE["100k flow lists"][0])
    assert main(["rules", "test", str(path)]) == 2
    err = capsys.readouterr().err.splitlines()
    assert err[0] == f"minerwatch: {path}:1: invalid YAML: nested deeper than {MAX_DEPTH} levels"
    assert len(err) == 2  # the problem and the count


def test_analyze_rules_raises_input_error(tmp_path: Path) -> None:
    """`analyze --rules FILE` builds its rule set here; an InputError is the CLI's exit 2."""
    path = tmp_path / "big.yml"
    path.write_text(HOSTILE["5000-digit integer"][0])
    with pytest.raises(InputError, match="integer longer than"):
        rule_set((path,))


_SCALARS = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20)
_DOCUMENTS = st.recursive(
    _SCALARS,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=30,
)
_YAML_TEXT = st.text(alphabet="rules:-[]{}&*!|>'\"#%@`?,.0123456789eE+ \n\tabcxyz_:T", max_size=200)
_FIELDS = st.sampled_from(["id", "name", "stage", "protocol", "match", "recommendation", "tests", "severity"])


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.one_of(
        _YAML_TEXT,
        _DOCUMENTS.map(lambda d: yaml.safe_dump({"rules": d})),
        st.lists(st.dictionaries(_FIELDS, _DOCUMENTS, max_size=8), max_size=3).map(
            lambda rules: yaml.safe_dump({"rules": rules})
        ),
    )
)
def test_random_documents_load_or_fail_in_one_line(text: str) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "fuzz.yml"
        path.write_text(text)
        rules, errors = load_rules([path])
    assert all(isinstance(e, str) and "\n" not in e and e.startswith(str(path)) for e in errors)
    assert all(r.sid > 0 for r in rules)


def test_rule_names_are_shown_escaped_never_as_markup(tmp_path: Path, capsys) -> None:
    """A name is the user's text: Rich markup in it raised MarkupError in `rules list`, and terminal escapes
    reached the terminal in `rules test`."""
    path = tmp_path / "names.yml"
    path.write_text(RULE.format(name='"[/bold] evil \\e[31mred \\u202e"'))
    assert main(["rules", "list", "--no-shipped", "--rules", str(path)]) == 0
    assert main(["rules", "test", str(path)]) == 1  # no examples: the rule fails, the file loads
    out = capsys.readouterr().out
    assert out.count("[/bold] evil \\x1b[31mred \\u202e") == 2
    assert "\x1b" not in out and "\u202e" not in out


def test_tests_of_the_wrong_shape_are_a_load_error(tmp_path: Path) -> None:
    """`tests: {match: 5}` raised TypeError in `rules test`; a mapping under 'nomatch' was iterated by key."""
    for tests in ("{match: 5}", "{match: [], nomatch: {a: 1}}", "{matches: []}", "[1]"):
        path = tmp_path / "tests.yml"
        path.write_text(RULE.format(name="t") + f"    tests: {tests}\n")
        rules, errors = load_file(path)
        assert rules == [] and len(errors) == 1 and "'tests' must be a mapping" in errors[0]


_EXAMPLE_KEYS = st.sampled_from(["tcp", "request", "response", "direction", "headers", "body", "status"])
_EXAMPLES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(10**6), 10**6)
    | st.text(max_size=20)
    | st.sampled_from(["to_client", "/evil"]),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(_EXAMPLE_KEYS | st.text(max_size=4), inner),
    max_leaves=12,
)


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(st.sampled_from(["match", "nomatch"]), st.lists(_EXAMPLES, max_size=3) | st.none()))
def test_random_examples_are_checked_or_reported(tests: dict) -> None:
    """`rules test` runs whatever examples a user file holds: each gives a verdict or a problem line."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "examples.yml"
        flow = yaml.safe_dump(tests, default_flow_style=True)
        path.write_text(RULE.format(name="t") + "    tests: " + flow)
        rules, errors = load_file(path)
    assert errors == []
    assert all(isinstance(p, str) for p in check(rules[0]))
    assert sum(counts(rules[0])) == sum(len(v or []) for v in tests.values())
