# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True, initializedcheck=False
"""Which checkpoints of a TLS flow's statistics the encrypted detector judges, decided in compiled code.

Why: the engine takes a checkpoint of every TCP flow after 8, 16, 32... payload segments or 30 s of capture
time, and the detector judges one only when a strong kind of evidence speaks for mining by itself: the flow
model flags the flow, or its (client, server) pair is confirmed (detectors/encrypted_mining.py). A Python
call per checkpoint to find that out cost more than the statistics themselves (on the benchmark capture,
about 26,000 instructions a TLS checkpoint). Here the engine asks without calling Python; the detector
checks again what this lets through, so this need only let through every checkpoint it would judge.

A checkpoint is let through when the detector follows the flow and its handshake is known (the detector
marks the accumulator with the client's address once the ClientHello is read, and clears the mark once the
flow is reported or dropped; the engine's TLS reader is done), and then:
- with the judge in this process: the client has anything a pair could be confirmed from (a pool endpoint
  or intel hit in the verdict correlator, or a pair in the cache), or the model flags the flow;
- with workers (the judge in the correlator, which alone knows the pairs): always, as before.
"""

from libc.stdint cimport int64_t

from minerwatch.decode._flowstats cimport CheckpointGate, StatsAccumulator
from minerwatch.decode._tlsrecords cimport TlsRecords
from minerwatch.encrypted._forest cimport Forest


cdef class TlsCheckpoints(CheckpointGate):
    cdef Forest forest   # the flow model's, or None without a model
    cdef Py_ssize_t cls   # the class number of tls_mining in the forest
    cdef double threshold   # its threshold
    cdef object correlator   # the verdict correlator (its `hosts` and `intel`, keyed by host address), or None
    cdef dict pair_clients   # PairCache.clients: host address -> pairs in the cache

    def __init__(self, Forest forest, Py_ssize_t cls, double threshold, correlator, dict pair_clients):
        if forest is not None and not 0 <= cls < forest.n_classes:
            raise ValueError(f"class {cls} of {forest.n_classes}")
        self.forest = forest
        self.cls = cls
        self.threshold = threshold
        self.correlator = correlator
        self.pair_clients = pair_clients

    cdef bint wants(self, StatsAccumulator stats, TlsRecords tls, double duration, int64_t packets) except -1:
        cdef object client = stats.mark
        if client is None or (tls is not None and not tls.done):
            return False
        if self.correlator is None:
            return True
        if client in self.pair_clients or client in self.correlator.hosts or client in self.correlator.intel:
            return True
        return self.forest is not None and self.forest.passes(stats, duration, packets, self.cls, self.threshold)
