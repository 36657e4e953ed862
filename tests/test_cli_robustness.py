"""The command line on hostile paths, broken outputs and bad options: one line on stderr and exit 2 (never a
traceback, never a status that looks like a finding), and text from captures or disks made harmless."""

from __future__ import annotations

import dataclasses
import gzip
import os
import random
import shutil
import stat
import struct
import subprocess
import sys
import tempfile
from pathlib import Path

import orjson
import pytest

from minerwatch.capture.sample import _xmrig_session
from minerwatch.capture.writer import PcapWriter
from minerwatch.cli import analyze, main, scan_disk

ESC = "\x1b"
# Closes an unopened Rich tag, clears the screen, opens a tag Rich would swallow. In a path, "[" is a
# directory: hostile() makes it.
HOSTILE = "[/x]" + ESC + "[2J[blink]"


def hostile(directory: Path, name: str) -> Path:
    (directory / "[").mkdir(exist_ok=True)
    return directory / (HOSTILE + name)


def run_cli(*args: str, **options) -> subprocess.CompletedProcess:
    options = {"stdout": subprocess.PIPE, "stderr": subprocess.PIPE, **options}
    return subprocess.run(
        [sys.executable, "-m", "minerwatch", *args],
        text=True,
        timeout=120,
        errors="surrogateescape",
        **options,
    )


def one_line(result: subprocess.CompletedProcess | str, *expected: str) -> str:
    """The single stderr line of a failed command, which says each of `expected`."""
    err = result if isinstance(result, str) else result.stderr
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert "Traceback" not in err and ESC not in err
    for text in expected:
        assert text in lines[0], err
    return lines[0]


