"""Walking and classifying trees: renamed plots, interrupted plotting, config, look-alikes, loops, errors."""

from __future__ import annotations

import os
import shutil
import threading
import time
from pathlib import Path

import pytest

from minerwatch.hostscan.scanner import Scanner, ScanOptions, ScanStats
from minerwatch.hostscan.walker import walk

from .conftest import SECRET, bladebit_header

CONFIG = """\
selected_network: mainnet
harvester:
  plot_directories:
  - /mnt/farm1
  - /mnt/farm2
farmer:
  xch_target_address: xch1farmeraddress
  pool_list:
  - launcher_id: '0xaaaa'
    pool_url: https://pool.example.net
pool:
  xch_target_address: xch1pooladdress
"""


def scan(roots: list[Path], **options) -> tuple[list, ScanStats]:
    stats = ScanStats()
    files = walk([str(r) for r in roots], stats, follow_symlinks=options.get("follow_symlinks", False))
    return list(Scanner(ScanOptions(**options), stats).scan(files)), stats


def by_path(findings) -> dict[str, object]:
    return {os.path.basename(f.path): f for f in findings}


@pytest.fixture
def host(tmp_path: Path, plots) -> Path:
    """A disk with plots under misleading names, an interrupted run, config, a binary and decoys."""
    shutil.copy(plots.v1, tmp_path / "backup.dat")  # renamed v1 plot
    shutil.copy(plots.v2, tmp_path / "noextension")  # extension-less v2 plot
    (tmp_path / "cut.plot").write_bytes(plots.v1.read_bytes()[:150])  # header cut short
    (tmp_path / "bb.plot").write_bytes(bladebit_header(k=32, level=5))
    shutil.copytree(plots.interrupted_dir, tmp_path / "tmpdir")
    cfg = tmp_path / "home" / ".chia" / "mainnet" / "config"
    cfg.mkdir(parents=True)
    (cfg / "config.yaml").write_text(CONFIG)
    (tmp_path / "home" / ".chia_keys").mkdir()
    (tmp_path / "home" / ".chia_keys" / "keyring.yaml").write_text("data: encrypted\n")
    bin_dir = tmp_path / "usr" / "bin"
    bin_dir.mkdir(parents=True)
    (bin_dir / "bladebit").write_bytes(b"\x7fELF" + bytes(100))
    (bin_dir / "bladebit").chmod(0o755)
    # Look-alikes and ordinary files: none may be reported.
    (tmp_path / "essay.txt").write_bytes(b"Proof of Space Plot is a phrase. " * 20_000)
    (tmp_path / "story.plot").write_bytes(b"PLOT: the butler did it" * 10)
    (tmp_path / "config.yaml").write_text(CONFIG)  # not under .chia/<net>/config
    (tmp_path / "bladebit").write_bytes(b"not executable")
    for i in range(50):
        (tmp_path / f"small{i}.bin").write_bytes(b"Proof of Space Plot" + bytes(40))
    return tmp_path


def test_finds_every_kind_of_evidence(host: Path) -> None:
    findings, stats = scan([host])
    found = by_path(findings)
    assert found["backup.dat"].kind == "plot" and found["backup.dat"].details["format"] == "v1"
    assert found["backup.dat"].details["complete"] is True
    assert found["noextension"].details["format"] == "v2"
    assert (
        found["cut.plot"].details["complete"] is False and "truncated" in found["cut.plot"].details["reason"]
    )
    assert found["bb.plot"].details["compression_level"] == 5
    final_tmp = found["x.plot.2.tmp"]
    assert final_tmp.kind == "plot_in_progress" and final_tmp.details["plotter"] == "chiapos"
    assert final_tmp.details["complete"] is False and "table pointers empty" in final_tmp.details["reason"]
    assert any(".sort_bucket_" in name for name in found)
    config = found["config.yaml"]
    assert config.kind == "farming_config" and ".chia" in config.path
    assert config.details["plot_directories"] == ["/mnt/farm1", "/mnt/farm2"]
    assert config.details["pool_urls"] == ["https://pool.example.net"]
    assert found["keyring.yaml"].kind == "chia_keyring"
    assert found["bladebit"].kind == "plotter_binary" and "usr" in found["bladebit"].path
    for decoy in ("essay.txt", "story.plot", "small0.bin"):
        assert decoy not in found
    assert stats.lookalikes >= 2 and stats.skipped_small >= 50
    assert SECRET.hex() not in repr(findings)


