# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True, initializedcheck=False
"""Compiled HTTP/1.x framing for the messages no detector wants to see (Suricata's app-layer prefilter idea).

Why: most HTTP is a browser GETting a page, a script or an image. Parsing each of those messages in Python
costs tens of microseconds, which is what made every HTTP-reading detector expensive. The gate frames such
a connection in C, one segment at a time, and hands it over to the Python parser (flows/http.py) at a
message boundary as soon as a message might interest a detector: any method but GET and HEAD, a request
body, a header a detector declared, a status it declared, a response body that is text or starts with an
executable's or archive's signature, or a head a detector's own filter accepts. It also hands over
whatever it does not handle exactly as the Python parser would (chunked or encoded bodies, bare LFs,
interim responses, out-of-order heads, very long heads), so the Python side always sees what it would
have seen, from the start of the message that matters.

Messages the gate keeps are boring by construction: a detector that declared its interest (see
flows/http_interest.py) cannot have wanted them. Memory: the heads of unanswered requests (at most
MAX_UNANSWERED of MAX_HEAD bytes) and one response head per gated connection.
"""

from cpython.bytearray cimport PyByteArray_AS_STRING, PyByteArray_GET_SIZE, PyByteArray_Resize
from cpython.bytes cimport PyBytes_FromStringAndSize
from libc.stdint cimport int32_t, uint8_t, uint32_t, uint64_t
from libc.string cimport memchr, memcmp, memcpy

cdef enum:
    S_HEAD = 0      # reading a response head
    S_SNIFF = 1     # head read, waiting for the body's first bytes to judge them
    S_BODY = 2      # skipping a body of known length
    S_CLOSE = 3     # skipping a body that ends with the connection

cdef enum:
    HEAD_HANDOVER = 2   # _request_head / _response_head: the message needs the Python parser

MAX_HEAD = 8192       # a longer head goes to the Python parser (which allows 64 KiB)
MAX_UNANSWERED = 16   # pipelined requests kept waiting for their answers
MAX_FIELDS = 128      # the Python parser refuses more; it should see such a head itself

cdef tuple REQUEST_FRAMING = (b"content-length", b"transfer-encoding", b"upgrade")
cdef tuple RESPONSE_FRAMING = (b"transfer-encoding", b"content-encoding")


cdef bint _TOKEN[256]  # RFC 9110 tchar: the bytes of a method
for _c in list(b"!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"):
    _TOKEN[_c] = True


cdef bint request_line_start(const uint8_t* p, Py_ssize_t n) noexcept nogil:
    """Whether p[:n] starts with a whole request line as flows/opening.py reads one (HTTP_START's request
    branch: a token method of 1-20 bytes, a target without spaces or controls, HTTP/d.d, the line end),
    and not with an SSH banner (which opening() tells first). The engine gates such a first payload
    itself (Engine.first_request_gate)."""
    cdef Py_ssize_t i = 0, target
    if n >= 4 and memcmp(p, b"SSH-", 4) == 0:
        return False
    while i < n and i <= 20 and _TOKEN[p[i]]:
        i += 1
    if i == 0 or i > 20 or i >= n or p[i] != 32:
        return False
    i += 1
    target = i
    while i < n and p[i] > 32 and p[i] != 127:
        i += 1
    if i == target or n - i < 10 or memcmp(p + i, b" HTTP/", 6) != 0:
        return False
    if not (48 <= p[i + 6] <= 57 and p[i + 7] == 46 and 48 <= p[i + 8] <= 57):
        return False
    i += 9
    if p[i] == 13:
        i += 1
    return i < n and p[i] == 10


def starts_with_request_line(const uint8_t[::1] payload):
    """`request_line_start` for Python (tests hold it to flows/opening.py)."""
    return request_line_start(&payload[0] if payload.shape[0] else NULL, payload.shape[0])


cdef uint8_t _LOWER[256]  # ASCII lower case, as bytes.lower()
for _c in range(256):
    _LOWER[_c] = _c + 32 if 65 <= _c <= 90 else _c


