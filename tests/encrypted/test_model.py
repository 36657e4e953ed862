"""The flow model: its JSON forest scores exactly as the scikit-learn forest it was exported from, hostile
model files are refused with one line, and train/evaluate run end to end on real recordings."""

from __future__ import annotations

import json
import math
import re
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.ensemble import RandomForestClassifier

from minerwatch.capture import feed_capture
from minerwatch.cli.main import main
from minerwatch.decode import Engine, Flow
from minerwatch.encrypted import dataset
from minerwatch.encrypted import model as flow_model
from minerwatch.encrypted.evaluate import evaluate
from minerwatch.encrypted.features import FEATURE_NAMES
from minerwatch.encrypted.flowstats import attach
from minerwatch.encrypted.labels import LabelRule, Labels, read_labels
from minerwatch.encrypted.model import CLASSES, Model, ModelError, load_model, parse
from minerwatch.encrypted.train import export_forest
from minerwatch.flows.inspector import Inspector

RECORDINGS = Path(__file__).parents[1] / "fixtures" / "recordings"
FIXTURES = RECORDINGS.parent / "encrypted"


def small_forest(seed: int = 0) -> tuple[RandomForestClassifier, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(300, len(FEATURE_NAMES))).astype(np.float32)
    y = (x[:, 0] > 0).astype(int) + (x[:, 1] > 1).astype(int)  # three classes
    forest = RandomForestClassifier(n_estimators=7, max_depth=6, random_state=seed).fit(x, y)
    return forest, x


def exported(seed: int = 0) -> Model:
    forest, _ = small_forest(seed)
    return Model(CLASSES, export_forest(forest), {"tls_mining": 0.5, "chia": 0.5})


def test_json_forest_scores_as_scikit_learn() -> None:
    """float32 inputs: scikit-learn compares in float32, the JSON forest in float64; on values float32
    holds exactly both must agree to the last bit of the averaged probabilities."""
    forest, x = small_forest()
    model = parse(
        json.loads(Model(CLASSES, export_forest(forest), {"tls_mining": 0.5, "chia": 0.5}).to_json())
    )
    expected = forest.predict_proba(
        np.random.default_rng(1).normal(size=(200, x.shape[1])).astype(np.float32)
    )
    points = np.random.default_rng(1).normal(size=(200, x.shape[1])).astype(np.float32)
    for point, want in zip(points, expected, strict=True):
        got = model.probabilities([float(v) for v in point])
        assert [got[c] for c in CLASSES] == pytest.approx(list(want), abs=1e-12)


def test_shipped_model_loads_with_its_training_metadata() -> None:
    model = load_model()
    meta = model.metadata
    assert meta["feature_version"] == flow_model.FEATURE_VERSION
    assert meta["training_sizes"] and meta["trained_sessions"] and meta["scikit_learn"]
    assert set(model.thresholds) == {"tls_mining", "chia"}


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: d.update(format="pickle"), "not a minerwatch-forest"),
        (lambda d: d.update(feature_version=999), "feature version 999"),
        (lambda d: d["trees"][0]["left"].__setitem__(0, 0), "points outside its tree"),  # a cycle
        (lambda d: d["trees"][0]["right"].__setitem__(0, 10**9), "points outside its tree"),
        (lambda d: d["trees"][0]["feature"].__setitem__(0, 10**6), "points outside its tree"),
        (lambda d: d["trees"][0]["threshold"].pop(), "differ in length"),
        (lambda d: d.update(trees=[]), "no trees"),
        (lambda d: d["thresholds"].update(chia=0), "thresholds"),
        (lambda d: d.update(classes=["benign", "x", "chia"]), "classes"),
    ],
)
def test_malformed_models_are_refused(tmp_path: Path, change, message: str) -> None:
    doc = json.loads(exported().to_json())
    change(doc)
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(doc))
    with pytest.raises(ModelError, match=message):
        load_model(path)


@settings(max_examples=200, deadline=None)
@given(data=st.data())
def test_fuzzed_model_files_load_or_fail_with_model_error(tmp_path_factory, data) -> None:
    """Any mutation of a valid model file either loads (and then scores in bounded time) or is a
    ModelError: never another exception, never a loop."""
    doc = json.loads(exported(1).to_json())
    tree = data.draw(st.sampled_from(doc["trees"]))
    key = data.draw(st.sampled_from(["feature", "threshold", "left", "right", "value"]))
    index = data.draw(st.integers(0, len(tree[key]) - 1))
    tree[key][index] = data.draw(
        st.one_of(st.integers(-3, 2**40), st.floats(allow_nan=True), st.none(), st.text(max_size=3),
                  st.lists(st.floats(-1, 2), max_size=4))
    )  # fmt: skip
    path = tmp_path_factory.mktemp("fuzz") / "model.json"
    path.write_text(json.dumps(doc))
    try:
        model = load_model(path)
    except ModelError:
        return
    point = data.draw(
        st.lists(st.floats(-1e6, 1e6), min_size=len(FEATURE_NAMES), max_size=len(FEATURE_NAMES))
    )
    scores = model.probabilities(point)
    assert set(scores) == set(CLASSES)


def test_unreadable_and_non_json_models(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match="cannot read model"):
        load_model(tmp_path / "missing.json")
    (tmp_path / "x.json").write_bytes(b"\x80pickle")
    with pytest.raises(ModelError, match="not JSON"):
        load_model(tmp_path / "x.json")


def write_labels(path: Path, rows: list[str]) -> Path:
    path.write_text("capture,label,session\n" + "\n".join(rows) + "\n")
    return path


