from libc.stdint cimport int16_t, uint8_t, uint16_t, uint32_t

cdef enum:
    MAX_RECORDS = 12   # record headers kept from the client's side


cdef class ClientRecords:
    cdef uint32_t next_seq   # of the client's next byte
    cdef uint8_t header[5]   # a record header split across segments
    cdef int have   # bytes of it held
    cdef Py_ssize_t skip   # body bytes of the current record still to pass over
    cdef bint want_first   # the current record is a handshake record whose first body byte is not seen yet
    cdef int count
    cdef uint8_t kinds[MAX_RECORDS]
    cdef uint16_t lengths[MAX_RECORDS]
    cdef int16_t firsts[MAX_RECORDS]   # first body byte of a handshake record, -1 for any other
    cdef readonly bint done   # nothing more to learn: the shape is known, or the walk ended
    cdef readonly bint failed   # the bytes were not TLS records, or a hole in the stream

    cdef void segment(self, bint to_server, uint32_t seq, bint syn, const uint8_t* p, Py_ssize_t n) noexcept
    cdef void walk(self, const uint8_t* p, Py_ssize_t n) noexcept


cdef ClientRecords opening(bint to_server, uint32_t seq, bint syn, object isn, const uint8_t* p, Py_ssize_t n)
