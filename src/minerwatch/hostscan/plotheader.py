"""Sans-IO parser for Chia plot file headers: bytes in, a `PlotHeader` (or None) out.

Plots are recognised by content, never by name, in the three formats in use:

- ``v1``: chiapos / madMAx / bladebit uncompressed. Magic "Proof of Space Plot", plot id (32), k (1),
  format description (u16 BE length + text), memo (u16 BE length + memo), 10 table pointers (u64 BE).
  Source: chiapos ``src/plotter_disk.hpp`` WriteHeader, bladebit ``src/plotting/PlotWriter.cpp``.
- ``bladebit-compressed``: magic "PLOT" (u32 LE 0x544F4C50), version (u32 LE, 2), plot id (32), k (1),
  memo (u16 BE length + memo), flags (u32 LE, bit 0 = compressed), compression level (1, only when
  compressed), 10 table pointers (u64 BE), 10 table sizes (u64 LE). Source: bladebit PlotWriter.cpp.
- ``v2`` (proof of space v2, ``.plot2``), in the three layouts chia_rs has released (each read from files its
  plotter wrote, and from Chia-Network/pos2-chip ``src/plot/PlotFile.hpp`` for the ``pos2`` ones):

  - ``pos2-fixed-memo`` (chia_rs 0.31.0-0.36.1, ``create_v2_plot``): magic "pos2", version (1, =1), plot id
    (32), k (1), strength (1), memo (112, no length: pool contract puzzle hash, farmer key, secret key),
    then a fragment vector (u64 LE count + 8 bytes each; 0.31-0.35) or a chunk index (0.36).
  - ``pos2-indexed`` (chia_rs 0.37.0-0.52.1): magic "pos2", version (1, =1), plot id (32), k (1),
    strength (1), plot index (u16 LE), meta group (1), memo (u8 length, 112 or 128, + memo), chunk index.
  - ``PoS2`` (chia_rs 0.53, ``create_v2_single_plot_group``, crate chia-pos2 1.0.0): magic "PoS2",
    version (1), plot group id (32), k (1), strength (1), group size (u16 LE), meta group (1), body length
    (u64 LE), memo (u8 length + memo), then the body and a trailing index; checked against its ``Prover``.

  A chunk index is a u64 LE count N and N u64 LE absolute offsets, written as zeros first and filled in
  when the plot is finished; its first offset is where the index ends. The two ``pos2`` layouts share
  their first 39 bytes: the indexed one is taken when its memo length is 112 or 128 and a chunk index that
  agrees with itself follows the memo.

The memo holds the pool contract puzzle hash (32) or pool public key (48), the farmer public key (48) and
the plot's local master *secret* key (32). The secret key is never kept: this module drops it on parsing.

Worst case: one bounded buffer (`HEADER_READ` bytes) per file, O(len) work, no allocation proportional to
length fields read from the file.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import Any

HEADER_READ = 4096
"""Bytes read from each candidate file; every real header fits (v1: 19+32+1+2+4+2+128+80 = 268)."""

V1_MAGIC = b"Proof of Space Plot"
BLADEBIT_MAGIC = b"PLOT"
V2_MAGIC = b"PoS2"
POS2_MAGIC = b"pos2"
MAGICS = (V1_MAGIC, BLADEBIT_MAGIC, V2_MAGIC, POS2_MAGIC)

_SECRET_KEY_LEN = 32
_FARMER_PK_LEN = 48
MEMO_POOL_CONTRACT = 32 + _FARMER_PK_LEN + _SECRET_KEY_LEN  # 112
MEMO_POOL_PUBLIC_KEY = 48 + _FARMER_PK_LEN + _SECRET_KEY_LEN  # 128

_MIN_K, _MAX_K = 15, 50
_BLADEBIT_COMPRESSED = 1
_POS2_VERSION = 1  # the only version chia_rs released (pos2-chip: 0 invalid, 2 compressed, 3 with x values)


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
    layout: str | None = None  # v2 only: "pos2-fixed-memo" | "pos2-indexed" | "PoS2"
    chunk_offsets: tuple[int, ...] = ()  # pos2 chunk index: the offsets read (0 until the plot is finished)
    chunk_count: int | None = None  # pos2 chunk index: how many chunks the index lists
    plot_index: int | None = None  # pos2-indexed only
    compression_level: int | None = None  # bladebit only
    strength: int | None = None  # v2 only
    group_size: int | None = None  # v2 only
    meta_group: int | None = None  # v2 only
    body_length: int | None = None  # PoS2: body before the trailing index; pos2: fragments after their count
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
    if data.startswith(POS2_MAGIC):
        return _parse_pos2(data)
    return None


class _Reader:
    """Bounds-checked cursor: any read past the end raises NotAPlot (a truncated header)."""

    def __init__(self, data: bytes, offset: int, fmt: str) -> None:
        self.data = data
        self._data = memoryview(data)
        self.pos = offset
        self.format = fmt
        self.k: int | None = None  # set once the header has identified itself

    def require(self, end: int) -> None:
        if end > len(self._data):
            message = f"header cut short: needs {end} bytes, has {len(self._data)}"
            if self.k is None:
                raise NotAPlot(message)
            raise TruncatedHeader(message, self.format, self.k)

    def take(self, n: int) -> bytes:
        end = self.pos + n
        self.require(end)
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
        layout="PoS2",
        strength=strength,
        group_size=group_size,
        meta_group=meta_group,
        body_length=body_length,
    )


def _chunk_index(data: bytes, pos: int, k: int) -> tuple[int, tuple[int, ...]] | None:
    """(N, the offsets present in `data`) of a chunk index at `pos`, or None if there is none there.

    A plot of size k has 2^(k-16) chunks (pos2-chip: 2k-bit fragments, 2^(k+16) per chunk) but about
    0.78 * 2^k fragments, so a count up to 2^(k-8) is an index and not a fragment vector's count. Its
    offsets are all zero (not yet written) or start where the index ends."""
    if len(data) < pos + 16:
        return None
    count, first = struct.unpack_from("<QQ", data, pos)
    if not 0 < count <= 2 ** max(k - 8, 0) or first not in (0, pos + 8 + 8 * count):
        return None
    present = min(count, (len(data) - pos - 8) // 8)
    offsets = struct.unpack_from(f"<{present}Q", data, pos + 8)
    return None if first == 0 and any(offsets) else (count, offsets)


def _parse_pos2(data: bytes) -> PlotHeader:
    r = _Reader(data, len(POS2_MAGIC), "v2")
    (version,) = r.unpack("B")
    if version != _POS2_VERSION:
        raise NotAPlot(f"pos2 header version {version} is not {_POS2_VERSION}")
    plot_id = r.take(32).hex()
    k = _check_k(r)
    (strength,) = r.unpack("B")
    fields = _pos2_indexed(r) or _pos2_fixed_memo(r)
    return PlotHeader(format="v2", k=k, plot_id=plot_id, strength=strength, **fields)


def _pos2_indexed(r: _Reader) -> dict[str, Any] | None:
    """The chia_rs 0.37-0.52 fields after strength, or None if the bytes there are not that layout. Cut
    short before its chunk index, the header cannot tell its layout: TruncatedHeader (it is a plot cut short
    either way)."""
    data, start = r.data, r.pos
    if len(data) < start + 4 or data[start + 3] not in (MEMO_POOL_CONTRACT, MEMO_POOL_PUBLIC_KEY):
        return None
    plot_index, meta_group, memo_len = struct.unpack_from("<HBB", data, start)
    memo_end = start + 4 + memo_len
    r.require(memo_end + 16)
    index = _chunk_index(data, memo_end, r.k or 0)
    if index is None:
        return None
    memo_type, pool_key, farmer = _memo_fields(data[start + 4 : memo_end])
    return {
        "layout": "pos2-indexed",
        "memo_type": memo_type,
        "pool_key": pool_key,
        "farmer_public_key": farmer,
        "header_size": memo_end,
        "plot_index": plot_index,
        "meta_group": meta_group,
        "chunk_count": index[0],
        "chunk_offsets": index[1],
    }


def _pos2_fixed_memo(r: _Reader) -> dict[str, Any]:
    """The chia_rs 0.31-0.36 fields after strength: 112-byte memo, then a chunk index or a fragment vector."""
    memo_type, pool_key, farmer = _memo_fields(r.take(MEMO_POOL_CONTRACT))
    fields: dict[str, Any] = {
        "layout": "pos2-fixed-memo",
        "memo_type": memo_type,
        "pool_key": pool_key,
        "farmer_public_key": farmer,
        "header_size": r.pos,
    }
    index = _chunk_index(r.data, r.pos, r.k or 0)
    if index is not None:
        return {**fields, "chunk_count": index[0], "chunk_offsets": index[1]}
    (fragments,) = r.unpack("<Q")
    return {**fields, "header_size": r.pos, "body_length": 8 * fragments}
