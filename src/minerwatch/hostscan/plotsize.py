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
    """(complete, reason). Plotters fill the table pointers (or v2 body) only when the plot is finished."""
    if header.format == "v2":
        body_end = header.header_size + (header.body_length or 0)
        if header.body_length == 0:
            return False, "body length is zero"
        if file_size <= body_end:
            return False, f"file ends at {file_size}, before the body end {body_end} and trailing index"
        return True, "body and trailing index present"
    pointers = header.table_pointers
    empty = sum(1 for p in pointers if p == 0)
    if empty:
        return False, f"{empty} of 10 table pointers empty (plotting unfinished or interrupted)"
    if list(pointers) != sorted(pointers):
        return False, "table pointers out of order"
    if pointers[-1] >= file_size:
        return False, f"last table starts at {pointers[-1]}, past the end of the file ({file_size})"
    return True, "all 10 table pointers filled and inside the file"
