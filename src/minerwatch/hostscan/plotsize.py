"""Expected plot sizes and completeness: a whole plot, or one cut short or still being written?"""

from __future__ import annotations

from minerwatch.hostscan.plotheader import PlotHeader

# Chia's space estimate for a v1 plot: ((2k + 1) * 2^(k-1)) * 0.762 bytes (chia-blockchain
# consensus/pos_quality.py and UI_ACTUAL_SPACE_CONSTANT_FACTOR); within 1% of real chiapos output.
_V1_FACTOR = 0.762

# Bladebit compressed k32 sizes in GiB per compression level (Chia's compressed-plot documentation);
# scaled by 2^(k-32) for other k. Levels without a published size give no expectation.
_BLADEBIT_K32_GIB = {1: 87.5, 2: 86.0, 3: 84.4, 4: 82.8, 5: 81.2, 6: 79.6, 7: 78.0}


def expected_size(header: PlotHeader) -> int | None:
    """Bytes a finished plot of this k and format should take, or None where no formula is published."""
    if header.format == "v1":
        return int((2 * header.k + 1) * 2 ** (header.k - 1) * _V1_FACTOR)
    if header.format == "bladebit-compressed":
        if header.compression_level == 0:
            return int((2 * header.k + 1) * 2 ** (header.k - 1) * _V1_FACTOR)
        gib = _BLADEBIT_K32_GIB.get(header.compression_level or 0)
        return None if gib is None else int(gib * 2**30 * 2.0 ** (header.k - 32))
    return None  # v2: size depends on strength and grouping; chia_rs publishes no file-size formula


def completeness(header: PlotHeader, file_size: int) -> tuple[bool, str]:
    """(complete, reason). Plotters fill the table pointers, chunk offsets (pos2) or body length (PoS2) only
    when the plot is finished; a pos2 fragment vector is written in one go, so only its end can be checked."""
    if header.chunk_count is not None:
        count = header.chunk_count
        noun = "chunk offsets" if len(header.chunk_offsets) == count else f"chunk offsets read (of {count})"
        return _pointers_complete(header.chunk_offsets, file_size, noun)
    if header.format == "v2":
        return _body_complete(header, file_size)
    return _pointers_complete(header.table_pointers, file_size, "table pointers")


def _pointers_complete(pointers: tuple[int, ...], file_size: int, noun: str) -> tuple[bool, str]:
    empty = sum(1 for p in pointers if p == 0)
    if empty:
        return False, f"{empty} of {len(pointers)} {noun} empty (plotting unfinished or interrupted)"
    if list(pointers) != sorted(pointers):
        return False, f"{noun} out of order"
    if pointers[-1] >= file_size:
        return False, f"{noun}: the last is {pointers[-1]}, past the end of the file ({file_size})"
    return True, f"all {len(pointers)} {noun} filled and inside the file"


def _body_complete(header: PlotHeader, file_size: int) -> tuple[bool, str]:
    body_end = header.header_size + (header.body_length or 0)
    what = "the body end and trailing index" if header.layout == "PoS2" else "the end of its fragment vector"
    if header.body_length == 0:
        return False, "body length is zero"
    if file_size <= body_end:
        return False, f"file ends at {file_size}, before {what} ({body_end})"
    return True, "body and trailing index present" if header.layout == "PoS2" else "fragment vector present"
