"""The flow model: a forest of decision trees stored as plain JSON, checked here, scored by compiled code.

Why not pickle (or joblib, or skops' default loader): unpickling runs code chosen by whoever wrote the
file, and users load models that others trained. A JSON forest is data only: `load_model` checks every
array and index before use (children always point further down the arrays, so evaluation ends in at most
as many steps as the tree has nodes) and a malformed file is a ModelError, one line. scikit-learn trains it
(encrypted/train.py) but is not needed to score: encrypted/_forest.pyx does, from the flow's statistics.
No weights are ever fetched: the shipped model is a file of the package.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cached_property
from importlib import resources
from pathlib import Path
from typing import Any

import orjson

from minerwatch.decode import Flow
from minerwatch.encrypted._forest import Forest
from minerwatch.encrypted.features import FEATURE_NAMES, FEATURE_VERSION
from minerwatch.encrypted.flowstats import span
from minerwatch.errors import InputError

FORMAT = "minerwatch-forest"
FORMAT_VERSION = 1
CLASSES = ("benign", "tls_mining", "chia")
SHIPPED = "flowmodel.json"
MAX_MODEL_BYTES = 64 * 1024 * 1024


class ModelError(InputError):
    """A model file that cannot be used (unreadable, malformed, or made for other features)."""


@dataclass(frozen=True, slots=True)
class Tree:
    feature: tuple[int, ...]
    threshold: tuple[float, ...]
    left: tuple[int, ...]  # -1 at a leaf
    right: tuple[int, ...]
    value: tuple[tuple[float, ...], ...]  # class probabilities at each node (read at leaves)


@dataclass(frozen=True)
class Model:
    classes: tuple[str, ...]
    trees: tuple[Tree, ...]
    # A class other than benign is reported when its probability reaches its threshold.
    thresholds: dict[str, float]
    metadata: dict[str, Any] = field(default_factory=dict)

    @cached_property
    def forest(self) -> Forest:
        """The trees in compiled form, which scores (and the checkpoint gate, encrypted/_checkpoints.pyx)."""
        return _compiled(self.trees, len(self.classes))

    def probabilities(self, x: Sequence[float]) -> dict[str, float]:
        """The forest's average of the class probabilities at the leaf `x` reaches in each tree."""
        return dict(zip(self.classes, self.forest.probabilities(x), strict=True))

    def score(self, flow: Flow) -> dict[str, float]:
        """Probability in [0, 1] of each class (benign, tls_mining, chia) for a flow's statistics now,
        read from its accumulator by compiled code (no FlowStats is made)."""
        assert flow.stats is not None  # only flows the engine keeps statistics for are scored
        return dict(zip(self.classes, self.forest.score_flow(flow.stats, *span(flow)), strict=True))

    def flags(self, flow: Flow, cls: str) -> bool:
        """passes(score(flow), cls), computed without a Python object: the gate of every checkpoint."""
        assert flow.stats is not None  # as in score
        index = self.classes.index(cls)
        return self.forest.passes_flow(flow.stats, *span(flow), index, self.thresholds[cls])

    def passes(self, scores: dict[str, float], cls: str) -> bool:
        """Whether a non-benign class's score reaches its threshold."""
        return scores[cls] >= self.thresholds[cls]

    def flagged(self, scores: dict[str, float]) -> str | None:
        """The non-benign class whose score passes its threshold (the highest such), or None."""
        hits = [(p, c) for c, p in scores.items() if c != "benign" and self.passes(scores, c)]
        return max(hits)[1] if hits else None

    def to_json(self) -> bytes:
        return orjson.dumps(
            {
                "format": FORMAT,
                "format_version": FORMAT_VERSION,
                "feature_version": FEATURE_VERSION,
                "features": list(FEATURE_NAMES),
                "classes": list(self.classes),
                "thresholds": self.thresholds,
                "metadata": self.metadata,
                "trees": [
                    {
                        "feature": t.feature,
                        "threshold": t.threshold,
                        "left": t.left,
                        "right": t.right,
                        "value": t.value,
                    }
                    for t in self.trees
                ],
            },
            option=orjson.OPT_INDENT_2,
        )


