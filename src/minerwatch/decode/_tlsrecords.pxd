from libc.stdint cimport int16_t, uint8_t, uint16_t, uint32_t

cdef enum:
    MAX_RECORDS = 12   # record headers kept from the client's side


cdef class TlsRecords:
    # The client's side: its first record headers.
    cdef uint32_t client_next   # sequence number of the client's next byte
    cdef uint8_t header[5]   # a record header split across segments
    cdef int have   # bytes of it held
    cdef Py_ssize_t skip   # body bytes of the current record still to pass over
    cdef bint want_first   # the current record is a handshake record whose first body byte is not seen yet
    cdef int count
    cdef uint8_t kinds[MAX_RECORDS]
    cdef uint16_t lengths[MAX_RECORDS]
    cdef int16_t firsts[MAX_RECORDS]   # first body byte of a handshake record, -1 for any other
    cdef readonly bint client_done   # the shape is known, or the walk ended
    cdef readonly bint failed   # the client's bytes were not TLS records, or a hole in them
    # The server's side: its first handshake message, the ServerHello.
    cdef uint32_t server_next
    cdef bint server_started
    cdef uint8_t server_header[5]
    cdef int server_have
    cdef Py_ssize_t server_body   # bytes of the current server record not read yet
    cdef bytearray message   # the message while it is collected (its 4-byte header first)
    cdef readonly bytes server_hello   # the ServerHello's body, once whole
    cdef readonly bint server_done   # the ServerHello read, or not to be read
    cdef readonly bint done   # both sides done: nothing more to read in this flow
    cdef Py_ssize_t held   # bytes of the ServerHello this reader counts against the process's budget

    cdef void segment(self, bint to_server, uint32_t seq, bint syn, object server_isn, const uint8_t* p,
                      Py_ssize_t n)
    cdef void walk(self, const uint8_t* p, Py_ssize_t n) noexcept
    cdef void read_server(self, const uint8_t* p, Py_ssize_t n)
    cdef void end_server(self)


cdef TlsRecords opening(bint to_server, uint32_t seq, bint syn, object isn, const uint8_t* p, Py_ssize_t n)
