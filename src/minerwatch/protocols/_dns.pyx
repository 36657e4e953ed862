# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True, initializedcheck=False
"""The DNS message walk of protocols/dns.py in C: questions and A/AAAA/CNAME answers of one message.

Why: every DNS response on the wire is read (intel remembers which names resolved to which addresses), and
walking names label by label in Python cost tens of microseconds a message, a seventh of the default run on
the synthetic benchmark. Same rules as before, same messages: compression pointers only backwards, names
capped at 255 bytes, every record consumes bytes, so hostile input costs O(len(message)).
"""

from cpython.bytes cimport PyBytes_AS_STRING, PyBytes_GET_SIZE
from cpython.unicode cimport PyUnicode_DecodeASCII
from libc.stdint cimport uint8_t, uint16_t, uint32_t
from libc.string cimport memcpy, strlen

from minerwatch.protocols.dns import TYPE_A, TYPE_AAAA, TYPE_CNAME, Answer, DnsMessage, DnsParseError, Question

cdef extern from "arpa/inet.h" nogil:
    const char* inet_ntop(int af, const void* src, char* dst, unsigned int size)

cdef extern from "sys/socket.h" nogil:
    int AF_INET
    int AF_INET6

cdef enum:
    MAX_NAME = 255    # bytes of a name's labels and their length bytes (RFC 1035 2.3.4)
    HEADER = 12

cdef int _A = TYPE_A, _AAAA = TYPE_AAAA, _CNAME = TYPE_CNAME
cdef object _make = tuple.__new__    # the named tuples of dns.py, without their Python-level __new__


cdef inline uint16_t be16(const uint8_t* p) noexcept nogil:
    return (p[0] << 8) | p[1]


cdef class _Walk:
    """One message's bytes; `name` reads the name at an offset."""
    cdef bytes buf
    cdef const uint8_t* p
    cdef Py_ssize_t n
    cdef Py_ssize_t after    # set by name(): the offset just past the name (past its first pointer)
    cdef char text[MAX_NAME + 1]

    def __cinit__(self, bytes buf):
        self.buf = buf
        self.p = <const uint8_t*>PyBytes_AS_STRING(buf)
        self.n = PyBytes_GET_SIZE(buf)

    cdef str name(self, Py_ssize_t offset):
        """The name at `offset` (labels joined by dots, non-ASCII bytes escaped as before)."""
        cdef Py_ssize_t pos = offset, limit = offset, end = -1, total = 0, used = 0
        cdef Py_ssize_t target
        cdef uint8_t length, kind
        while True:
            if pos >= self.n:
                raise DnsParseError(f"name runs past the end of the message at offset {pos}")
            length = self.p[pos]
            if length == 0:
                pos += 1
                break
            kind = length & 0xC0
            if kind == 0xC0:
                if pos + 1 >= self.n:
                    raise DnsParseError(f"truncated compression pointer at offset {pos}")
                target = ((length & 0x3F) << 8) | self.p[pos + 1]
                if target >= limit:
                    raise DnsParseError(f"compression pointer at offset {pos} does not point backwards")
                if end < 0:
                    end = pos + 2
                pos = limit = target
                continue
            if kind:
                raise DnsParseError(f"unsupported label type 0x{kind:02x} at offset {pos}")
            total += length + 1
            if total > MAX_NAME:
                raise DnsParseError(f"name longer than {MAX_NAME} bytes at offset {offset}")
            if pos + 1 + length > self.n:
                raise DnsParseError(f"label runs past the end of the message at offset {pos}")
            if used:
                self.text[used] = b"."
                used += 1
            memcpy(self.text + used, self.p + pos + 1, length)
            used += length
            pos += 1 + length
        self.after = pos if end < 0 else end
        return PyUnicode_DecodeASCII(self.text, used, "backslashreplace")

    cdef object rdata(self, Py_ssize_t pos, Py_ssize_t rdlength, int rtype, Py_ssize_t index):
        cdef char address[64]
        cdef Py_ssize_t size
        if rtype == _A or rtype == _AAAA:
            size = 4 if rtype == _A else 16
            if rdlength != size:
                raise DnsParseError(f"answer {index + 1}: address of {rdlength} bytes for type {rtype}")
            inet_ntop(AF_INET if size == 4 else AF_INET6, self.p + pos, address, sizeof(address))
            return PyUnicode_DecodeASCII(address, strlen(address), NULL)
        if rtype == _CNAME:
            return self.name(pos)
        return None


def parse_message(data):
    """Parse one DNS message (a UDP payload, or one frame of a TCP stream): a DnsMessage, or
    DnsParseError saying where it went wrong."""
    cdef bytes buf = bytes(data)
    cdef _Walk walk = _Walk(buf)
    cdef Py_ssize_t pos = HEADER, rdata_end, index
    cdef const uint8_t* p = walk.p
    cdef uint16_t ident, flags, qdcount, ancount, qtype, qclass, rtype, rdlength
    cdef uint32_t ttl
    if walk.n < HEADER:
        raise DnsParseError(f"message of {walk.n} bytes is shorter than the 12-byte header")
    ident, flags, qdcount, ancount = be16(p), be16(p + 2), be16(p + 4), be16(p + 6)
    questions = []
    for index in range(qdcount):
        name = walk.name(pos)
        pos = walk.after
        if pos + 4 > walk.n:
            raise DnsParseError(f"question {len(questions) + 1} truncated at offset {pos}")
        qtype, qclass = be16(p + pos), be16(p + pos + 2)
        pos += 4
        questions.append(_make(Question, (name, qtype, qclass)))
    answers = []
    for index in range(ancount):
        name = walk.name(pos)
        pos = walk.after
        if pos + 10 > walk.n:
            raise DnsParseError(f"answer {index + 1} truncated at offset {pos}")
        rtype = be16(p + pos)
        ttl = (<uint32_t>be16(p + pos + 4) << 16) | be16(p + pos + 6)
        rdlength = be16(p + pos + 8)
        pos += 10
        rdata_end = pos + rdlength
        if rdata_end > walk.n:
            raise DnsParseError(f"answer {index + 1} data runs past the end of the message")
        answers.append(_make(Answer, (name, rtype, ttl, walk.rdata(pos, rdlength, rtype, index))))
        pos = rdata_end
    return _make(DnsMessage, (
        ident, (flags & 0x8000) != 0, (flags >> 11) & 0xF, flags & 0xF, tuple(questions), tuple(answers)
    ))
