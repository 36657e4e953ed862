"""The command line as an analyst uses it: exit codes, outputs, and clear one-line errors."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from minerwatch.capture.hostile import out_of_order_flows
from minerwatch.capture.writer import PcapWriter
from minerwatch.cli.main import main


def run_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "minerwatch", *args], capture_output=True, text=True, timeout=120
    )


@pytest.fixture(scope="module")
def sample(tmp_path_factory):
    path = tmp_path_factory.mktemp("sample") / "sample.pcap"
    assert main(["sample", str(path)]) == 0
    return path


def test_mining_found_exits_1_and_writes_events(sample, tmp_path):
    out = tmp_path / "events.jsonl"
    result = run_cli("analyze", str(sample), "-o", str(out), "--no-progress")
    assert result.returncode == 1, result.stderr
    events = [json.loads(line) for line in out.read_text().splitlines()]
    verdict_hosts = {e["src_ip"] for e in events if e["event_type"] == "verdict"}
    assert verdict_hosts == {"10.1.1.20", "10.1.1.21", "10.1.1.22"}
    assert "10.1.1.20" in result.stdout and "Mining verdicts" in result.stdout
    assert "Traceback" not in result.stderr


def test_analyze_without_report_or_nats_loads_neither_library(sample):
    """The NATS client with asyncio (which loads OpenSSL), and Jinja, serve --nats, `correlate` and the HTML
    report only: registering every subcommand's options must not import them, as together they added about
    7 MiB to every run's peak RSS."""
    script = (
        "import sys; from minerwatch.cli.main import main; "
        "main(['analyze', sys.argv[1], '-o', '/dev/null', '--no-progress', '--no-store', '--workers', '1']); "
        "print(sorted(m for m in ('asyncio', 'jinja2', 'msgspec', 'nats', 'ssl') if m in sys.modules))"
    )
    result = subprocess.run(
        [sys.executable, "-c", script, str(sample)], capture_output=True, text=True, timeout=120
    )
    assert result.stdout.splitlines()[-1] == "[]", result.stderr


def test_json_to_stdout_keeps_the_summary_on_stderr(sample):
    result = run_cli("analyze", str(sample), "--json")
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert lines and all("event_type" in e for e in lines)
    assert "Mining verdicts" in result.stderr


def test_nothing_found_exits_0(write_capture):
    from minerwatch.capture.writer import TcpConversation

    conversation = TcpConversation("10.0.0.1", 5555, "10.0.0.2", 80).open()
    conversation.send(True, b"GET / HTTP/1.1\r\nHost: x\r\n\r\n").close()
    result = run_cli("analyze", str(write_capture(conversation.packets)))
    assert result.returncode == 0 and "No mining found" in result.stdout


@pytest.mark.parametrize(
    ("target", "message"),
    [("missing.pcap", "no such file"), (".", "is a directory"), ("garbage.pcap", "not a pcap")],
)
def test_unreadable_inputs_are_one_line_and_exit_2(tmp_path, target, message):
    (tmp_path / "garbage.pcap").write_bytes(b"\x00" * 100)
    result = run_cli("analyze", str(tmp_path / target))
    assert result.returncode == 2
    assert message in result.stdout and "Traceback" not in result.stdout + result.stderr


def test_a_bad_input_does_not_stop_the_others(sample, tmp_path):
    result = run_cli("analyze", str(tmp_path / "missing.pcap"), str(sample))
    assert result.returncode == 2  # an input could not be read: said in the exit status
    assert "10.1.1.20" in result.stdout and "no such file" in result.stdout


def test_usage_errors_exit_2():
    assert run_cli("analyze").returncode == 2
    assert run_cli().returncode == 2
    assert run_cli("--help").returncode == 0


def test_a_subcommand_imports_its_own_module_only(sample):
    """Start-up is part of every run: `analyze` parses its options without the other commands' code, and
    imports Jinja2 only to write a page."""
    code = (
        "import sys; from minerwatch.cli.main import main; "
        f"code = main(['--debug', 'analyze', {str(sample)!r}, '-o', '/dev/null', '--no-progress']); "
        "print(code, *sorted(sys.modules))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    code, *modules = result.stdout.splitlines()[-1].split()
    assert code == "1", result.stderr
    assert "minerwatch.cli.analyze" in modules
    others = {"minerwatch.cli.ingest", "minerwatch.cli.correlate", "minerwatch.cli.live", "jinja2"}
    assert not others & {*modules}


def test_unwritable_output_is_a_clear_error(sample):
    result = run_cli("analyze", str(sample), "-o", "/nonexistent-dir/events.jsonl")
    assert result.returncode == 2 and "cannot write events" in result.stderr
    assert "Traceback" not in result.stderr


def test_passwords_are_masked_unless_asked(sample):
    masked = run_cli("analyze", str(sample), "--json").stdout
    shown = run_cli("analyze", str(sample), "--json", "--show-secrets").stdout
    assert '"password":"********"' in masked.replace(" ", "") and '"password":"x"' not in masked.replace(
        " ", ""
    )
    assert '"password":"x"' in shown.replace(" ", "")


def test_intel_alone_is_a_suspect_verdict_and_exits_1(write_capture):
    from minerwatch.capture.writer import dns_exchange

    path = write_capture(
        dns_exchange("10.0.0.5", "192.0.2.53", "pool.supportxmr.com", "198.51.100.7", 1e9, 1)
    )
    result = run_cli("analyze", str(path))
    assert result.returncode == 1
    assert "contacted-mining-infrastructure" in result.stdout and "supportxmr.com" in result.stdout


def test_detectors_can_be_chosen(sample):
    only_pools = run_cli("analyze", str(sample), "--json", "--detectors", "pool_protocols")
    kinds = {json.loads(line)["event_type"] for line in only_pools.stdout.splitlines()}
    assert "verdict" in kinds and not kinds & {"alert", "bruteforce", "file"}
    unknown = run_cli("analyze", str(sample), "--detectors", "pool_protocols,nonsense")
    assert unknown.returncode == 2 and "unknown detector(s): nonsense" in unknown.stderr


@pytest.mark.parametrize("value", ["0", "-5", "1.5", "lots", "2000000"])
def test_memory_caps_must_be_whole_mebibytes(sample, value):
    result = run_cli("analyze", str(sample), "--reassembly-memcap", value)
    assert result.returncode == 2 and "expected a whole number of MiB" in result.stderr.splitlines()[-1]


def test_the_memory_caps_report_what_they_dropped(tmp_path):
    path = tmp_path / "held.pcap"
    with path.open("wb") as out:
        PcapWriter(out).write_all(out_of_order_flows(3))  # about 3 MiB held behind holes
    result = run_cli("analyze", str(path), "--reassembly-memcap", "1", "--defrag-memcap", "1")
    assert result.returncode == 0, result.stderr
    assert "reassembly memcap gaps 2" in " ".join(result.stdout.split())
