"""Train the flow model (scikit-learn, at training time only) and export it as a JSON forest.

The split is by recording session (the labels' split column, else per class by --holdout-percent): the
held-out sessions' flows are never seen in training, and their names go into the model's metadata so that
`model evaluate` reports on them alone by default. Every snapshot of a flow is a training sample
(detection scores flows at checkpoints, long before they end), weighted so that each flow counts once
whatever its length.

Decision thresholds come from out-of-fold scores (sessions grouped) of the benign training flows: the
lowest threshold at which at most TARGET_FPR of them would be flagged at any checkpoint, never under 0.5.
"""

from __future__ import annotations

import datetime
import hashlib
import math
import platform
from importlib import metadata as package_metadata
from typing import Any

from minerwatch import __version__
from minerwatch.encrypted.dataset import DataSet, LabelledFlow
from minerwatch.encrypted.features import FEATURE_VERSION
from minerwatch.encrypted.model import CLASSES, Model, Tree
from minerwatch.errors import UsageError

TARGET_FPR = 0.0005  # half the 0.1% bar, for what out-of-fold scores do not show
TREES = 60
MAX_DEPTH = 10
MIN_LEAF = 2


def split_sessions(data: DataSet, holdout: float, seed: int) -> set[str]:
    """The sessions held out for evaluation: those the labels put in the test split if they say, else per
    class the `holdout` share (at least one of a class with two or more sessions), chosen by a seeded hash
    of the session's name."""
    if any(f.split is not None for f in data.flows):
        return {f.session for f in data.flows if f.split == "test"}
    held: set[str] = set()
    for label in CLASSES:
        sessions = sorted(
            {f.session for f in data.flows if f.label == label},
            key=lambda s: hashlib.sha256(f"{seed}:{s}".encode()).digest(),
        )
        if len(sessions) >= 2 and holdout > 0:
            held.update(sessions[: max(1, math.floor(holdout * len(sessions)))])
    return held


def _samples(flows: list[LabelledFlow]) -> tuple[list[tuple[float, ...]], list[int], list[float], list[str]]:
    x, y, w, groups = [], [], [], []
    for flow in flows:
        for snapshot in flow.snapshots:
            x.append(snapshot.features)
            y.append(CLASSES.index(flow.label))
            w.append(1.0 / len(flow.snapshots))
            groups.append(flow.session)
    return x, y, w, groups


def _forest(seed: int) -> Any:  # a scikit-learn forest; sklearn is optional and untyped
    try:
        from sklearn.ensemble import RandomForestClassifier
    except ImportError:
        raise UsageError("training needs scikit-learn: pip install 'minerwatch[train]'") from None
    return RandomForestClassifier(
        n_estimators=TREES,
        max_depth=MAX_DEPTH,
        min_samples_leaf=MIN_LEAF,
        class_weight="balanced",
        random_state=seed,
        n_jobs=1,
    )


def export_forest(forest: Any) -> tuple[Tree, ...]:
    """scikit-learn's fitted trees as Trees: leaf values normalised to class probabilities, in CLASSES
    order (the forest may have seen fewer classes)."""
    columns = [list(forest.classes_).index(i) if i in forest.classes_ else None for i in range(len(CLASSES))]
    trees = []
    for estimator in forest.estimators_:
        t = estimator.tree_
        values = []
        for row in t.value[:, 0, :]:
            total = float(row.sum()) or 1.0
            values.append(tuple(0.0 if c is None else float(row[c]) / total for c in columns))
        trees.append(
            Tree(
                tuple(int(f) if f >= 0 else 0 for f in t.feature),
                tuple(float(v) for v in t.threshold),
                tuple(int(v) for v in t.children_left),
                tuple(int(v) for v in t.children_right),
                tuple(values),
            )
        )
    return tuple(trees)


def _flow_scores(model: Model, flows: list[LabelledFlow], label: str) -> list[float]:
    """Each flow's highest score for `label` over its snapshots."""
    return [max(model.probabilities(s.features)[label] for s in f.snapshots) for f in flows]


def _threshold(benign_maxima: list[float]) -> float:
    allowed = math.floor(TARGET_FPR * len(benign_maxima))
    ranked = sorted(benign_maxima, reverse=True)
    above = ranked[allowed] if allowed < len(ranked) else 0.0
    return min(1.0, max(0.5, above + 1e-6))


def _fit(flows: list[LabelledFlow], seed: int) -> Model:
    x, y, w, _ = _samples(flows)
    forest = _forest(seed)
    forest.fit(x, y, sample_weight=w)
    return Model(CLASSES, export_forest(forest), {c: 0.5 for c in CLASSES if c != "benign"})


def _thresholds(flows: list[LabelledFlow], seed: int, folds: int = 4) -> dict[str, float]:
    sessions = sorted({f.session for f in flows}, key=lambda s: hashlib.sha256(s.encode()).digest())
    maxima: dict[str, list[float]] = {c: [] for c in CLASSES if c != "benign"}
    for k in range(min(folds, len(sessions))):
        out = set(sessions[k::folds])
        inner = [f for f in flows if f.session not in out]
        benign = [f for f in flows if f.session in out and f.label == "benign"]
        if not benign or len({f.label for f in inner}) < 2:
            continue
        model = _fit(inner, seed)
        for label in maxima:
            maxima[label].extend(_flow_scores(model, benign, label))
    return {label: _threshold(values) for label, values in maxima.items()}


def train(data: DataSet, holdout: float = 0.3, seed: int = 1, sources: list[str] | None = None) -> Model:
    held = split_sessions(data, holdout, seed)
    flows = [f for f in data.flows if f.session not in held]
    trained = {label for label in CLASSES if any(f.label == label for f in flows)}
    if len(trained) < 2 or "benign" not in trained:
        raise UsageError("training needs benign flows and at least one other class in the labels")
    model = _fit(flows, seed)
    thresholds = _thresholds(flows, seed)
    sizes = DataSet(flows).sizes()
    return Model(
        model.classes,
        model.trees,
        thresholds,
        {
            "trained": datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "minerwatch": __version__,
            "scikit_learn": package_metadata.version("scikit-learn"),
            "python": platform.python_version(),
            "feature_version": FEATURE_VERSION,
            "estimator": f"RandomForestClassifier(n_estimators={TREES}, max_depth={MAX_DEPTH}, "
            f"min_samples_leaf={MIN_LEAF}, class_weight='balanced', random_state={seed})",
            "captures": sorted({f.capture for f in data.flows}),
            "sources": sources or [],
            "training_sizes": {label: {"flows": n, "sessions": s} for label, (n, s) in sizes.items()},
            "snapshots": sum(len(f.snapshots) for f in flows),
            "trained_sessions": sorted({f.session for f in flows}),
            "held_out_sessions": sorted(held),
            "threshold_rule": f"out-of-fold benign flow FPR <= {TARGET_FPR}, at least 0.5",
        },
    )
