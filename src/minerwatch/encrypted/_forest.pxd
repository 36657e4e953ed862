from libc.stdint cimport int64_t

from minerwatch.decode._flowstats cimport StatsAccumulator


cdef class Forest:
    cdef int64_t[::1] roots
    cdef int64_t[::1] feature
    cdef double[::1] threshold
    cdef int64_t[::1] left
    cdef int64_t[::1] right
    cdef double[::1] value   # n_classes probabilities per node (zeros at inner nodes)
    cdef readonly int n_classes

    cdef Py_ssize_t _sum(self, const double* x, double* total) noexcept
    cdef tuple _score(self, const double* x)
    cdef bint passes(self, StatsAccumulator stats, double duration, int64_t packets, Py_ssize_t cls,
                     double threshold) noexcept