cdef bint _name_in(const uint8_t* p, Py_ssize_t n, tuple names):
    """Whether p[:n] is one of `names` (lower-case), ignoring ASCII case."""
    cdef bytes name
    cdef const uint8_t* q
    cdef Py_ssize_t i
    for name in names:
        if len(name) != n:
            continue
        q = <const uint8_t*><char*>name
        for i in range(n):
            if _LOWER[p[i]] != q[i]:
                break
        else:
            return True
    return False


cdef Py_ssize_t _head_end(const uint8_t* b, Py_ssize_t i, Py_ssize_t n, Py_ssize_t* resume) noexcept nogil:
    """Index just past the CRLFCRLF that ends a head, searching from i; 0 while incomplete (*resume says
    where to go on); -1 at a bare LF or CR, which the Python parser would split differently."""
    cdef const uint8_t* lf
    cdef Py_ssize_t j
    while True:  # line by line with memchr: every CR must be the one just before an LF
        lf = <const uint8_t*>memchr(b + i, 10, n - i)
        j = lf - b if lf != NULL else n
        if memchr(b + i, 13, max(j - 1 - i, 0)) != NULL:
            return -1  # a CR inside the line
        if lf == NULL:
            break
        if j == 0 or b[j - 1] != 13:
            return -1  # a bare LF
        if j >= 3 and b[j - 2] == 10 and b[j - 3] == 13:
            return j + 1
        i = j + 1
    resume[0] = n - 1 if n > 0 and b[n - 1] == 13 else n
    return 0


cdef Py_ssize_t _fields(const uint8_t* h, Py_ssize_t pos, Py_ssize_t n, tuple framing, tuple declared,
                        long long* length):
    """Check the header lines of a head whose first line ends before `pos`. Returns -1 when the head must
    be handed over: a line not written `name: value` (one space after the colon, no other space around
    name or value: so head filters see fields as the parser joins them), too many fields, a framing or
    declared header, a Content-Length the gate does not read exactly as the parser. *length gets the
    Content-Length, or -1."""
    cdef Py_ssize_t eol, colon, count = 0, i
    cdef const uint8_t* found
    length[0] = -1
    while pos < n and h[pos] != 13:
        if h[pos] == 32 or h[pos] == 9:
            return -1
        found = <const uint8_t*>memchr(h + pos, 13, n - pos)
        if found == NULL:
            return -1
        eol = found - h
        found = <const uint8_t*>memchr(h + pos, 58, eol - pos)
        if found == NULL:
            return -1
        colon = found - h
        count += 1
        if colon == pos or h[colon - 1] == 32 or h[colon - 1] == 9 or count > MAX_FIELDS:
            return -1  # not `name: value` as written by the parser's consumers (see head filters)
        if (colon + 2 >= eol or h[colon + 1] != 32 or h[colon + 2] == 32 or h[colon + 2] == 9
                or h[eol - 1] == 32 or h[eol - 1] == 9):
            return -1  # the value is not h[colon + 2:eol]: one space, then no space or tab at either end
        if _name_in(h + pos, colon - pos, framing) or _name_in(h + pos, colon - pos, declared):
            return -1
        if colon - pos == 14 and _name_in(h + pos, 14, (b"content-length",)):
            if length[0] >= 0 or eol - colon - 2 > 18:
                return -1
            length[0] = 0
            for i in range(colon + 2, eol):
                if not 48 <= h[i] <= 57:
                    return -1
                length[0] = length[0] * 10 + (h[i] - 48)
        pos = eol + 2
    return pos


cdef bint _may_be_boring_method(const uint8_t* p, Py_ssize_t n) noexcept nogil:
    """Whether p[:n] can begin `GET ` or `HEAD ` (the only requests the gate keeps)."""
    return memcmp(p, b"GET ", min(n, 4)) == 0 or memcmp(p, b"HEAD ", min(n, 5)) == 0


cdef Py_ssize_t _utf8_until(const uint8_t* p, Py_ssize_t n) noexcept nogil:
    """Where the first malformed UTF-8 sequence starts in p[:n] (n if none), by lead and continuation bytes
    only: laxer than Python's decoder, so never later than where it fails."""
    cdef Py_ssize_t i = 0, j, extra
    cdef uint8_t c
    while i < n:
        c = p[i]
        if c < 0x80:
            i += 1
            continue
        if 0xC2 <= c <= 0xDF:
            extra = 1
        elif 0xE0 <= c <= 0xEF:
            extra = 2
        elif 0xF0 <= c <= 0xF4:
            extra = 3
        else:
            return i
        for j in range(1, extra + 1):
            if i + j < n and p[i + j] & 0xC0 != 0x80:
                return i
        i += extra + 1
    return n