@pytest.fixture(scope="module")
def sample(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("sample") / "sample.pcap"
    assert main.main(["sample", str(path)]) == 0
    return path


# ---- hostile paths ----------------------------------------------------------------------------------------


def test_a_name_too_long_is_one_line_and_exit_2(tmp_path):
    result = run_cli("analyze", str(tmp_path / ("a" * 300) / "x.pcap"), "--no-progress")
    assert result.returncode == 2 and "File name too long" in result.stdout
    assert "Traceback" not in result.stderr


@pytest.mark.skipif(os.geteuid() != 0 or not shutil.which("setpriv"), reason="needs root and setpriv")
def test_a_capture_in_a_directory_the_user_cannot_search(sample):
    """Run as `nobody` (root may search every directory) against a directory only root may enter."""
    top = Path(tempfile.mkdtemp())
    try:
        top.chmod(0o755)
        locked = top / "locked"
        locked.mkdir(mode=0o700)
        shutil.copy(sample, locked / "s.pcap")
        extract = top / "extract"
        extract.mkdir(mode=0o755)
        nobody = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"]
        env = {**os.environ, "HOME": str(top), "MINERWATCH_CACHE_DIR": str(top / "cache")}
        command = [
            *nobody,
            sys.executable,
            "-m",
            "minerwatch",
            "analyze",
            "--no-progress",
            "--no-intel",
            "--no-store",
        ]
        result = subprocess.run(
            [*command, str(locked / "s.pcap")], capture_output=True, text=True, env=env, timeout=120
        )
        assert result.returncode == 2 and "s.pcap: cannot read: Permission denied" in result.stdout
        assert "Traceback" not in result.stderr
        unwritable = subprocess.run(
            [*command, str(sample), "--extract-dir", str(extract)],
            capture_output=True,
            text=True,
            env=env,
            timeout=120,
        )
        assert unwritable.returncode == 2 and not unwritable.stdout  # refused before reading anything
        one_line(unwritable, "cannot store carved files in", "Permission denied")
    finally:
        shutil.rmtree(top)


def test_markup_and_escapes_in_a_capture_path_are_shown_not_obeyed(sample, tmp_path):
    evil = hostile(tmp_path, "evil.pcap")
    evil.write_bytes(sample.read_bytes()[:-7])  # truncated: its path appears in a warning
    result = run_cli("analyze", str(evil), str(hostile(tmp_path, "missing.pcap")), "--no-progress")
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr and ESC not in result.stdout
    assert "[/x]\\x1b[2J[blink]evil.pcap: capture ends inside a record" in result.stdout
    assert "[/x]\\x1b[2J[blink]missing.pcap: no such file" in result.stdout
    output = run_cli("analyze", str(sample), "-o", str(hostile(tmp_path, "/events.jsonl")))
    one_line(output, "cannot write events to", "[/x]\\x1b[2J[blink]")


def test_markup_and_escapes_in_traffic_are_shown_not_obeyed(tmp_path):
    """A miner's login and agent are chosen by whoever runs the miner: they reach the summary as text."""
    wallet = HOSTILE + "4" * 95
    agent = ESC + "]0;pwned\x07[/]XMRig \u202eexe.gnp"
    path = tmp_path / "hostile.pcap"
    with path.open("wb") as out:
        PcapWriter(out).write_all(_xmrig_session(random.Random(1), wallet, agent).packets)
    result = run_cli("analyze", str(path), "--no-progress")
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr and ESC not in result.stdout and "\u202e" not in result.stdout
    assert "[/x]\\x1b[2J[blink]" in result.stdout
    assert "\\x1b]0;pwned\\x07[/]XMRig" in result.stdout and "\\u202eexe.gnp" in result.stdout


# ---- inputs that are streams, or broken -------------------------------------------------------------------


@pytest.mark.parametrize("packed", [False, True])
def test_standard_input_is_a_capture(sample, packed):
    data = sample.read_bytes()
    result = subprocess.run(
        [sys.executable, "-m", "minerwatch", "analyze", "-", "--no-progress"],
        input=gzip.compress(data) if packed else data,
        capture_output=True,
        timeout=120,
    )
    assert result.returncode == 1, result.stderr
    assert b"10.1.1.20" in result.stdout and b"1 file(s) read" in result.stdout


def test_a_capture_unreadable_past_its_start_is_an_input_error(sample, tmp_path):
    data = bytearray(sample.read_bytes())
    struct.pack_into("<I", data, 24 + 8, 0x7FFFFFF0)  # the first record's captured length
    broken = tmp_path / "broken.pcap"
    broken.write_bytes(bytes(data))
    result = run_cli("analyze", str(broken), "--no-progress")
    assert result.returncode == 2 and "No mining found" in result.stdout
    assert "broken.pcap: no packet could be read: corrupt record header" in result.stdout


# ---- outputs that cannot be written -----------------------------------------------------------------------


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs /dev/full")
@pytest.mark.parametrize(
    ("args", "stdout", "message"),
    [
        (["-o", "/dev/full"], subprocess.DEVNULL, "cannot write events to /dev/full: No space left"),
        (["--json"], "/dev/full", "cannot write events to standard output: No space left"),
        ([], "/dev/full", "cannot write the summary: No space left"),
    ],
)
def test_a_full_device_is_an_output_error(sample, args, stdout, message):
    with open(os.devnull if stdout is subprocess.DEVNULL else stdout, "w") as out:
        result = run_cli("analyze", str(sample), "--no-progress", *args, stdout=out)
    assert result.returncode == 2
    one_line(result, message)


def test_a_closed_or_broken_standard_output_is_an_output_error(sample):
    closed = run_cli("analyze", str(sample), "--no-progress", stdout=None, preexec_fn=lambda: os.close(1))
    assert closed.returncode == 2
    one_line(closed, "standard output is closed")
    proc = subprocess.Popen(
        [sys.executable, "-m", "minerwatch", "analyze", str(sample), "--json", "--no-progress"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    proc.stdout.close()  # the reader is gone before the first event
    err = proc.stderr.read()
    assert proc.wait(timeout=120) == 2
    one_line(err, "standard output: Broken pipe")


def test_an_extract_dir_that_is_a_file_stops_before_reading(sample, tmp_path):
    plain = tmp_path / "plain"
    plain.write_text("")
    for target in (plain, plain / "sub"):
        result = run_cli("analyze", str(sample), "--extract-dir", str(target), "--no-progress")
        assert result.returncode == 2 and not result.stdout  # no summary: nothing was read
        one_line(result, "cannot store carved files in", "ot a directory")


def test_a_write_failing_during_analysis_is_an_output_error(sample, tmp_path, monkeypatch, capsys):
    """Not "read failed" blamed on the capture, and not a half analysis that looks complete."""
    from minerwatch.detectors.files import store

    def full(fd, mode):
        os.close(fd)
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(store.os, "fdopen", full)
    assert main.main(["analyze", str(sample), "--extract-dir", str(tmp_path / "x"), "--no-progress"]) == 2
    captured = capsys.readouterr()
    assert not captured.out
    one_line(captured.err, f"cannot store carved files in {tmp_path / 'x'}: No space left on device")


def test_an_output_that_is_an_input_is_refused(sample, tmp_path):
    capture = tmp_path / "c.pcap"
    shutil.copy(sample, capture)
    (tmp_path / "link.pcap").symlink_to(capture)
    os.link(capture, tmp_path / "hard.pcap")
    before = capture.read_bytes()
    for output in (capture, tmp_path / "link.pcap", tmp_path / "hard.pcap", tmp_path / "." / "c.pcap"):
        result = run_cli("analyze", str(sample), str(capture), "-o", str(output), "--no-progress")
        assert result.returncode == 2 and not result.stdout
        one_line(result, f"output {output} is the input {capture}")
    with capture.open("rb") as stdin:
        piped = run_cli("analyze", "-", "-o", str(tmp_path / "hard.pcap"), stdin=stdin)
    one_line(piped, "is the input standard input")
    assert capture.read_bytes() == before


# ---- options ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("option", "value"),
    [
        ("--bruteforce-threshold", "0"),
        ("--max-flows", "99999999999999999999"),
        ("--max-flows", "-5"),
        ("--max-flows", "1.5"),
        ("--window", "nan"),
        ("--window", "inf"),
        ("--window", "0"),
        ("--peer-window", "-1"),
        ("--idle-timeout", "1e400"),
        ("--bruteforce-window", "x"),
        ("--min-submits", "0"),
        ("--stream-depth", "-1"),
        ("--scan-ports", "0"),
        ("--scan-window", "inf"),
        ("--retention", "nan"),
    ],
)
def test_bad_numbers_are_refused_by_the_parser(sample, option, value, capsys):
    with pytest.raises(SystemExit) as exit_:
        main.main(["analyze", str(sample), f"{option}={value}"])
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    assert f"argument {option}" in err and "Traceback" not in err


@pytest.mark.parametrize(
    ("option", "value"), [("--min-size", "-1"), ("--growth", "nan"), ("--growth", "1e9")]
)
def test_bad_numbers_are_refused_by_scan_disk_too(tmp_path, option, value, capsys):
    with pytest.raises(SystemExit) as exit_:
        main.main(["scan-disk", str(tmp_path), f"{option}={value}"])
    assert exit_.value.code == 2 and f"argument {option}" in capsys.readouterr().err


def test_an_unexpected_exception_is_an_internal_error_exit_2(sample, monkeypatch, capsys):
    def broken(args):
        raise RuntimeError("boom \x1b[2J")

    monkeypatch.setattr(analyze, "run", broken)
    assert main.main(["analyze", str(sample)]) == 2
    one_line(capsys.readouterr().err, "minerwatch: internal error: RuntimeError: boom \\x1b[2J")
    assert main.main(["--debug", "analyze", str(sample)]) == 2
    err = capsys.readouterr().err
    assert "Traceback" in err and err.rstrip().endswith("(--debug shows where)")


# ---- scan-disk --------------------------------------------------------------------------------------------


def _plotter(directory: Path) -> Path:
    """A file scan-disk reports whatever its contents: an executable named like a plotter."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / "bladebit"
    path.write_bytes(b"\x7fELF" + bytes(100))
    path.chmod(0o755)
    return path


def test_scan_disk_names_that_are_not_utf8_or_hostile(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "400")  # the table does not fold the path
    root = os.fsencode(tmp_path)
    weird = Path(os.fsdecode(root + b"/\xff" + os.fsencode(HOSTILE)))
    _plotter(weird)
    out = tmp_path / "events.jsonl"
    assert main.main(["scan-disk", str(weird), "-o", str(out), "--json", "--no-progress"]) == 1
    captured = capsys.readouterr()
    shown = f"{tmp_path}/\\xff[/x]\\x1b[2J[blink]/bladebit"
    assert shown in captured.err and ESC not in captured.err  # the table, on stderr with --json
    for text in (out.read_bytes(), captured.out.encode()):
        (event,) = [orjson.loads(line) for line in text.splitlines()]
        assert event["diskmining"]["path"] == f"{tmp_path}/\\xff{HOSTILE}/bladebit"  # JSON escapes ESC
        assert bytes.fromhex(event["diskmining"]["path_hex"]) == root + b"/\xff" + os.fsencode(HOSTILE) + (
            b"/bladebit"
        )


def test_scan_disk_file_time_out_of_range(tmp_path, monkeypatch, capsys):
    """Some file systems keep times datetime cannot hold (this one may not: the walker is told)."""
    _plotter(tmp_path / "d")
    walk = scan_disk.walk
    monkeypatch.setattr(
        scan_disk, "walk", lambda *a, **k: (dataclasses.replace(e, mtime=1e13) for e in walk(*a, **k))
    )
    out = tmp_path / "events.jsonl"
    assert main.main(["scan-disk", str(tmp_path / "d"), "-o", str(out), "--no-progress"]) == 1
    (event,) = [orjson.loads(line) for line in out.read_bytes().splitlines()]
    assert event["timestamp"] == event["diskmining"]["mtime"] == "9999-12-31T23:59:59.999999Z"
    assert "bladebit" in capsys.readouterr().out


def test_scan_disk_refuses_an_output_that_is_a_scanned_file(tmp_path, capsys):
    plotter = _plotter(tmp_path)
    before = plotter.read_bytes()
    assert main.main(["scan-disk", str(plotter), "-o", str(plotter), "--no-progress"]) == 2
    one_line(capsys.readouterr().err, "is the input")
    assert plotter.read_bytes() == before and stat.S_IMODE(plotter.stat().st_mode) == 0o755


def test_rule_files_are_text_not_markup(tmp_path, capsys):
    """Rule files come from a disk too: a rule named with markup and escapes is listed as written."""
    (tmp_path / "mine.yml").write_text(
        'rules:\n  - {id: 9900042, name: "[/x]\\e[2J[blink]", stage: attempted_attack, protocol: tcp,\n'
        "     recommendation: r, match: {field: payload, contains: evil-bot}}\n"
    )
    assert main.main(["rules", "list", "--no-shipped", "--rules", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "[/x]\\x1b[2J[blink]" in out and ESC not in out
