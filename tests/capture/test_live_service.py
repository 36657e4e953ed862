"""The shipped systemd unit (contrib/systemd/minerwatch@.service): systemd accepts it, and `minerwatch live`
runs as an unprivileged user holding only the capabilities the unit grants (setpriv, in a network namespace
the test makes), and is refused in one line without them."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from live_replay import RECORDING, LiveRun, analyse_file, normalised, veth_namespace

UNIT = Path(__file__).parents[2] / "contrib/systemd/minerwatch@.service"
NOBODY = 65534


def unit_settings() -> dict[str, str]:
    settings = {}
    for line in UNIT.read_text().splitlines():
        if "=" in line and not line.startswith(("#", "[")):
            key, value = line.split("=", 1)
            settings[key] = value
    return settings


def test_systemd_accepts_the_unit(tmp_path):
    if shutil.which("systemd-analyze") is None:
        pytest.skip("needs systemd-analyze (Debian package systemd)")
    minerwatch = Path(shutil.which("minerwatch") or Path(sys.executable).parent / "minerwatch")
    unit = tmp_path / "minerwatch@eth1.service"
    unit.write_text(UNIT.read_text().replace("/usr/local/bin/minerwatch", str(minerwatch)))
    result = subprocess.run(["systemd-analyze", "verify", str(unit)], capture_output=True, text=True)
    assert result.returncode == 0 and not result.stderr.strip(), result.stderr


def test_the_unit_grants_capture_capabilities_and_nothing_else():
    settings = unit_settings()
    assert settings["AmbientCapabilities"] == settings["CapabilityBoundingSet"] == "CAP_NET_RAW"
    assert settings["NoNewPrivileges"] == "yes" and settings["DynamicUser"] == "yes"
    assert settings["ExecReload"] == "/bin/kill -HUP $MAINPID"
    assert settings["SuccessExitStatus"] == "1"  # "found" is a normal end for a sensor


def setpriv(capabilities: list[str]) -> tuple[str, ...]:
    """Run as nobody with exactly `capabilities` (ambient, so that they survive exec of the interpreter)."""
    caps = ",".join(["-all", *(f"+{c.removeprefix('CAP_').lower()}" for c in capabilities)])
    return (
        "setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups", f"--inh-caps={caps}",
        f"--ambient-caps={caps}", f"--bounding-set={caps}", "--",
    )  # fmt: skip


@pytest.fixture
def shared_dir() -> Iterator[Path]:
    """A directory nobody can write (pytest's tmp_path is private to root)."""
    path = Path(tempfile.mkdtemp(prefix="minerwatch-service-"))
    path.chmod(0o777)
    yield path
    shutil.rmtree(path)


@pytest.mark.parametrize(
    ("options", "promiscuity"),
    [([], 1), (["--capture", "libpcap"], 1), (["--no-promisc"], 0)],
    ids=["af-packet", "libpcap", "no-promisc"],
)
def test_live_runs_unprivileged_with_the_units_capabilities(shared_dir, options, promiscuity):
    if shutil.which("setpriv") is None:
        pytest.skip("needs setpriv (Debian package util-linux)")
    caps = unit_settings()["AmbientCapabilities"].split()
    out = shared_dir / "events"
    out.mkdir()
    out.chmod(0o777)
    args = ["--bpf", "tcp port 3333", "--no-intel", "-o", str(out), *options]
    with veth_namespace("mw-caps") as ns:
        live = LiveRun(ns, shared_dir, args, setpriv(caps))
        link = subprocess.run(["ip", "-d", "-n", ns, "link", "show", "mwb"], capture_output=True, text=True)
        # The promiscuous membership takes effect with CAP_NET_RAW alone.
        assert f"promiscuity {promiscuity} " in link.stdout, link.stdout
        live.replay(RECORDING)
        assert live.stop() == 1, live.stderr
    files = sorted(out.iterdir())
    assert files and all(f.stat().st_uid == NOBODY for f in files)
    events = [json.loads(line) for f in files for line in f.read_text().splitlines()]
    assert [normalised(e) for e in events[:-1]] == [normalised(e) for e in analyse_file()[:-1]]


@pytest.mark.parametrize("reader", ["af_packet", "libpcap"])
def test_without_cap_net_raw_live_is_refused_in_one_line(reader):
    if shutil.which("setpriv") is None:
        pytest.skip("needs setpriv (Debian package util-linux)")
    with veth_namespace("mw-nocaps") as ns:
        command = ["ip", "netns", "exec", ns, *setpriv([]), sys.executable, "-m", "minerwatch", "live"]
        options = ["-i", "mwb", "--no-intel", "--capture", reader]
        result = subprocess.run([*command, *options], capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and "capturing needs CAP_NET_RAW" in result.stderr
