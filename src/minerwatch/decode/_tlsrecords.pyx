# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True, initializedcheck=False
"""What a TLS connection shows in clear after the ClientHello, read in the hot path: the server's
ServerHello (its bytes, for encrypted/handshake.py to parse) and the shape of the client's first records
(content type, length, and the first body byte of each handshake record, from the 5-byte record headers;
the bodies are passed over).

Why here: the encrypted detector reads the version the server chose and tells a client that authenticates
with a certificate (Chia peers always do, browsers and miners almost never) from the client's second
flight, a round trip after the hellos. Read in Python, every TLS connection stayed in Python for the
server's first segment and that flight; here the engine reads them in every flow that opened with a TLS
handshake record from the client, inspected or bypassed, so Python reads only the ClientHello (which the
intel detector reads anyway) and lets the flow go.

Each side is read in sequence order from its first payload segment (right after the SYN when it was seen);
a retransmitted byte is passed over (the first copy counts); a segment past the next expected byte (a loss,
or reordering) ends that side's reading: what was read is kept, the rest is unknown. The client's walk ends
at its first application-data record (in TLS 1.3 every record after the hellos is one), after MAX_RECORDS
records, or at bytes that are not a record header; the server's at its first handshake message, which must
be a ServerHello of at most MAX_SERVER_HELLO bytes in handshake records. Cost: O(1) per segment and per
record header; memory: this object and the ServerHello's bytes, freed with the flow. The ServerHellos held
by all flows at once are capped (HELD_BUDGET bytes per process, about 25,000 typical ones): a flow table
of half a million TLS flows whose servers send 16 KiB hellos would otherwise hold 8 GB. A ServerHello that
does not fit is not read (its server's version stays unknown), and counted (`budget()`).
"""

from libc.string cimport memcpy

cdef enum:
    CHANGE_CIPHER_SPEC = 20
    HANDSHAKE = 22
    APPLICATION_DATA = 23
    SERVER_HELLO = 2   # handshake message types
    CERTIFICATE = 11
    # A TLS 1.3 Finished record: a SHA-256 (53 bytes) or SHA-384 (69) verify_data, AEAD tag and type byte;
    # a client's first encrypted record longer than that carries its Certificate.
    MAX_FINISHED = 69
    # A ServerHello is one record (16 KiB at most) in practice, under 1.5 KiB even with a post-quantum key
    # share; a longer one is not read (its server's version stays unknown): the bytes held per flow.
    MAX_SERVER_HELLO = 16384

RECORDS = MAX_RECORDS
HELD_BUDGET = 32 * 1024 * 1024

cdef Py_ssize_t _held = 0   # ServerHello bytes held by every reader of this process
cdef Py_ssize_t _budget = HELD_BUDGET
cdef unsigned long long _over = 0   # ServerHellos not read because the budget was spent


def budget():
    """(bytes held now, ServerHellos not read because the budget was spent, since the process began)."""
    return _held, _over


def set_budget(Py_ssize_t limit):
    """The cap on bytes held at once (tests set a small one)."""
    global _budget
    _budget = limit


