# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True, initializedcheck=False
"""The SSH reader of protocols/ssh.py in C: banners, the key exchange's framing, then the session's shape.

Why: every encrypted segment of an SSH session is read until its login is judged (up to 40 for a session
that logs in, all of them for a failed login); in Python each made an `Encrypted(size)` message and a
handful of calls, most of the brute-force detector's cost on SSH traffic. Here a segment after the keys is
a few additions and comparisons, and Python hears only of the messages that change something: banners,
KEXINIT, NEWKEYS and one `LoggedIn`. Same rules as the Python reader and judgement it replaces
(tests/ssh_reference.py holds the two to each other).
"""

from minerwatch.protocols.ssh import (
    MAX_BANNER,
    MAX_PACKET,
    MAX_PRE_BANNER_LINES,
    MSG_KEXINIT,
    MSG_NEWKEYS,
    KexInit,
    LoggedIn,
    NewKeys,
    Version,
)

cdef Py_ssize_t _MAX_BANNER = MAX_BANNER, _MAX_PACKET = MAX_PACKET
cdef int _MAX_LINES = MAX_PRE_BANNER_LINES, _KEXINIT = MSG_KEXINIT, _NEWKEYS = MSG_NEWKEYS
cdef object _LOGGED_IN = LoggedIn()


cdef class _Direction:
    """One direction's cleartext part: lines up to the banner, then binary packets up to NEWKEYS."""

    cdef bint has_version, encrypted, broken
    cdef int lines
    cdef bytearray buffer

    def __cinit__(self):
        self.buffer = bytearray()

    cdef void stop(self):
        self.broken = True
        del self.buffer[:]

    cdef Py_ssize_t frame(self, object data, list out) except -2:
        """Messages of `data` into `out`; after a NEWKEYS, the bytes that followed it in the buffer (the
        first encrypted chunk), else -1."""
        cdef Py_ssize_t length, rest = -1
        cdef int kind
        cdef bytearray buf = self.buffer
        buf += data
        if not self.has_version:
            self.banner(out)
        while self.has_version and not self.broken and len(buf) >= 6:
            length = (<Py_ssize_t>buf[0] << 24) | (buf[1] << 16) | (buf[2] << 8) | buf[3]
            if length < 2 or length > _MAX_PACKET:
                self.stop()
                break
            if len(buf) < 4 + length:
                break
            kind = buf[5]
            del buf[: 4 + length]
            if kind == _KEXINIT:
                out.append(KexInit())
            elif kind == _NEWKEYS:
                out.append(NewKeys())
                self.encrypted = True
                rest = len(buf)
                del buf[:]
                break
        if len(buf) > _MAX_PACKET + 4:
            self.stop()
        return rest

    cdef int banner(self, list out) except -1:
        cdef Py_ssize_t end
        cdef bytes line
        cdef bytearray buf = self.buffer
        while not self.has_version:
            end = buf.find(b"\n")
            if end < 0:
                if len(buf) > _MAX_BANNER:
                    self.stop()
                return 0
            line = bytes(buf[:end]).rstrip(b"\r")
            del buf[: end + 1]
            if line.startswith(b"SSH-"):
                protocol, _, software = line[4:].decode("utf-8", "replace").partition("-")
                self.has_version = True
                out.append(Version(protocol, software[:_MAX_BANNER]))
            else:
                self.lines += 1
                if self.lines > _MAX_LINES or len(line) > _MAX_BANNER:
                    self.stop()
                    return 0
        return 0


cdef class SshParser:
    """Both directions, and the shape of what followed the first NEWKEYS: `packets` (chunks fed) and
    `size` (their bytes) in both directions together, and the login's lock-step until `LoggedIn`."""

    cdef _Direction client, server
    cdef readonly long long packets, size
    cdef long long login_packets, login_bytes, requests, accept_size
    cdef bint secured, pending

    def __init__(self, long long login_packets, long long login_bytes):
        """A session of `login_packets` chunks or `login_bytes` bytes after the keys has logged in."""
        self.client = _Direction()
        self.server = _Direction()
        self.login_packets = login_packets
        self.login_bytes = login_bytes
        self.accept_size = -1

    @property
    def done(self):
        """A direction is not SSH, or lost its framing before the key exchange ended."""
        return self.client.broken or self.server.broken

    @property
    def long_session(self):
        """More chunks or bytes after the keys than a failed login makes."""
        return self.packets >= self.login_packets or self.size >= self.login_bytes

    @property
    def buffered(self):
        """Bytes held for incomplete lines and packets."""
        return len(self.client.buffer) + len(self.server.buffer)

    def feed(self, bint to_server, data):
        cdef _Direction side = self.client if to_server else self.server
        cdef list out = []
        cdef Py_ssize_t rest
        if side.broken:
            return out
        if side.encrypted:
            rest = len(data)
            if rest:
                self.encrypted(to_server, rest, out)
            return out
        rest = side.frame(data, out)
        if side.encrypted:  # NEWKEYS was this chunk's last message
            if not self.secured:
                self.secured = self.pending = True
            if rest > 0:
                self.encrypted(to_server, rest, out)
        return out

    def gap(self, bint to_server):
        (self.client if to_server else self.server).stop()

    cdef int encrypted(self, bint to_server, Py_ssize_t size, list out) except -1:
        if to_server:
            self.requests += 1
        elif self.requests and self.pending:
            if self.accept_size < 0:
                self.accept_size = size
            elif size < self.accept_size:
                self.pending = False
                out.append(_LOGGED_IN)
        self.packets += 1
        self.size += size
        if self.pending and (self.packets >= self.login_packets or self.size >= self.login_bytes):
            self.pending = False
            out.append(_LOGGED_IN)
        return 0
