# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True, initializedcheck=False
"""The flow model's forest scored in compiled code (encrypted/model.py loads and checks it).

Why compiled: the encrypted detector scores every TLS flow at each checkpoint of its statistics; in Python
one score took about 280 µs, most of the detector's cost. Here a score reads the features straight from the
flow's statistics accumulator (decode/_flowstats.pyx) and walks the trees over flat C arrays, without making
a Python object until the probabilities are returned. The result is the same double, bit for bit, as the
Python definition: the same comparisons, and the leaves summed in tree order before one division.
"""

from cpython.array cimport array
from libc.stdint cimport int64_t

from minerwatch.decode._flowstats cimport N_FEATURES, StatsAccumulator

cdef enum:
    MAX_CLASSES = 8   # a forest scores at most this many classes (the model has three)


cdef class Forest:
    """Declared in _forest.pxd (encrypted/_checkpoints.pyx asks it whether a flow passes)."""

    def __init__(self, roots, feature, threshold, left, right, value, int n_classes):
        """Flat arrays of every tree's nodes, children as absolute indexes (-1 at leaves); checked by the
        caller (children further down their own tree), checked again here for what C relies on."""
        cdef Py_ssize_t n = len(feature), i
        if not 0 < n_classes <= MAX_CLASSES:
            raise ValueError(f"{n_classes} classes: at most {MAX_CLASSES}")
        if not len(roots) or any(len(a) != n for a in (threshold, left, right)) or len(value) != n * n_classes:
            raise ValueError("forest arrays differ in length")
        self.roots = array("q", roots)
        self.feature = array("q", feature)
        self.threshold = array("d", threshold)
        self.left = array("q", left)
        self.right = array("q", right)
        self.value = array("d", value)
        self.n_classes = n_classes
        for i in range(len(roots)):
            if not 0 <= self.roots[i] < n:
                raise ValueError(f"tree {i} starts outside the forest")
        for i in range(n):
            if self.left[i] >= 0 and not (
                i < self.left[i] < n and i < self.right[i] < n and 0 <= self.feature[i] < N_FEATURES
            ):
                raise ValueError(f"node {i} points outside the forest")

    cdef Py_ssize_t _sum(self, const double* x, double* total) noexcept:
        """Each class's leaf probabilities summed over the trees, in tree order, into total; returns the
        number of trees (the caller divides)."""
        cdef Py_ssize_t t, node, child, c, k = self.n_classes, trees = self.roots.shape[0]
        for c in range(k):
            total[c] = 0.0
        for t in range(trees):
            node = self.roots[t]
            child = self.left[node]
            while child >= 0:
                node = child if x[self.feature[node]] <= self.threshold[node] else self.right[node]
                child = self.left[node]
            for c in range(k):
                total[c] += self.value[node * k + c]
        return trees

    cdef tuple _score(self, const double* x):
        cdef double total[MAX_CLASSES]
        cdef Py_ssize_t c, trees = self._sum(x, total)
        return tuple(total[c] / trees for c in range(self.n_classes))

    def probabilities(self, x):
        """Average class probabilities, in the model's class order, of a feature vector (a sequence)."""
        cdef double v[N_FEATURES]
        cdef Py_ssize_t i
        if len(x) != N_FEATURES:
            raise ValueError(f"{len(x)} features, the model reads {N_FEATURES}")
        for i in range(N_FEATURES):
            v[i] = x[i]
        return self._score(v)

    def score_flow(self, StatsAccumulator stats not None, double duration, int64_t packets):
        """probabilities() of a flow's statistics now (its duration and packets are the engine's flow's)."""
        cdef double v[N_FEATURES]
        stats.features_into(duration, packets, v)
        return self._score(v)

    def passes_flow(self, StatsAccumulator stats not None, double duration, int64_t packets, int cls,
                    double threshold):
        """Whether score_flow()'s probability of class number `cls` reaches `threshold` (the same double),
        with no Python object made: the gate of every checkpoint of every TLS flow."""
        if not 0 <= cls < self.n_classes:
            raise ValueError(f"class {cls} of {self.n_classes}")
        return self.passes(stats, duration, packets, cls, threshold)

    cdef bint passes(self, StatsAccumulator stats, double duration, int64_t packets, Py_ssize_t cls,
                     double threshold) noexcept:
        """passes_flow for a class number the caller checked."""
        cdef double v[N_FEATURES]
        cdef double total[MAX_CLASSES]
        cdef Py_ssize_t trees
        stats.features_into(duration, packets, v)
        trees = self._sum(v, total)
        return total[cls] / trees >= threshold
