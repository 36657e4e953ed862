"""Real plots made at test time by Chia's own plotters (chiapos for v1, chia_rs for v2), kept small (k=18).

`chia plots create` refuses k < 25, but the library calls it makes accept k=18 with a small stripe size.
Bladebit's compressed format has no plotter on PyPI: its header is built from bladebit's PlotWriter layout.
Older chia_rs releases (the `pos2` v2 layouts) live in their own directories (installed by `make` from
tests/requirements-chia-rs-*.txt) and plot in a child process with that directory on PYTHONPATH.
"""

from __future__ import annotations

import json
import os
import struct
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

chiapos = pytest.importorskip("chiapos")
chia_rs = pytest.importorskip("chia_rs")

K = 18
POOL_CONTRACT = bytes([0xAB]) * 32
POOL_PK = bytes([0xCD]) * 48
FARMER_PK = bytes(range(48))
SECRET = bytes([0x5E]) * 32  # stands in for the plot's local master secret key: must never be printed
MEMO_CONTRACT = POOL_CONTRACT + FARMER_PK + SECRET
MEMO_POOL_PK = POOL_PK + FARMER_PK + SECRET
PLOT_ID = bytes(range(32))


@dataclass(frozen=True)
class Release:
    """An older chia_rs pinned in tests/requirements-chia-rs-<series>.txt, and the v2 layout it writes."""

    version: str
    series: str
    layout: str
    indexed: bool  # its create_v2_plot takes plot index, meta group (and testnet) and any memo length


RELEASES = (
    Release("0.35.2", "0.35", "pos2-fixed-memo", indexed=False),  # fragment vector body
    Release("0.36.1", "0.36", "pos2-fixed-memo", indexed=False),  # chunk index body
    Release("0.48.0", "0.48", "pos2-indexed", indexed=True),
)
PLOT_INDEX, META_GROUP = 7, 3


@dataclass(frozen=True)
class ReleasePlot:
    release: Release
    path: Path
    prover: dict  # what that release's own Prover reads back from the plot


_RELEASE_PLOTTER = """
import importlib.metadata, json, sys
import chia_rs
path, version, indexed, memo, k, plot_id, index, meta = sys.argv[1:]
if importlib.metadata.version("chia_rs") != version:
    sys.exit(f"chia_rs {importlib.metadata.version('chia_rs')} imported, not {version}")
memo, plot_id = bytes.fromhex(memo), bytes.fromhex(plot_id)
args = (int(index), int(meta), memo, True) if indexed == "1" else (memo,)
chia_rs.create_v2_plot(path, int(k), 2, plot_id, *args)
prover = chia_rs.Prover(path)
facts = {"k": prover.size(), "strength": prover.get_strength(), "plot_id": bytes(prover.plot_id()).hex(),
         "memo": bytes(prover.get_memo()).hex()}
if indexed == "1":
    facts.update(plot_index=prover.get_plot_index(), meta_group=prover.get_meta_group())
print(json.dumps(facts))
"""


@pytest.fixture(scope="session", params=RELEASES, ids=lambda r: f"chia_rs-{r.version}")
def release_plot(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> ReleasePlot:
    """A k=18 plot by an older chia_rs (pool public key memo where the release takes one)."""
    release: Release = request.param
    target = Path(sys.prefix) / f"requirements-chia-rs-{release.series}"
    if not (target / "chia_rs").is_dir():
        pytest.skip(
            f"chia_rs {release.version} is not installed in {target}: "
            f"`make` installs tests/requirements-chia-rs-{release.series}.txt there"
        )
    path = tmp_path_factory.mktemp(f"chia_rs-{release.version}") / "plot.plot2"
    memo = MEMO_POOL_PK if release.indexed else MEMO_CONTRACT
    args = [str(path), release.version, str(int(release.indexed)), memo.hex(), str(K), PLOT_ID.hex()]
    child = subprocess.run(
        [sys.executable, "-c", _RELEASE_PLOTTER, *args, str(PLOT_INDEX), str(META_GROUP)],
        env={**os.environ, "PYTHONPATH": str(target)},
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert child.returncode == 0, child.stderr
    return ReleasePlot(release, path, json.loads(child.stdout.splitlines()[-1]))


@dataclass(frozen=True)
class Plots:
    v1: Path
    v2: Path
    v2_pool_pk: Path
    interrupted_dir: Path


def _make_v1(directory: Path, name: str) -> Path:
    chiapos.DiskPlotter().create_plot_disk(
        str(directory),
        str(directory),
        str(directory),
        name,
        K,
        MEMO_CONTRACT,
        PLOT_ID,
        100,
        16,
        2000,
        1,
        False,
    )
    return directory / name


# The plotter runs in a child limited to 3 MB per file: it finishes phases 1-2, then writing the final
# x.plot.2.tmp fails and chiapos waits to retry; we kill it then. What is left is what a killed plotting
# run leaves: temp files and a final file whose header is written but whose table pointers are not all set.
_INTERRUPTED = """
import resource, sys, chiapos
resource.setrlimit(resource.RLIMIT_FSIZE, (3_000_000, 3_000_000))
chiapos.DiskPlotter().create_plot_disk(sys.argv[1], sys.argv[1], sys.argv[1], "x.plot", %d,
    bytes.fromhex(sys.argv[2]), bytes(32), 100, 16, 2000, 1, False)
"""


def _interrupted_run(directory: Path) -> Path:
    directory.mkdir()
    cmd = [sys.executable, "-u", "-c", _INTERRUPTED % K, str(directory), MEMO_CONTRACT.hex()]
    child = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        assert child.stdout is not None
        for line in child.stdout:
            if b"Only wrote" in line:
                break
    finally:
        child.kill()
        child.wait(timeout=30)
    return directory


@pytest.fixture(scope="session")
def plots(tmp_path_factory: pytest.TempPathFactory) -> Plots:
    root = tmp_path_factory.mktemp("plots")
    v1 = _make_v1(root, "v1.plot")
    v2 = root / "v2.plot2"
    chia_rs.create_v2_single_plot_group(str(v2), K, 2, PLOT_ID, 0, 0, MEMO_CONTRACT)
    v2_pk = root / "v2pk.plot2"
    chia_rs.create_v2_single_plot_group(str(v2_pk), 20, 3, PLOT_ID, 5, 1, MEMO_POOL_PK)
    return Plots(v1, v2, v2_pk, _interrupted_run(root / "interrupted"))


def bladebit_header(
    k: int = 32, level: int = 3, memo: bytes = MEMO_POOL_PK, pointers_set: bool = True
) -> bytes:
    """A bladebit v2 ("PLOT") header per bladebit's PlotWriter::BeginPlotInternal / CmdEndPlot."""
    pointers = [4096 + i * 1000 for i in range(10)] if pointers_set else [0] * 10
    flags = 1 if level else 0
    return (
        struct.pack("<II", 0x544F4C50, 2)
        + PLOT_ID
        + bytes([k])
        + struct.pack(">H", len(memo))
        + memo
        + struct.pack("<I", flags)
        + (bytes([level]) if level else b"")
        + struct.pack(">10Q", *pointers)
        + struct.pack("<10Q", *([1000] * 10))
    )
