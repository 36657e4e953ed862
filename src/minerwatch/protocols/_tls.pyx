# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True, initializedcheck=False
"""The ClientHello walk of protocols/tls.py in C: the fields JA3, JA4, SNI and ALPN are made of.

Why: one hello is read per TLS connection, by intel (SNI, fingerprints) and the encrypted detector alike;
walked in Python with a bounds-checked reader per field it was the largest single cost of the default run
outside the engine (a tenth of it on the synthetic benchmark). Same rules and the same error messages as
the Python walk it replaces (tests/tls_reference.py holds the two to each other): every length is checked
against what holds it, so hostile input costs O(len(body)).
"""

from cpython.bytes cimport PyBytes_AS_STRING, PyBytes_FromStringAndSize, PyBytes_GET_SIZE
from cpython.object cimport PyObject_GenericSetAttr
from cpython.tuple cimport PyTuple_New, PyTuple_SET_ITEM
from cpython.ref cimport Py_INCREF
from libc.stdint cimport uint8_t

from minerwatch.protocols.tls import (
    EXT_ALPN,
    EXT_GROUPS,
    EXT_POINT_FORMATS,
    EXT_SIG_ALGS,
    EXT_SNI,
    EXT_VERSIONS,
    ClientHello,
    TlsParseError,
)

cdef int _SNI = EXT_SNI, _GROUPS = EXT_GROUPS, _POINTS = EXT_POINT_FORMATS, _SIGS = EXT_SIG_ALGS
cdef int _ALPN = EXT_ALPN, _VERSIONS = EXT_VERSIONS
cdef str FIXED = "ClientHello ends inside its fixed fields"


cdef inline int be16(const uint8_t* p) noexcept nogil:
    return (p[0] << 8) | p[1]


cdef tuple u16_list(const uint8_t* p, Py_ssize_t n):
    """16-bit big-endian values, as a tuple of ints; an odd length is malformed."""
    cdef Py_ssize_t i
    cdef object value
    if n % 2:
        raise TlsParseError("list of 16-bit values has an odd length")
    cdef tuple values = PyTuple_New(n // 2)
    for i in range(n // 2):
        value = be16(p + 2 * i)
        Py_INCREF(value)
        PyTuple_SET_ITEM(values, i, value)
    return values


cdef class Reader:
    """Bounds-checked reads over one field (offsets counted from its start, as the messages say)."""
    cdef const uint8_t* p
    cdef Py_ssize_t n
    cdef Py_ssize_t pos

    cdef Py_ssize_t take(self, Py_ssize_t size) except -1:
        """The offset of the next `size` bytes, which are then passed."""
        cdef Py_ssize_t at = self.pos
        if at + size > self.n:
            raise TlsParseError(f"field of {size} bytes at offset {at} runs past the hello")
        self.pos += size
        return at

    cdef Py_ssize_t uint(self, int size) except -1:
        cdef Py_ssize_t at = self.take(size)
        return self.p[at] if size == 1 else be16(self.p + at)

    cdef Reader vector(self, int length_size):
        """The vector that follows (its length in `length_size` bytes), as a reader of its own."""
        cdef Py_ssize_t length = self.uint(length_size)
        cdef Py_ssize_t at = self.take(length)
        return reader(self.p + at, length)

    cdef bytes rest(self):
        return PyBytes_FromStringAndSize(<const char*>self.p + self.pos, self.n - self.pos)


cdef Reader reader(const uint8_t* p, Py_ssize_t n):
    cdef Reader r = Reader.__new__(Reader)
    r.p = p
    r.n = n
    r.pos = 0
    return r


cdef object sni(Reader field):
    cdef Reader names = field.vector(2)
    cdef Py_ssize_t kind
    cdef Reader name
    while names.pos < names.n:
        kind = names.uint(1)
        name = names.vector(2)
        if kind == 0:  # host_name
            return name.rest().decode("ascii", "backslashreplace")
    return None


cdef tuple alpn(Reader field):
    cdef Reader names = field.vector(2)
    protocols = []
    while names.pos < names.n:
        protocols.append(names.vector(1).rest().decode("latin-1"))
    return tuple(protocols)


def parse_client_hello(bytes body):
    """Parse a ClientHello handshake body (after the 4-byte handshake header); TlsParseError says where it
    is malformed."""
    cdef const uint8_t* p = <const uint8_t*>PyBytes_AS_STRING(body)
    cdef Py_ssize_t end = PyBytes_GET_SIZE(body), pos, cipher_bytes, stop, size, start
    cdef int ext_type
    if end < 35:
        raise TlsParseError(FIXED)
    legacy_version = be16(p)
    pos = 35 + p[34]  # version, random, then the session id
    if pos + 2 > end:
        raise TlsParseError(FIXED)
    cipher_bytes = be16(p + pos)
    ciphers = u16_list(p + pos + 2, min(cipher_bytes, end - pos - 2))
    pos += 2 + cipher_bytes
    if pos >= end:
        raise TlsParseError(FIXED)
    pos += 1 + p[pos]  # compression methods
    if pos > end:
        raise TlsParseError(FIXED)
    extensions = []
    cdef dict fields = {}  # extension type -> the offset and size of its first occurrence
    if pos != end:  # no extension list at all is allowed before TLS 1.2
        if pos + 2 > end:
            raise TlsParseError("extension list length runs past the ClientHello")
        stop = pos + 2 + be16(p + pos)
        pos += 2
        if stop > end:
            raise TlsParseError("extension list runs past the ClientHello")
        while pos < stop:
            if pos + 4 > stop:
                raise TlsParseError(f"extension header at offset {pos} runs past the list")
            ext_type, size = be16(p + pos), be16(p + pos + 2)
            pos += 4
            if pos + size > stop:
                raise TlsParseError(f"extension {ext_type} runs past the list")
            extensions.append(ext_type)
            if ext_type not in fields:
                fields[ext_type] = (pos, size)
            pos += size
    groups = points = sigs = versions = ()
    cdef Reader field
    if _GROUPS in fields:
        field = _field(p, fields[_GROUPS]).vector(2)
        groups = u16_list(field.p, field.n)
    if _POINTS in fields:
        points = tuple(_field(p, fields[_POINTS]).vector(1).rest())
    if _SIGS in fields:
        field = _field(p, fields[_SIGS]).vector(2)
        sigs = u16_list(field.p, field.n)
    if _VERSIONS in fields:
        field = _field(p, fields[_VERSIONS]).vector(1)
        versions = u16_list(field.p, field.n)
    # Made as the frozen dataclass's __init__ would make it (each slot set past its __setattr__), without
    # that __init__: interpreted, it took a third of the walk.
    cdef object hello = ClientHello.__new__(ClientHello)
    PyObject_GenericSetAttr(hello, "legacy_version", legacy_version)
    PyObject_GenericSetAttr(hello, "ciphers", ciphers)
    PyObject_GenericSetAttr(hello, "extensions", tuple(extensions))
    PyObject_GenericSetAttr(hello, "groups", groups)
    PyObject_GenericSetAttr(hello, "point_formats", points)
    PyObject_GenericSetAttr(hello, "signature_algorithms", sigs)
    PyObject_GenericSetAttr(hello, "supported_versions", versions)
    PyObject_GenericSetAttr(hello, "sni", sni(_field(p, fields[_SNI])) if _SNI in fields else None)
    PyObject_GenericSetAttr(hello, "alpn", alpn(_field(p, fields[_ALPN])) if _ALPN in fields else ())
    return hello


cdef Reader _field(const uint8_t* p, tuple where):
    return reader(p + <Py_ssize_t>where[0], <Py_ssize_t>where[1])