cdef class TlsRecords:
    """Made by the engine (`opening`) for a flow that opened with a TLS handshake record to the server."""

    def __dealloc__(self):
        global _held
        _held -= self.held

    cdef void segment(self, bint to_server, uint32_t seq, bint syn, object server_isn, const uint8_t* p,
                      Py_ssize_t n):
        """One payload segment of the flow, either direction."""
        cdef int ahead
        if syn:   # data on a SYN (TCP Fast Open) starts after the SYN's own sequence number
            seq += 1
        if to_server:
            if self.client_done:
                return
            ahead = <int>(seq - self.client_next)
            if ahead > 0:
                self.failed = self.client_done = True
            elif -ahead < n:
                self.client_next = seq + <uint32_t>n
                self.walk(p - ahead, n + ahead)
        else:
            if self.server_done:
                return
            if not self.server_started:
                self.server_started = True
                self.server_next = seq if server_isn is None else <uint32_t>(<uint32_t>server_isn + 1)
                self.message = bytearray()
            ahead = <int>(seq - self.server_next)
            if ahead > 0:
                self.end_server()
            elif -ahead < n:
                self.server_next = seq + <uint32_t>n
                self.read_server(p - ahead, n + ahead)
        self.done = self.client_done and self.server_done

    cdef void walk(self, const uint8_t* p, Py_ssize_t n) noexcept:
        """The client's record headers in `p`."""
        cdef Py_ssize_t pos = 0, step
        cdef int kind
        while pos < n:
            if self.skip:
                if self.want_first:
                    self.firsts[self.count - 1] = p[pos]
                    self.want_first = False
                    if self.count >= MAX_RECORDS:
                        self.client_done = True
                        return
                step = min(self.skip, n - pos)
                self.skip -= step
                pos += step
                continue
            step = min(5 - self.have, n - pos)
            memcpy(self.header + self.have, p + pos, step)
            self.have += step
            pos += step
            if self.have < 5:
                return
            self.have = 0
            kind = self.header[0]
            if kind < CHANGE_CIPHER_SPEC or kind > APPLICATION_DATA or self.header[1] != 3:
                self.failed = self.client_done = True
                return
            self.kinds[self.count] = kind
            self.lengths[self.count] = self.header[3] << 8 | self.header[4]
            self.firsts[self.count] = -1
            self.skip = self.lengths[self.count]
            self.count += 1
            self.want_first = kind == HANDSHAKE and self.skip > 0
            if kind == APPLICATION_DATA or (self.count >= MAX_RECORDS and not self.want_first):
                self.client_done = True
                return

    cdef void read_server(self, const uint8_t* p, Py_ssize_t n):
        """The server's bytes in `p`: handshake records until the first handshake message is whole (it may
        span records), as protocols/tls.py's hello parser reads the client's."""
        global _held, _over
        cdef Py_ssize_t pos = 0, step, want
        cdef bytearray message = self.message
        while pos < n:
            if self.server_body == 0:   # a record header
                step = min(5 - self.server_have, n - pos)
                memcpy(self.server_header + self.server_have, p + pos, step)
                self.server_have += step
                pos += step
                if self.server_have < 5:
                    return
                self.server_have = 0
                if self.server_header[0] != HANDSHAKE or self.server_header[1] != 3:
                    self.end_server()
                    return
                self.server_body = self.server_header[3] << 8 | self.server_header[4]
                continue
            want = 4 if len(message) < 4 else 4 + (message[1] << 16 | message[2] << 8 | message[3])
            step = min(self.server_body, n - pos, want - len(message))
            if _held + step > _budget:
                _over += 1
                self.end_server()
                return
            _held += step
            self.held += step
            message.extend(p[pos:pos + step])
            self.server_body -= step
            pos += step
            if len(message) == 4 and want == 4:
                if message[0] != SERVER_HELLO or (message[1] << 16 | message[2] << 8 | message[3]) > MAX_SERVER_HELLO:
                    self.end_server()
                    return
                want = 4 + (message[1] << 16 | message[2] << 8 | message[3])
            if len(message) == want:
                self.server_hello = bytes(message[4:])
                self.end_server()
                return

    cdef void end_server(self):
        """The server's side is done: what is not kept as the ServerHello goes back to the budget."""
        global _held
        self.server_done = True
        self.message = None
        if self.server_hello is None:
            _held -= self.held
            self.held = 0

    @property
    def records(self):
        """(content type, length) of each of the client's record headers read, in order."""
        return tuple((self.kinds[i], self.lengths[i]) for i in range(self.count))

    def client_certificate(self, bint tls13):
        """Did the client send a Certificate? In TLS 1.3 its first encrypted record is longer than a
        Finished; before 1.3 its second handshake record (after the ClientHello) starts with one, in clear."""
        cdef int i, handshakes = 0
        for i in range(self.count):
            if tls13 and self.kinds[i] == APPLICATION_DATA:
                return self.lengths[i] > MAX_FINISHED
            if not tls13 and self.kinds[i] == HANDSHAKE:
                handshakes += 1
                if handshakes == 2:
                    return self.firsts[i] == CERTIFICATE
        return False


# A flow whose first payload is not the client's TLS handshake record, in order: nothing to read. Shared.
cdef TlsRecords NOT_READ = TlsRecords.__new__(TlsRecords)
NOT_READ.client_done = NOT_READ.server_done = NOT_READ.done = True
UNREAD = NOT_READ


cdef TlsRecords opening(bint to_server, uint32_t seq, bint syn, object isn, const uint8_t* p, Py_ssize_t n):
    """The reader of a flow at its first payload segment: a new one when the client opens with a TLS
    handshake record right after its SYN (or the SYN was not seen), else NOT_READ."""
    cdef TlsRecords records
    if syn:
        seq += 1
    if not to_server or n < 2 or p[0] != HANDSHAKE or p[1] != 3:
        return NOT_READ
    if isn is not None and <uint32_t>(<uint32_t>isn + 1) != seq:
        return NOT_READ
    records = TlsRecords.__new__(TlsRecords)
    records.client_next = seq
    records.segment(True, seq, False, None, p, n)
    return records