cdef inline void _append(bytearray buf, const uint8_t* p, Py_ssize_t n):
    cdef Py_ssize_t size = PyByteArray_GET_SIZE(buf)
    PyByteArray_Resize(buf, size + n)
    memcpy(PyByteArray_AS_STRING(buf) + size, p, n)


cdef class LiteralScreen:
    """Whether a head may hold one of some literals, ignoring ASCII case: a table on each literal's first
    two bytes, then a comparison of the rest. It lets the gate skip a consumer's head filter (a Python
    call per request) on heads that hold none of the literals that filter looks for; a head with a '%'
    always passes, as the filter also reads its percent-decoded copy."""

    def __init__(self, literals):
        found = sorted({bytes(literal).lower() for literal in literals}, key=lambda b: (b[0], b[1]))
        if any(len(literal) < 2 for literal in found) or len(found) >= 65536:
            raise ValueError("a literal screen takes fewer than 65,536 literals of 2 bytes or more")
        self.literals = tuple(found)
        cdef Py_ssize_t i
        cdef unsigned int key
        for i in range(len(found)):
            key = found[i][0] << 8 | found[i][1]
            if self.count[key] == 0:
                self.start[key] = i
            self.count[key] += 1
            self.present[key >> 6] |= (<uint64_t>1) << (key & 63)

    cdef bint may_match(self, const uint8_t* h, Py_ssize_t n):
        """One pass with a rolling pair of lower-cased bytes; the 8 KiB bitmap stays in the L1 cache."""
        cdef Py_ssize_t i
        cdef unsigned int key
        if n < 2:
            return False
        if memchr(h, 37, n) != NULL:
            return True
        key = _LOWER[h[0]]
        for i in range(n - 1):
            key = (key << 8 | _LOWER[h[i + 1]]) & 0xFFFF
            if self.present[key >> 6] >> (key & 63) & 1 and self._match_at(h, i, n, key):
                return True
        return False

    cdef bint _match_at(self, const uint8_t* h, Py_ssize_t i, Py_ssize_t n, unsigned int key):
        """Whether a literal starting with the pair `key` occurs at h[i]."""
        cdef Py_ssize_t j, k, m
        cdef bytes literal
        cdef const uint8_t* q
        for k in range(self.start[key], self.start[key] + self.count[key]):
            literal = <bytes>self.literals[k]
            m = len(literal)
            if i + m > n:
                continue
            q = <const uint8_t*><char*>literal
            for j in range(2, m):
                if _LOWER[h[i + j]] != q[j]:
                    break
            else:
                return True
        return False

    def screens_out(self, const uint8_t[::1] head):
        """True when `head` surely holds none of the literals (for tests)."""
        return not self.may_match(&head[0] if head.shape[0] else NULL, head.shape[0])


cdef class GateConfig:
    """What the detectors declared (flows/http_interest.py builds it); shared by every gated flow."""

    def __init__(self, request_headers=(), response_headers=(), statuses=frozenset(), text_bodies=False,
                 typed_bodies=False, magics=(), request_filter=None, response_filter=None,
                 long long depth=256 * 1024, Py_ssize_t binary_sample=512, int control_limit=4,
                 Py_ssize_t nul_sample=0, LiteralScreen request_screen=None):
        self.request_headers = tuple(bytes(h).lower() for h in request_headers)
        self.response_headers = tuple(bytes(h).lower() for h in response_headers)
        self.statuses = frozenset(statuses)
        self.text_bodies = text_bodies
        self.typed_bodies = typed_bodies
        self.magics = tuple((int(offset), bytes(signature)) for offset, signature in magics)
        self.request_filter = request_filter
        self.request_screen = request_screen  # None: the request filter sees every head
        self.response_filter = response_filter
        self.depth = depth
        self.binary_sample = binary_sample
        self.control_limit = control_limit
        self.nul_sample = nul_sample


