from libc.stdint cimport uint8_t, uint32_t, uint64_t

cdef enum:
    GATE_CONSUMED = 0         # the gate read the segment: nothing for Python
    GATE_HANDOVER = 1         # Python takes the flow over; the segment is part of what it is handed
    GATE_HANDOVER_BEFORE = 2  # Python takes the flow over first, then gets this segment as usual
    GATE_BYPASS = 3           # past the inspection depth: nobody reads this flow any more


cdef bint request_line_start(const uint8_t* p, Py_ssize_t n) noexcept nogil


cdef class LiteralScreen:
    cdef uint64_t present[1024]
    cdef unsigned short start[65536]
    cdef unsigned short count[65536]
    cdef tuple literals
    cdef bint may_match(self, const uint8_t* h, Py_ssize_t n)
    cdef bint _match_at(self, const uint8_t* h, Py_ssize_t i, Py_ssize_t n, unsigned int key)


cdef class GateConfig:
    cdef readonly tuple request_headers
    cdef readonly tuple response_headers
    cdef readonly frozenset statuses
    cdef readonly bint text_bodies
    cdef readonly bint typed_bodies
    cdef readonly tuple magics
    cdef readonly object request_filter
    cdef readonly LiteralScreen request_screen
    cdef readonly object response_filter
    cdef readonly long long depth
    cdef readonly Py_ssize_t binary_sample
    cdef readonly int control_limit
    cdef readonly Py_ssize_t nul_sample


cdef class HttpGate:
    cdef GateConfig cfg
    cdef uint32_t c_next
    cdef uint32_t s_next
    cdef bint s_known
    cdef bytearray cbuf
    cdef Py_ssize_t c_done
    cdef Py_ssize_t c_search
    cdef list unanswered
    cdef bytearray sbuf
    cdef Py_ssize_t s_search
    cdef int s_state
    cdef long long remaining
    cdef public long long parsed
    cdef public long long messages
    cdef public long long bodies_skipped
    cdef public long long retransmitted_bytes
    cdef int segment(self, bint to_server, uint32_t seq, int flags, const uint8_t* p, Py_ssize_t n) except -1
    cdef int _client(self, const uint8_t* p, Py_ssize_t n) except -1
    cdef int _server(self, const uint8_t* p, Py_ssize_t n) except -1
    cdef int _request_head(self, Py_ssize_t start, Py_ssize_t end) except -1
    cdef int _response_head(self, Py_ssize_t end) except -1
    cdef bint _wanted_body(self, const uint8_t* p, Py_ssize_t n)
    cdef Py_ssize_t _body_part(self, Py_ssize_t n)
    cdef void _answered(self)