def test_small_files_are_not_opened(host: Path) -> None:
    _, stats = scan([host])
    _, stats_all = scan([host], min_size=0)
    assert stats_all.headers_read - stats.headers_read >= 50


def test_symlink_loops_and_symlinks(tmp_path: Path, plots) -> None:
    (tmp_path / "a").mkdir()
    os.symlink(tmp_path, tmp_path / "a" / "loop")
    os.symlink(plots.v1, tmp_path / "a" / "link.plot")
    findings, stats = scan([tmp_path])
    assert findings == [] and stats.symlinks_skipped == 2
    findings, stats = scan([tmp_path], follow_symlinks=True)
    assert [os.path.basename(f.path) for f in findings] == ["link.plot"]
    assert stats.loops_avoided == 1


def test_unreadable_directories_are_counted(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    locked = tmp_path / "locked"
    locked.mkdir()
    real_scandir = os.scandir

    def scandir(path):
        if os.fspath(path) == str(locked):
            raise PermissionError(13, "Permission denied")
        return real_scandir(path)

    monkeypatch.setattr(os, "scandir", scandir)
    findings, stats = scan([tmp_path])
    assert findings == [] and stats.permission_denied == 1 and "locked" in stats.error_samples[0]


def test_fifo_is_never_opened(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "pipe.plot")
    findings, stats = scan([tmp_path], min_size=0)
    assert findings == [] and stats.files == 0


def test_growth_of_a_running_plot(tmp_path: Path) -> None:
    tmp = tmp_path / "plot-k32-2024.plot.tmp"
    tmp.write_bytes(bytes(1000))

    def grow() -> None:
        time.sleep(0.05)
        with tmp.open("ab") as fh:
            fh.write(bytes(5000))

    writer = threading.Thread(target=grow)
    writer.start()
    findings, _ = scan([tmp_path], growth_interval=0.5)
    writer.join()
    (finding,) = findings
    assert finding.kind == "plot_in_progress" and finding.details["growth_bytes_per_s"] == 10000.0


def test_broken_config_is_an_error_count(tmp_path: Path) -> None:
    cfg = tmp_path / ".chia" / "mainnet" / "config"
    cfg.mkdir(parents=True)
    (cfg / "config.yaml").write_text("harvester: [unclosed\n")
    findings, stats = scan([tmp_path])
    assert findings == [] and stats.other_errors == 1


def test_read_error_part_way_through_a_listing_is_counted(tmp_path: Path, plots, monkeypatch) -> None:
    """Entries before the error are still scanned; the error is one count, not a traceback."""
    shutil.copy(plots.v1, tmp_path / "a.plot")
    (tmp_path / "b").write_bytes(b"x")
    real_scandir = os.scandir

    class Failing:
        def __init__(self, path) -> None:
            self._it = real_scandir(path)
            self._entries = sorted(self._it, key=lambda e: e.name)[:1]

        def __enter__(self):
            return self

        def __exit__(self, *exc) -> None:
            self._it.close()

        def __iter__(self):
            return self

        def __next__(self):
            if self._entries:
                return self._entries.pop()
            raise OSError(5, "Input/output error")

    monkeypatch.setattr(os, "scandir", Failing)
    findings, stats = scan([tmp_path])
    assert [os.path.basename(f.path) for f in findings] == ["a.plot"]
    assert stats.other_errors == 1 and "Input/output error" in stats.error_samples[0]


def test_plots_of_every_released_v2_layout_are_found(tmp_path: Path, release_plot) -> None:
    """Issue 14: `.plot2` files of chia_rs 0.31-0.52 (magic `pos2`) were not reported at all."""
    shutil.copy(release_plot.path, tmp_path / "renamed.bin")
    (finding,) = scan([tmp_path])[0]
    assert (finding.kind, finding.confidence) == ("plot", 0.95)
    details = finding.details
    assert (details["format"], details["layout"], details["k"]) == ("v2", release_plot.release.layout, 18)
    assert details["complete"] is True and details.get("plot_index") == release_plot.prover.get("plot_index")
    assert SECRET.hex() not in repr(finding)