cdef class HttpGate:
    """The compiled framing of one HTTP connection, from a request's first byte on."""

    def __init__(self, GateConfig config, uint32_t client_seq, server_isn=None):
        self.cfg = config
        self.c_next = client_seq
        self.s_known = server_isn is not None
        if self.s_known:
            self.s_next = (<uint32_t>server_isn) + 1
        self.cbuf = bytearray()
        self.sbuf = bytearray()
        self.unanswered = []
        self.s_state = S_HEAD

    def feed(self, bint to_server, uint32_t seq, int flags, const uint8_t[::1] payload):
        """`segment` for Python callers (the flow's first payload, and tests)."""
        return self.segment(to_server, seq, flags, &payload[0] if payload.shape[0] else NULL,
                            payload.shape[0])

    cdef int segment(self, bint to_server, uint32_t seq, int flags, const uint8_t* p, Py_ssize_t n) except -1:
        cdef int32_t off
        cdef int result
        if flags & 0x02:  # a SYN inside the connection: the Python side follows what happens
            return GATE_HANDOVER_BEFORE
        if to_server:
            off = <int32_t>(seq - self.c_next)
            if off > 0:
                return GATE_HANDOVER_BEFORE  # out of order: the Python reassembler holds it
        else:
            if not self.s_known:
                self.s_next = seq
                self.s_known = True
            off = <int32_t>(seq - self.s_next)
            if off > 0:
                if self.s_state == S_CLOSE or (self.s_state == S_BODY and off < self.remaining):
                    if self.s_state == S_BODY:  # a hole inside a body nobody reads: skipped with it
                        self.remaining -= off
                    self.s_next = seq
                    off = 0
                else:
                    return GATE_HANDOVER_BEFORE
        if off + n <= 0:
            self.retransmitted_bytes += n
            return GATE_CONSUMED
        if off < 0:
            self.retransmitted_bytes += -off
            p -= off
            n += off
        if to_server:
            self.c_next += <uint32_t>n
            result = self._client(p, n)
        else:
            self.s_next += <uint32_t>n
            result = self._server(p, n)
        if result == GATE_CONSUMED and self.parsed > self.cfg.depth:
            return GATE_BYPASS
        return result

    cdef int _client(self, const uint8_t* p, Py_ssize_t n) except -1:
        cdef Py_ssize_t end, resume = 0, size
        cdef const uint8_t* b
        cdef int method
        _append(self.cbuf, p, n)
        self.parsed += n
        while True:
            b = <const uint8_t*>PyByteArray_AS_STRING(self.cbuf)
            size = PyByteArray_GET_SIZE(self.cbuf)
            if not _may_be_boring_method(b + self.c_done, size - self.c_done):
                return GATE_HANDOVER  # another method, CRLFs between messages, or no HTTP at all
            end = _head_end(b, max(self.c_search, self.c_done), size, &resume)
            if end < 0:
                return GATE_HANDOVER
            if end == 0:
                self.c_search = resume
                return GATE_HANDOVER if size - self.c_done > MAX_HEAD else GATE_CONSUMED
            method = self._request_head(self.c_done, end)
            if method == HEAD_HANDOVER:
                return GATE_HANDOVER
            self.unanswered.append((end - self.c_done, method))
            self.c_done = self.c_search = end
            if len(self.unanswered) > MAX_UNANSWERED:
                return GATE_HANDOVER
            if end == size:
                return GATE_CONSUMED

    cdef int _request_head(self, Py_ssize_t start, Py_ssize_t end) except -1:
        """1 for a boring HEAD request, 0 for a boring GET, HEAD_HANDOVER otherwise."""
        cdef const uint8_t* h = <const uint8_t*>PyByteArray_AS_STRING(self.cbuf) + start
        cdef Py_ssize_t n = end - start, pos, target
        cdef int method
        cdef long long length
        if n > 4 and memcmp(h, b"GET ", 4) == 0:
            method, pos = 0, 4
        elif n > 5 and memcmp(h, b"HEAD ", 5) == 0:
            method, pos = 1, 5
        else:
            return HEAD_HANDOVER
        target = pos
        while pos < n and h[pos] > 32 and h[pos] != 127:
            pos += 1
        if pos == target or pos + 10 > n or h[pos] != 32 or memcmp(h + pos + 1, b"HTTP/", 5) != 0:
            return HEAD_HANDOVER
        pos += 6
        if not (48 <= h[pos] <= 57 and h[pos + 1] == 46 and 48 <= h[pos + 2] <= 57 and h[pos + 3] == 13):
            return HEAD_HANDOVER
        if _fields(h, pos + 5, n, REQUEST_FRAMING, self.cfg.request_headers, &length) != n - 2:
            return HEAD_HANDOVER
        if self.cfg.request_filter is not None and (
                self.cfg.request_screen is None or self.cfg.request_screen.may_match(h, n)) and (
                self.cfg.request_filter(PyBytes_FromStringAndSize(<char*>h, n))):
            return HEAD_HANDOVER
        return method

    cdef int _server(self, const uint8_t* p, Py_ssize_t n) except -1:
        cdef Py_ssize_t take, end, resume = 0, size
        cdef const uint8_t* b
        cdef bytes rest
        cdef int framing
        cdef bint counted = False
        while n > 0:
            if self.s_state == S_BODY:
                take = min(self.remaining, n)
                self.remaining -= take
                p += take
                n -= take
                if self.remaining == 0:
                    self._answered()
                continue
            if self.s_state == S_CLOSE:
                return GATE_CONSUMED
            if not counted:  # what the Python parser would have read: all but a skipped body's bytes
                self.parsed += n
                counted = True
            if self.s_state == S_SNIFF:
                if self._wanted_body(p, self._body_part(n)):
                    _append(self.sbuf, p, n)
                    return GATE_HANDOVER
                PyByteArray_Resize(self.sbuf, 0)
                self.s_state = S_CLOSE if self.remaining < 0 else S_BODY
                self.bodies_skipped += 1
                continue
            _append(self.sbuf, p, n)
            if not self.unanswered:
                return GATE_HANDOVER  # a response to nothing the gate saw
            b = <const uint8_t*>PyByteArray_AS_STRING(self.sbuf)
            size = PyByteArray_GET_SIZE(self.sbuf)
            if memcmp(b, b"HTTP/", min(size, 5)) != 0:
                return GATE_HANDOVER  # not a status line: the parser reports it at once
            end = _head_end(b, self.s_search, size, &resume)
            if end < 0:
                return GATE_HANDOVER
            if end == 0:
                self.s_search = resume
                return GATE_HANDOVER if size > MAX_HEAD else GATE_CONSUMED
            framing = self._response_head(end)
            if framing == HEAD_HANDOVER:
                return GATE_HANDOVER
            if framing and (self.cfg.text_bodies or self.cfg.typed_bodies):
                if end == size:
                    self.s_state = S_SNIFF  # the head stays in sbuf, for a handover at the body
                    self.s_search = 0
                    return GATE_CONSUMED
                if self._wanted_body(b + end, self._body_part(size - end)):
                    return GATE_HANDOVER
            rest = PyBytes_FromStringAndSize(<char*>b + end, size - end)
            PyByteArray_Resize(self.sbuf, 0)
            self.s_search = 0
            if framing:
                self.s_state = S_CLOSE if self.remaining < 0 else S_BODY
                self.bodies_skipped += 1
            else:
                self._answered()
            p = <const uint8_t*><char*>rest
            n = len(rest)
        return GATE_CONSUMED

    cdef int _response_head(self, Py_ssize_t end) except -1:
        """0: a boring response without a body; 1: with one (state and length set); or HEAD_HANDOVER."""
        cdef const uint8_t* h = <const uint8_t*>PyByteArray_AS_STRING(self.sbuf)
        cdef Py_ssize_t pos
        cdef int status
        cdef long long length
        if end < 16 or memcmp(h, b"HTTP/", 5) != 0 or not (48 <= h[5] <= 57 and h[6] == 46
                and 48 <= h[7] <= 57 and h[8] == 32 and 48 <= h[9] <= 57 and 48 <= h[10] <= 57
                and 48 <= h[11] <= 57 and (h[12] == 13 or h[12] == 32)):
            return HEAD_HANDOVER
        status = (h[9] - 48) * 100 + (h[10] - 48) * 10 + (h[11] - 48)
        if status < 200 or status in self.cfg.statuses:
            return HEAD_HANDOVER
        pos = <const uint8_t*>memchr(h + 12, 13, end - 12) - h
        if _fields(h, pos + 2, end, RESPONSE_FRAMING, self.cfg.response_headers, &length) != end - 2:
            return HEAD_HANDOVER
        if self.cfg.response_filter is not None and self.cfg.response_filter(
                PyBytes_FromStringAndSize(<char*>h, end)):
            return HEAD_HANDOVER
        if self.unanswered[0][1] == 1 or status == 204 or status == 304 or length == 0:
            return 0
        self.remaining = length  # -1: until the connection closes
        return 1

    cdef Py_ssize_t _body_part(self, Py_ssize_t n):
        """How many of the next n bytes belong to the body just begun (what the parser would hand over)."""
        return n if self.remaining < 0 else min(n, self.remaining)

    cdef bint _wanted_body(self, const uint8_t* p, Py_ssize_t n):
        """Whether a detector might read a body starting with p[:n]: a file signature, no NUL byte (text
        or a config, for the carver), or few control bytes (text, for the content scanners)."""
        cdef Py_ssize_t offset, i, limit
        cdef bytes signature
        cdef int controls = 0
        if self.cfg.typed_bodies:
            for offset, signature in self.cfg.magics:
                if n >= offset + len(signature) and memcmp(p + offset, <char*>signature, len(signature)) == 0:
                    return True
            limit = min(n, self.cfg.nul_sample)
            if memchr(p, 0, limit) == NULL and _utf8_until(p, limit) >= limit - 4:
                return True  # text, as the carver's identify() reads it: no NUL, UTF-8 but for a cut end
        if self.cfg.text_bodies:
            limit = min(n, self.cfg.binary_sample)
            for i in range(limit):
                if p[i] < 9 or 14 <= p[i] < 32 or p[i] == 127:
                    controls += 1
                    if controls > self.cfg.control_limit:
                        return False  # binary: most bodies tell within their first bytes
            return True
        return False

    cdef void _answered(self):
        """The oldest request has its whole answer: forget its head."""
        cdef Py_ssize_t length = self.unanswered.pop(0)[0]
        del self.cbuf[:length]
        self.c_done -= length
        self.c_search = max(self.c_search - length, 0)
        self.messages += 2
        self.s_state = S_HEAD

    def pending(self):
        """What the Python side is handed: ((client start seq, bytes), (server start seq, bytes) or None).

        The client part starts at the oldest unanswered request; the server part at the response being
        read. A response whose body is being skipped stays the gate's: the server part starts after it."""
        cdef bytes client = bytes(self.cbuf)
        cdef uint32_t start = self.c_next - <uint32_t>len(client)
        cdef Py_ssize_t answered
        server = None
        if self.s_state in (S_BODY, S_CLOSE):
            answered = self.unanswered[0][0]
            client = client[answered:]
            start += <uint32_t>answered
            if self.s_state == S_BODY:
                server = (<uint32_t>(self.s_next + <uint32_t>self.remaining), b"")
        elif self.s_known:
            server = (<uint32_t>(self.s_next - <uint32_t>len(self.sbuf)), bytes(self.sbuf))
        return (start, client), server

    def in_flight(self):
        """Messages begun and not finished: unanswered requests, a response being read."""
        return len(self.unanswered) + (self.s_state != S_HEAD)

    def messages_read(self, bint handover):
        """The messages that are the gate's to count: those it read whole, and either (at a handover) the
        response whose body it was skipping with its request, which `pending` leaves out, or (at the
        connection's end) every message begun."""
        if handover:
            return self.messages + 2 * (self.s_state in (S_BODY, S_CLOSE))
        return self.messages + self.in_flight()


# The verdicts of HttpGate.feed, for the Python side.
CONSUMED = GATE_CONSUMED
HANDOVER = GATE_HANDOVER
HANDOVER_BEFORE = GATE_HANDOVER_BEFORE
BYPASS = GATE_BYPASS