def test_train_then_evaluate_on_real_recordings(tmp_path: Path, capsys) -> None:
    """Train on the real XMRig --tls session and real benign TLS/SSH recordings, then evaluate on the
    same sessions (--all-sessions: a check that the pieces fit, not a quality figure)."""
    captures = [
        RECORDINGS / name
        for name in (
            "xmrig-6.16.0-cryptonote-tls.pcapng",
            "postgres-psql-15-tls.pcapng",
            "ssh-hydra-9.4.pcapng",
        )
    ]
    labels = write_labels(
        tmp_path / "labels.csv",
        ["xmrig-6.16.0-cryptonote-tls.pcapng,tls_mining,xmrig", "postgres-psql-15-tls.pcapng,benign,pg",
         "ssh-hydra-9.4.pcapng,benign,ssh"],
    )  # fmt: skip
    out = tmp_path / "model.json"
    args = ["model", "train", *map(str, captures), "--labels", str(labels), "-o", str(out)]
    assert main([*args, "--holdout-percent", "0"]) == 0
    model = load_model(out)
    assert model.metadata["training_sizes"] == {
        "benign": {"flows": 15, "sessions": 2},
        "tls_mining": {"flows": 1, "sessions": 1},
    }
    assert model.metadata["held_out_sessions"] == []
    capsys.readouterr()
    assert main(["model", "evaluate", "--model", str(out), *map(str, captures), "--labels", str(labels)]) == 0
    assert "evaluated 0 flows (16 from training sessions left out)" in capsys.readouterr().out
    evaluate = ["model", "evaluate", "--model", str(out), "--all-sessions", *map(str, captures)]
    assert main([*evaluate, "--labels", str(labels)]) == 0
    lines = {line.split()[0]: line.split() for line in capsys.readouterr().out.splitlines() if line}
    assert lines["tls_mining"][1:5] == ["1", "1", "recall", "100.00%"]
    assert lines["benign"][1:5] == ["15", "2", "FPR", "0.00%"]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("capture,session\nx,y\n", "header lacks label"),
        ("capture,label,session\nx.pcap,miner,s\n", "line 2: label 'miner'"),
        ("capture,label,session,src_port\nx.pcap,benign,s,99999\n", "line 2: '99999' is not a port"),
        ("capture,label,session,dest_ip\nx.pcap,benign,s,1.2.3\n", "line 2: .*1.2.3"),
        ("capture,label,session\n", "has no rows"),
    ],
)
def test_bad_labels_are_one_line_usage_errors(tmp_path: Path, capsys, content: str, message: str) -> None:
    labels = tmp_path / "labels.csv"
    labels.write_text(content)
    capture = RECORDINGS / "xmrig-6.16.0-cryptonote-tls.pcapng"
    assert main(["model", "evaluate", str(capture), "--labels", str(labels)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1
    assert re.search(message, err)


def fixture_flows(split: str):
    """The labelled flows of the recorded fixture set (tests/fixtures/encrypted) in one split."""
    folder = Path(__file__).parents[1] / "fixtures" / "encrypted"
    data = dataset.load(sorted(folder.glob("*.pcap")), read_labels(folder / "labels.csv"))
    assert data.unlabelled == 0 and not data.errors
    return [f for f in data.flows if f.split == split]


def test_shipped_model_on_the_held_out_fixture_sessions() -> None:
    """The fixture set's test sessions (other option sets, ports, cadences; many short connections in
    b15-b21, c05 and m12) were held out of the shipped model's training: every mining and Chia flow
    flagged as such, no benign flow flagged."""
    model = load_model()
    flows = fixture_flows("test")
    assert not {f.session for f in flows} & set(model.metadata["trained_sessions"])
    results = evaluate(model, flows)
    assert results["benign"].flows >= 100 and results["benign"].flagged == 0
    assert results["tls_mining"].flows >= 6 and results["chia"].flows >= 10
    for label in ("tls_mining", "chia"):
        assert results[label].flagged == results[label].flows, label


def test_shipped_model_flags_nothing_in_the_benign_corpus(corpus: Path) -> None:
    names = [row.split("|")[1].strip() for row in (corpus / "INDEX.md").read_text().splitlines()
             if "| BENIGN |" in row]  # fmt: skip
    labels = Labels([LabelRule(Path(name).name, "benign", name) for name in names])
    data = dataset.load([corpus / name for name in names], labels)
    results = evaluate(load_model(), data.flows)
    assert results["benign"].flows > 50
    assert results["benign"].flagged == 0


@pytest.mark.parametrize(
    "capture",
    [RECORDINGS / "xmrig-6.16.0-cryptonote-tls.pcapng", *sorted(FIXTURES.glob("*.pcap"))],
    ids=lambda p: p.name,
)
def test_the_compiled_checkpoint_gate_is_the_score_passing_its_threshold(capture: Path) -> None:
    """Model.flags (no Python object) says what passes(score(flow)) says, at every checkpoint and end of
    real flows, also with the threshold set to the score itself and to the next double above it."""
    shipped = load_model()
    model = Model(shipped.classes, shipped.trees, dict(shipped.thresholds))
    checked: list[bool] = []

    def observe(flow: Flow, reason: str | None) -> None:
        scores = model.score(flow)
        for cls in ("tls_mining", "chia"):
            for threshold in (shipped.thresholds[cls], scores[cls], math.nextafter(scores[cls], 2.0)):
                model.thresholds[cls] = threshold
                assert model.flags(flow, cls) == model.passes(scores, cls)
                checked.append(model.passes(scores, cls))

    engine = Engine(Inspector([]))
    attach(engine, [observe])
    feed_capture(capture, engine)
    engine.finish()
    assert True in checked and False in checked
