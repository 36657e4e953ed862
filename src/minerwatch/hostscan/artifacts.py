"""Names that betray plotting and farming: plotter temp files, plotter and farmer binaries, Chia's config.

Plots themselves are found by content (plotheader); these are the artefacts around them whose content is not
distinctive, so their names are the evidence. Patterns come from the plotters' own sources:
chiapos (``x.plot.2.tmp``, ``x.plot.p1.t3.sort_bucket_007.tmp``, ``x.plot.table1.tmp``), bladebit
(final name + ``.tmp``), madMAx (``plot-k32-....plot.tmp``, ``*.p1.t1.sort_bucket_*.tmp``).
"""

from __future__ import annotations

import re

_TEMP_PLOT = re.compile(
    r"""(?x)
    \.plot2?\.tmp$                             # bladebit / madMAx final file being written
    | \.plot\.2\.tmp$                          # chiapos phase 3-4 final file
    | \.plot\.(?:p\d+s?\.)?t\d\.sort_bucket_\d+\.tmp$  # chiapos sort buckets
    | \.plot\.(?:table\d|sort)\.tmp$           # chiapos phase 1 tables
    | ^plot-k\d+-.*\.tmp$                      # madMAx temp files keep the plot name prefix
    """
)

# Executable names of farming and plotting software: (file name, what it is).
BINARIES: dict[str, str] = {
    "chia": "chia (farmer/harvester/plotter CLI)",
    "chia.exe": "chia (farmer/harvester/plotter CLI)",
    "bladebit": "bladebit plotter",
    "bladebit_cuda": "bladebit GPU plotter",
    "bladebit.exe": "bladebit plotter",
    "chia_plot": "madMAx plotter",
    "chia_plot_k34": "madMAx plotter",
    "cuda_plot_k32": "madMAx GPU plotter",
    "ProofOfSpace": "chiapos plotter",
}

CONFIG_NAME = "config.yaml"
KEYRING_NAME = "keyring.yaml"


def temp_plot_kind(name: str) -> bool:
    """True for a plotter's temporary file name."""
    return _TEMP_PLOT.search(name) is not None


def plotter_for_temp(name: str) -> str:
    """Best guess of the plotter that left a temp file, from its name alone."""
    if name.startswith("plot-k") and ".sort_bucket_" in name:
        return "madmax"
    if ".sort_bucket_" in name or ".table" in name or name.endswith((".plot.2.tmp", ".plot.sort.tmp")):
        return "chiapos"
    return "bladebit/madmax"


def is_chia_config(path_parts: tuple[str, ...]) -> bool:
    """``.../.chia/<network>/config/config.yaml`` (the layout every Chia install uses)."""
    return (
        len(path_parts) >= 4
        and path_parts[-1] == CONFIG_NAME
        and path_parts[-2] == "config"
        and path_parts[-4] == ".chia"
    )


def is_chia_keyring(path_parts: tuple[str, ...]) -> bool:
    """``.../.chia_keys/keyring.yaml``: the encrypted key store. Only its presence is reported."""
    return len(path_parts) >= 2 and path_parts[-1] == KEYRING_NAME and path_parts[-2] == ".chia_keys"
