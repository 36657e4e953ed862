# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True, initializedcheck=False
"""The shape of a TLS client's first records, read in the hot path: content type, length, and the first
body byte of each handshake record, from the 5-byte record headers (the bodies are passed over).

Why here: the encrypted detector tells a client that authenticates with a certificate (Chia peers always
do, browsers and miners almost never) from the client's second flight, which comes a round trip after
the hellos. Read in Python, every TLS connection stayed in Python for that flight; here the engine walks
the client's segments of any flow that opened with a TLS handshake record, inspected or bypassed, so
Python reads only the hellos (encrypted/handshake.py) and lets the flow go.

The walk takes the client's bytes in sequence order, from its first payload segment. A retransmitted
byte is passed over (the first copy counts); a segment past the next expected byte (a loss, or
reordering) ends the walk: what was read is kept, the rest is unknown. It ends too at the first
application-data record (in TLS 1.3 every record after the hellos is one) or after MAX_RECORDS records,
or at bytes that are not a record header. Cost: O(1) per segment plus O(1) per record header, no
allocation after the walker's own; memory: this object, freed with the flow.
"""

from libc.string cimport memcpy

cdef enum:
    CHANGE_CIPHER_SPEC = 20
    HANDSHAKE = 22
    APPLICATION_DATA = 23
    CERTIFICATE = 11   # handshake message type
    # A TLS 1.3 Finished record: a SHA-256 (53 bytes) or SHA-384 (69) verify_data, AEAD tag and type byte;
    # a client's first encrypted record longer than that carries its Certificate.
    MAX_FINISHED = 69

RECORDS = MAX_RECORDS


cdef class ClientRecords:
    """The client's first record headers; made by the engine (`opening`) for a flow that opened with a
    TLS handshake record to the server."""

    cdef void segment(self, bint to_server, uint32_t seq, bint syn, const uint8_t* p, Py_ssize_t n) noexcept:
        """One payload segment of the flow (either direction: the server's are not read)."""
        cdef int ahead
        if self.done or not to_server:
            return
        if syn:   # data on a SYN (TCP Fast Open) starts after the SYN's own sequence number
            seq += 1
        ahead = <int>(seq - self.next_seq)
        if ahead > 0:
            self.failed = self.done = True
            return
        if -ahead < n:
            self.next_seq = seq + <uint32_t>n
            self.walk(p - ahead, n + ahead)

    cdef void walk(self, const uint8_t* p, Py_ssize_t n) noexcept:
        cdef Py_ssize_t pos = 0, step
        cdef int kind
        while pos < n:
            if self.skip:
                if self.want_first:
                    self.firsts[self.count - 1] = p[pos]
                    self.want_first = False
                    if self.count >= MAX_RECORDS:
                        self.done = True
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
                self.failed = self.done = True
                return
            self.kinds[self.count] = kind
            self.lengths[self.count] = self.header[3] << 8 | self.header[4]
            self.firsts[self.count] = -1
            self.skip = self.lengths[self.count]
            self.count += 1
            self.want_first = kind == HANDSHAKE and self.skip > 0
            if kind == APPLICATION_DATA or (self.count >= MAX_RECORDS and not self.want_first):
                self.done = True
                return

    @property
    def records(self):
        """(content type, length) of each record header read, in order."""
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


# A flow whose first payload is not the client's TLS handshake record, in order: nothing to walk. Shared.
cdef ClientRecords NOT_WALKED = ClientRecords.__new__(ClientRecords)
NOT_WALKED.done = True
UNWALKED = NOT_WALKED


cdef ClientRecords opening(bint to_server, uint32_t seq, bint syn, object isn, const uint8_t* p, Py_ssize_t n):
    """The walker of a flow at its first payload segment: a new one when the client opens with a TLS
    handshake record right after its SYN (or the SYN was not seen), else NOT_WALKED."""
    cdef ClientRecords records
    if syn:
        seq += 1
    if not to_server or n < 2 or p[0] != HANDSHAKE or p[1] != 3:
        return NOT_WALKED
    if isn is not None and <uint32_t>(<uint32_t>isn + 1) != seq:
        return NOT_WALKED
    records = ClientRecords.__new__(ClientRecords)
    records.next_seq = seq
    records.segment(True, seq, False, p, n)
    return records
