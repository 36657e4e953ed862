# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True, initializedcheck=False
"""Per-flow statistics of TCP payload segments, updated in the hot path with O(1) memory per flow.

Why here: encrypted mining is told from other TLS by the shape of the traffic (sizes, gaps, who speaks
first after a silence: a pool pushes jobs on the coin's block time, a miner sends shares), and most such
flows are bypassed by inspection after their handshake. The engine updates one accumulator per TCP flow for
every payload segment, bypassed or not, without keeping packets; Python reads it only at checkpoints and at
the flow's end (encrypted/flowstats.py turns it into a FlowStats).

Cost per payload segment: a few additions and comparisons, no allocation, no Python call except when a
checkpoint is due (after 8, 16, 32... payload segments, or `interval` seconds of capture time after the last).
"""

from libc.math cimport INFINITY, sqrt

FEATURES = N_FEATURES


cdef inline void add_to(Series* series, double value) noexcept nogil:
    series.total += value
    series.squares += value * value
    if value < series.low:
        series.low = value
    if value > series.high:
        series.high = value


cdef inline tuple summary(Series* series, int64_t count):
    """(count, sum, sum of squares, min, max), min and max 0 for an empty series."""
    if count == 0:
        return (0, 0.0, 0.0, 0.0, 0.0)
    return (count, series.total, series.squares, series.low, series.high)


cdef inline double* summary_into(Series* series, int64_t count, double* out) noexcept:
    """mean, standard deviation (population), min, max of a series into out[0:4]; zeros when empty.
    The same operations in the same order as encrypted/flowstats.py's Summary.of, so the same doubles."""
    cdef double mean, variance
    if count == 0:
        out[0] = out[1] = out[2] = out[3] = 0.0
    else:
        mean = series.total / count
        variance = series.squares / count - mean * mean
        out[0] = mean
        out[1] = sqrt(variance if variance > 0.0 else 0.0)
        out[2] = series.low
        out[3] = series.high
    return out + 4


cdef class StatsAccumulator:
    def __cinit__(self, double interval=30.0, double burst_gap=1.0):
        cdef int d
        for d in range(2):
            self.sizes[d].low = self.gaps[d].low = self.burst_gaps[d].low = INFINITY
            self.sizes[d].high = self.gaps[d].high = self.burst_gaps[d].high = -INFINITY
        self.next_pkts = FIRST_N
        self.interval = interval
        self.burst_gap = burst_gap
        self.next_ts = INFINITY   # set from the first payload segment

    cdef bint add(self, double ts, bint to_server, int32_t size, bint push) noexcept:
        """Account one payload segment; True when the owner should take a checkpoint now."""
        cdef int d = 0 if to_server else 1
        cdef int64_t n = self.pkts[0] + self.pkts[1]
        if n < FIRST_N:
            self.first[n] = size if to_server else -size
        if n == 0:
            self.first_payload_ts = ts
            self.next_ts = ts + self.interval
        if self.pkts[d]:
            add_to(&self.gaps[d], ts - self.last_ts[d])
        if n == 0 or ts - self.last_any >= self.burst_gap:
            if self.bursts[d]:
                add_to(&self.burst_gaps[d], ts - self.burst_start[d])
            self.bursts[d] += 1
            self.burst_start[d] = ts
        self.last_any = ts
        self.last_ts[d] = ts
        self.pkts[d] += 1
        self.payload[d] += size
        self.pushes[d] += 1 if push else 0
        add_to(&self.sizes[d], size)
        n += 1
        if n >= self.next_pkts or ts >= self.next_ts:
            while self.next_pkts <= n:
                self.next_pkts *= 2
            self.next_ts = ts + self.interval
            return True
        return False

    cdef void features_into(self, double duration, int64_t packets, double* out) noexcept:
        """The flow model's feature vector (names in encrypted/features.py), computed here because the
        model scores flows at every checkpoint: no Python object is made for a flow it finds benign."""
        cdef int d, i
        cdef int64_t n = self.pkts[0] + self.pkts[1]
        cdef int64_t payload = self.payload[0] + self.payload[1]
        cdef int64_t bursts = self.bursts[0] + self.bursts[1]
        cdef double minutes = (duration if duration > 1.0 else 1.0) / 60.0
        out[0] = duration
        out[1] = <double>packets
        out[2] = <double>self.payload[0] / payload if payload else 0.5
        out[3] = <double>(self.pushes[0] + self.pushes[1]) / n if n else 0.0
        out[4] = <double>self.bursts[1] / bursts if bursts else 0.0
        out += 5
        for d in range(2):
            out[0] = <double>self.pkts[d]
            out[1] = <double>self.payload[d]
            out = summary_into(&self.sizes[d], self.pkts[d], out + 2)
            out = summary_into(&self.gaps[d], self.pkts[d] - 1 if self.pkts[d] else 0, out)
            out[0] = <double>self.bursts[d]
            out = summary_into(&self.burst_gaps[d], self.bursts[d] - 1 if self.bursts[d] else 0, out + 1)
            out[0] = self.bursts[d] / minutes
            out += 1
        for i in range(FIRST_N):
            out[i] = self.first[i] if i < n else 0.0

    def features(self, double duration, int64_t packets):
        """features_into as a tuple, for FlowStats (training and evaluation read it there)."""
        cdef double out[N_FEATURES]
        self.features_into(duration, packets, out)
        return tuple(out[i] for i in range(N_FEATURES))

    def direction(self, bint to_server):
        """(payload bytes, pushes, bursts started, then (count, sum, sum of squares, min, max) of the
        sizes, of the gaps between segments and of the gaps between the bursts started) of one direction."""
        cdef int d = 0 if to_server else 1
        cdef int64_t n = self.pkts[d]
        return (self.payload[d], self.pushes[d], self.bursts[d], summary(&self.sizes[d], n),
                summary(&self.gaps[d], n - 1 if n else 0),
                summary(&self.burst_gaps[d], self.bursts[d] - 1 if self.bursts[d] else 0))

    @property
    def first_sizes(self):
        """The first payload sizes, positive to the server, negative to the client."""
        cdef int64_t n = self.pkts[0] + self.pkts[1]
        return tuple(self.first[i] for i in range(n if n < FIRST_N else FIRST_N))

    @property
    def started(self):
        """Capture time of the first payload segment, or None before it."""
        return self.first_payload_ts if self.pkts[0] + self.pkts[1] else None


cdef class CheckpointGate:
    """Which checkpoints are worth the statistics hook's Python call, decided in compiled code by the one
    observer the engine reports to (a subclass: encrypted/_checkpoints.pyx). With a gate, the engine calls
    the hook only at the checkpoints `wants`, and not at flow ends: the observer reads an ended flow's
    statistics in its flow-end observer, where flow.stats still holds them. Without one (training, tests,
    several observers) every checkpoint and every end is reported. This base wants every checkpoint."""

    cdef bint wants(self, StatsAccumulator stats, TlsRecords tls, double duration, int64_t packets) except -1:
        """At a checkpoint of a flow: its statistics, its TLS reader (None while the engine reads none),
        its duration and packets so far (both directions), as flowstats.span gives them."""
        return True