def _compiled(trees: Sequence[Tree], n_classes: int) -> Forest:
    """Every tree's nodes in one set of flat arrays, children as absolute indexes, for the compiled scorer."""
    roots: list[int] = []
    feature: list[int] = []
    threshold: list[float] = []
    left: list[int] = []
    right: list[int] = []
    value: list[float] = []
    for tree in trees:
        base = len(feature)
        roots.append(base)
        for node, child in enumerate(tree.left):
            leaf = child < 0  # a leaf's feature and threshold are never read, nor an inner node's value
            feature.append(0 if leaf else tree.feature[node])
            threshold.append(0.0 if leaf else tree.threshold[node])
            left.append(-1 if leaf else child + base)
            right.append(-1 if leaf else tree.right[node] + base)
            value += tree.value[node] if leaf else [0.0] * n_classes
    return Forest(roots, feature, threshold, left, right, value, n_classes)


def load_model(path: Path | None = None) -> Model:
    """The model in `path`, or the one shipped in the package."""
    where = str(path) if path else f"shipped {SHIPPED}"
    try:
        if path is None:
            raw = resources.files(__package__).joinpath(SHIPPED).read_bytes()
        else:
            with path.open("rb") as f:
                raw = f.read(MAX_MODEL_BYTES + 1)
            if len(raw) > MAX_MODEL_BYTES:
                raise ModelError(f"model {where}: larger than {MAX_MODEL_BYTES} bytes")
        doc = orjson.loads(raw)
    except OSError as exc:
        raise ModelError(f"cannot read model {where}: {exc.strerror or exc}") from None
    except orjson.JSONDecodeError as exc:
        raise ModelError(f"model {where} is not JSON: {exc}") from None
    try:
        return parse(doc)
    except (KeyError, TypeError, ValueError) as exc:
        raise ModelError(f"model {where} is malformed: {exc}") from None


def parse(doc: Any) -> Model:
    """Check a decoded model document and build the Model; ValueError/TypeError/KeyError when malformed."""
    if not isinstance(doc, dict) or (doc.get("format"), doc.get("format_version")) != (
        FORMAT,
        FORMAT_VERSION,
    ):
        raise ValueError(f"not a {FORMAT} version {FORMAT_VERSION} file")
    if doc["feature_version"] != FEATURE_VERSION or tuple(doc["features"]) != FEATURE_NAMES:
        raise ValueError(
            f"made for feature version {doc['feature_version']}, this minerwatch computes {FEATURE_VERSION}"
        )
    classes = tuple(doc["classes"])
    if set(classes) != set(CLASSES) or len(classes) != len(CLASSES):
        raise ValueError(f"classes {classes!r}, expected {CLASSES}")
    thresholds = {c: float(doc["thresholds"][c]) for c in classes if c != "benign"}
    if not all(0.0 < t <= 1.0 for t in thresholds.values()):
        raise ValueError("thresholds must be in (0, 1]")
    trees = tuple(_tree(t, len(classes)) for t in doc["trees"])
    if not trees:
        raise ValueError("no trees")
    metadata = doc.get("metadata", {})
    if not isinstance(metadata, dict):
        raise TypeError("metadata is not an object")
    return Model(classes, trees, thresholds, metadata)


def _tree(raw: dict[str, Any], n_classes: int) -> Tree:
    feature = tuple(int(v) for v in raw["feature"])
    threshold = tuple(float(v) for v in raw["threshold"])
    left = tuple(int(v) for v in raw["left"])
    right = tuple(int(v) for v in raw["right"])
    value = tuple(tuple(float(p) for p in row) for row in raw["value"])
    n = len(left)
    if not n or any(len(a) != n for a in (feature, threshold, right, value)):
        raise ValueError("tree arrays differ in length")
    for i in range(n):
        if left[i] < 0:
            if len(value[i]) != n_classes or not all(math.isfinite(p) and 0.0 <= p <= 1.0 for p in value[i]):
                raise ValueError(f"leaf {i} does not hold {n_classes} probabilities")
        elif not (i < left[i] < n and i < right[i] < n and 0 <= feature[i] < len(FEATURE_NAMES)):
            raise ValueError(f"node {i} points outside its tree")
        elif math.isnan(threshold[i]):
            raise ValueError(f"node {i} has no threshold")
    return Tree(feature, threshold, left, right, value)
