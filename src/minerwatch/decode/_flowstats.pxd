from libc.stdint cimport int32_t, int64_t

from minerwatch.decode._tlsrecords cimport TlsRecords

cdef enum:
    FIRST_N = 8   # payload sizes (with their direction) kept from a flow's start
    N_FEATURES = 45   # the flow model's features (encrypted/features.py names them, in this order)


# A series that is summarised, not kept: sum, sum of squares, smallest and largest value.
cdef struct Series:
    double total
    double squares
    double low
    double high


cdef class StatsAccumulator:
    # Per direction (index 0: to the server, 1: to the client), over payload-carrying segments only.
    cdef int64_t pkts[2]
    cdef int64_t payload[2]
    cdef int64_t pushes[2]
    cdef Series sizes[2]
    cdef double last_ts[2]
    cdef Series gaps[2]   # between consecutive payload segments of the direction
    # Bursts: payload after at least `burst_gap` s of silence in both directions, by the side that spoke.
    cdef int64_t bursts[2]
    cdef double burst_start[2]
    cdef Series burst_gaps[2]
    cdef double last_any
    cdef double first_payload_ts
    cdef int32_t first[FIRST_N]
    # When the owner wants the next look (payload packets, capture time).
    cdef int64_t next_pkts
    cdef double next_ts
    cdef double interval
    cdef double burst_gap
    # Set by the observer whose CheckpointGate the engine has, for the gate to read; None: no checkpoint of
    # this flow is wanted.
    cdef public object mark

    cdef bint add(self, double ts, bint to_server, int32_t size, bint push) noexcept
    cdef void features_into(self, double duration, int64_t packets, double* out) noexcept


cdef class CheckpointGate:
    cdef bint wants(self, StatsAccumulator stats, TlsRecords tls, double duration, int64_t packets) except -1
