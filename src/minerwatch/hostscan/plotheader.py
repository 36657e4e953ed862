"""Sans-IO parser for Chia plot file headers: bytes in, a `PlotHeader` (or None) out.

Plots are recognised by content, never by name, in the three formats in use:

- ``v1``: chiapos / madMAx / bladebit uncompressed. Magic "Proof of Space Plot", plot id (32), k (1),
  format description (u16 BE length + text), memo (u16 BE length + memo), 10 table pointers (u64 BE).
  Source: chiapos ``src/plotter_disk.hpp`` WriteHeader, bladebit ``src/plotting/PlotWriter.cpp``.
- ``bladebit-compressed``: magic "PLOT" (u32 LE 0x544F4C50), version (u32 LE, 2), plot id (32), k (1),
  memo (u16 BE length + memo), flags (u32 LE, bit 0 = compressed), compression level (1, only when
  compressed), 10 table pointers (u64 BE), 10 table sizes (u64 LE). Source: bladebit PlotWriter.cpp.
- ``v2`` (proof of space v2, ``.plot2``): magic "PoS2", version (1), plot group id (32), k (1),
  strength (1), group size (u16 LE), meta group (1), body length (u64 LE), memo (u8 length + memo),
  then the body and a trailing index. Layout read from files written by chia_rs 0.53
  (``create_v2_single_plot_group``, crate chia-pos2 1.0.0) and checked against its ``Prover``.

The memo holds the pool contract puzzle hash (32) or pool public key (48), the farmer public key (48) and
the plot's local master *secret* key (32). The secret key is never kept: this module drops it on parsing.

Worst case: one bounded buffer (`HEADER_READ` bytes) per file, O(len) work, no allocation proportional to
length fields read from the file.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

HEADER_READ = 4096
"""Bytes read from each candidate file; every real header fits (v1: 19+32+1+2+4+2+128+80 = 268)."""

V1_MAGIC = b"Proof of Space Plot"
BLADEBIT_MAGIC = b"PLOT"
V2_MAGIC = b"PoS2"
MAGICS = (V1_MAGIC, BLADEBIT_MAGIC, V2_MAGIC)

_SECRET_KEY_LEN = 32
_FARMER_PK_LEN = 48
MEMO_POOL_CONTRACT = 32 + _FARMER_PK_LEN + _SECRET_KEY_LEN  # 112
MEMO_POOL_PUBLIC_KEY = 48 + _FARMER_PK_LEN + _SECRET_KEY_LEN  # 128

_MIN_K, _MAX_K = 15, 50
_BLADEBIT_COMPRESSED = 1


class NotAPlot(ValueError):
    """The bytes start with a plot magic but are not a plot (bad k or version, or too short to tell)."""


class TruncatedHeader(NotAPlot):
    """A header that identifies itself (magic, valid k) and then stops: a plot cut short."""

    def __init__(self, message: str, fmt: str, k: int) -> None:
        super().__init__(message)
        self.format = fmt
        self.k = k


@dataclass(frozen=True, slots=True)
class PlotHeader:
    """What a plot header tells an investigator; no secret material."""

    format: str  # "v1" | "bladebit-compressed" | "v2"
    k: int
    plot_id: str  # hex; for v2 the plot group id
    memo_type: str  # "pool_contract" | "pool_public_key" | "unknown"
    pool_key: str | None  # hex pool contract puzzle hash or pool public key (public values)
    farmer_public_key: str | None  # hex; the same key across hosts means the same operator
    header_size: int
    table_pointers: tuple[int, ...] = ()  # v1 and bladebit: 0 until the plotter finishes the table
    compression_level: int | None = None  # bladebit only
    strength: int | None = None  # v2 only
    group_size: int | None = None  # v2 only
    meta_group: int | None = None  # v2 only
    body_length: int | None = None  # v2 only: bytes of body after the header, before the trailing index
    format_description: str | None = None  # v1 only, e.g. "v1.0"


def looks_like_plot(head: bytes) -> bool:
    """Cheap first test on the first bytes of a file."""
    return head.startswith(MAGICS)


def parse_header(data: bytes) -> PlotHeader | None:
    """Parse the start of a file: None if not a plot at all, `NotAPlot` if it claims to be but is broken."""
    if data.startswith(V1_MAGIC):
        return _parse_v1(data)
    if data.startswith(BLADEBIT_MAGIC):
        return _parse_bladebit(data)
    if data.startswith(V2_MAGIC):
        return _parse_v2(data)
    return None


class _Reader:
    """Bounds-checked cursor: any read past the end raises NotAPlot (a truncated header)."""

    def __init__(self, data: bytes, offset: int, fmt: str) -> None:
        self._data = memoryview(data)
        self.pos = offset
        self.format = fmt
        self.k: int | None = None  # set once the header has identified itself

    def take(self, n: int) -> bytes:
        end = self.pos + n
        if end > len(self._data):
            message = f"header cut short: needs {end} bytes, has {len(self._data)}"
            if self.k is None:
                raise NotAPlot(message)
            raise TruncatedHeader(message, self.format, self.k)
        chunk = bytes(self._data[self.pos : end])
        self.pos = end
        return chunk

    def unpack(self, fmt: str) -> tuple[int, ...]:
        return struct.unpack(fmt, self.take(struct.calcsize(fmt)))


def _check_k(r: _Reader) -> int:
    """Reads k; a valid k after a valid magic is what makes a cut-short header a truncated plot."""
    (k,) = r.unpack("B")
    if not _MIN_K <= k <= _MAX_K:
        raise NotAPlot(f"k={k} is outside {_MIN_K}..{_MAX_K}")
    r.k = k
    return k


def _memo_fields(memo: bytes) -> tuple[str, str | None, str | None]:
    """Memo type and its public keys; the trailing local master secret key is deliberately dropped."""
    if len(memo) == MEMO_POOL_CONTRACT:
        return "pool_contract", memo[:32].hex(), memo[32:80].hex()
    if len(memo) == MEMO_POOL_PUBLIC_KEY:
        return "pool_public_key", memo[:48].hex(), memo[48:96].hex()
    return "unknown", None, None


def _parse_v1(data: bytes) -> PlotHeader:
    r = _Reader(data, len(V1_MAGIC), "v1")
    plot_id = r.take(32).hex()
    k = _check_k(r)
    (fmt_len,) = r.unpack(">H")
    fmt = r.take(fmt_len).decode("ascii", "replace")
    (memo_len,) = r.unpack(">H")
    memo_type, pool_key, farmer = _memo_fields(r.take(memo_len))
    pointers = r.unpack(">10Q")
    return PlotHeader(
        format="v1",
        k=k,
        plot_id=plot_id,
        memo_type=memo_type,
        pool_key=pool_key,
        farmer_public_key=farmer,
        header_size=r.pos,
        table_pointers=pointers,
        format_description=fmt,
    )


def _parse_bladebit(data: bytes) -> PlotHeader:
    r = _Reader(data, len(BLADEBIT_MAGIC), "bladebit-compressed")
    (version,) = r.unpack("<I")
    if version != 2:
        raise NotAPlot(f"bladebit header version {version} is not 2")
    plot_id = r.take(32).hex()
    k = _check_k(r)
    (memo_len,) = r.unpack(">H")
    memo_type, pool_key, farmer = _memo_fields(r.take(memo_len))
    (flags,) = r.unpack("<I")
    level = r.unpack("B")[0] if flags & _BLADEBIT_COMPRESSED else 0
    pointers = r.unpack(">10Q")
    r.take(80)  # table sizes (u64 LE): not needed, but part of a complete header
    return PlotHeader(
        format="bladebit-compressed",
        k=k,
        plot_id=plot_id,
        memo_type=memo_type,
        pool_key=pool_key,
        farmer_public_key=farmer,
        header_size=r.pos,
        table_pointers=pointers,
        compression_level=level,
    )


def _parse_v2(data: bytes) -> PlotHeader:
    r = _Reader(data, len(V2_MAGIC), "v2")
    (version,) = r.unpack("B")
    if version == 0:
        raise NotAPlot("v2 header version 0 is invalid")
    plot_id = r.take(32).hex()
    k = _check_k(r)
    strength, group_size, meta_group, body_length, memo_len = r.unpack("<BHBQB")
    memo_type, pool_key, farmer = _memo_fields(r.take(memo_len))
    return PlotHeader(
        format="v2",
        k=k,
        plot_id=plot_id,
        memo_type=memo_type,
        pool_key=pool_key,
        farmer_public_key=farmer,
        header_size=r.pos,
        strength=strength,
        group_size=group_size,
        meta_group=meta_group,
        body_length=body_length,
    )
