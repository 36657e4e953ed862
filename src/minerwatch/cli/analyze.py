"""`minerwatch analyze CAPTURE...`: find mining in captures, print a summary, write events."""

from __future__ import annotations

import argparse
import os
import stat
import sys
from collections.abc import Callable
from contextlib import ExitStack
from functools import partial
from pathlib import Path

from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, DownloadColumn, Progress, TimeRemainingColumn, TransferSpeedColumn

from minerwatch.cli import bus
from minerwatch.cli.options import (
    add_disk_findings_option,
    add_event_options,
    add_store_options,
    check_disk_findings,
    chosen_detectors,
    chosen_store,
    duration,
    mebibytes,
    whole,
)
from minerwatch.cli.outputs import event_sinks, refuse_input_as_output
from minerwatch.cli.report import write_report
from minerwatch.correlate.incidents import IncidentPolicy
from minerwatch.correlate.verdicts import VerdictPolicy
from minerwatch.detectors.bruteforce import BruteForceSettings
from minerwatch.detectors.bruteforce.campaign import BruteForceConfig
from minerwatch.detectors.exploits import ExploitOptions
from minerwatch.detectors.files import FileOptions
from minerwatch.detectors.scan import ScanConfig
from minerwatch.errors import OutputError, UsageError
from minerwatch.output.console import FindingDigest, render_summary
from minerwatch.output.report import ReportBuilder
from minerwatch.output.terminal import visible
from minerwatch.pipeline import Analysis, AnalysisOptions, AnalysisResult, EventSink
from minerwatch.scale.archive import analyze_archive
from minerwatch.scale.run import MAX_WORKERS, analyze_files, default_workers, splittable


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "analyze",
        help="analyse pcap/pcapng captures (gzip too) for mining",
        description="Analyse captures for cryptocurrency mining: pool protocols, staged verdicts per host.",
        epilog="Exit status: 0 nothing found, 1 an incident, mining, alerts or brute force found, 2 usage "
        "error, an unreadable input, an output that could not be written, or an internal error.",
    )
    p.add_argument(
        "captures",
        nargs="+",
        type=Path,
        metavar="CAPTURE",
        help="pcap or pcapng file, may be gzipped; a FIFO or pipe too, and '-' reads standard input",
    )
    add_event_options(p)
    # Every default below is read from the options dataclasses, where it is written once.
    analysis, policy, campaigns, scans = AnalysisOptions(), VerdictPolicy(), BruteForceConfig(), ScanConfig()
    p.add_argument(
        "--window",
        type=duration(),
        default=policy.window,
        help="stage-1 window in seconds (default %(default)g)",
    )
    p.add_argument(
        "--min-submits",
        type=whole(1, 1_000_000),
        default=policy.min_submits,
        help="shares needed for stage 2 (default %(default)s)",
    )
    p.add_argument(
        "--peer-window",
        type=duration(),
        default=policy.peer_window,
        help="hosts reaching a confirmed pool's address within this many seconds of its activity are"
        " reported as suspects (default %(default)g)",
    )
    p.add_argument(
        "--stream-depth",
        type=whole(1, 1 << 30),
        default=analysis.stream_depth,
        help="bytes inspected in a flow before it is bypassed if no pool protocol is seen"
        " (default %(default)s)",
    )
    p.add_argument(
        "--idle-timeout",
        type=duration(),
        default=analysis.idle_timeout,
        help="flow idle timeout, seconds (default %(default)g)",
    )
    p.add_argument(
        "--max-flows",
        type=whole(1, 10_000_000),
        default=analysis.max_flows,
        help="flow table capacity (default %(default)s)",
    )
    for flag, default, what in (
        ("--reassembly-memcap", analysis.reassembly_memcap, "out-of-order TCP data all flows together may"
         " hold while a hole waits to be filled; past it holes are given up"),
        ("--defrag-memcap", analysis.defrag_memcap, "unfinished IP datagrams held at once; past it the"
         " oldest are dropped"),
    ):  # fmt: skip
        p.add_argument(
            flag, type=mebibytes, default=default, metavar="MIB",
            help=f"MiB of {what}, counted (default {default >> 20})",
        )  # fmt: skip
    p.add_argument(
        "--bruteforce-threshold",
        type=whole(1, 100_000),
        default=campaigns.threshold,
        metavar="N",
        help="failed logins from one attacker to one service that make a brute-force campaign"
        " (default %(default)s)",
    )
    p.add_argument(
        "--bruteforce-window",
        type=duration(),
        default=campaigns.window,
        metavar="SECONDS",
        help="... within this many seconds (default %(default)g)",
    )
    p.add_argument(
        "--scan-ports",
        type=whole(1, 65_536),
        default=scans.ports,
        metavar="N",
        help="distinct ports of one host probed by one source that make a port scan (default %(default)s)",
    )
    p.add_argument(
        "--scan-hosts",
        type=whole(1, 1 << 24),
        default=scans.hosts,
        metavar="N",
        help="distinct hosts probed on one port by one source that make a sweep (default %(default)s)",
    )
    p.add_argument(
        "--scan-window",
        type=duration(),
        default=scans.window,
        metavar="SECONDS",
        help="... within this many seconds of the first probe (default %(default)g)",
    )
    add_store_options(p)
    p.add_argument(
        "--learn-pools",
        action="store_true",
        help="record pools confirmed by behaviour and unknown to intel in the knowledge base, as discovered"
        " (default: the knowledge base is only read; a crafted capture could plant pools)",
    )
    p.add_argument(
        "--carve-all",
        action="store_true",
        help="hash and scan every named HTTP download (default: executables, scripts, archives, configs)",
    )
    p.add_argument(
        "--extract-dir",
        metavar="DIR",
        help="store carved files (HTTP, SMTP, FTP) in DIR, named by sha256; nothing is written without it",
    )
    p.add_argument(
        "--rules",
        metavar="PATH",
        action="append",
        default=[],
        help="also load exploit/dropper rule files from PATH, a .yaml file or a directory (repeatable; "
        "see docs/exploits.md)",
    )
    p.add_argument(
        "--yara-rules",
        metavar="DIR",
        action="append",
        default=[],
        help="also scan carved files with the .yar/.yara rules in DIR (repeatable; see docs/files.md)",
    )
    p.add_argument(
        "--report",
        metavar="FILE",
        help="also write the analyst's report, a self-contained HTML page, to FILE (see `minerwatch report`)",
    )
    add_disk_findings_option(p)
    p.add_argument(
        "--workers",
        metavar="N",
        type=whole(1, MAX_WORKERS),
        help="processes that analyse the flows, plus one that merges them (default: one per core but one, "
        "for the merging: one process on 2 cores); each "
        "worker reads every capture and keeps its share of the flows, the memory caps apply to each; "
        "standard input and pipes are read by one (see docs/deploy.md)",
    )
    p.add_argument(
        "--dask",
        metavar="SCHEDULER",
        help="analyse each capture as one task on the Dask distributed cluster at SCHEDULER (e.g. "
        "tcp://10.0.0.5:8786), merged here by capture time; the workers read the captures by path, and "
        "each capture is analysed alone (no flow spans two); needs the 'dask' extra (see docs/deploy.md)",
    )
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    bus.add_bus_options(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    campaigns = BruteForceConfig(threshold=args.bruteforce_threshold, window=args.bruteforce_window)
    options = AnalysisOptions(
        detectors=chosen_detectors(args),
        stream_depth=args.stream_depth,
        idle_timeout=args.idle_timeout,
        max_flows=args.max_flows,
        reassembly_memcap=args.reassembly_memcap,
        defrag_memcap=args.defrag_memcap,
        show_secrets=args.show_secrets,
        intel_db=args.intel_db,
        record_discovered=args.learn_pools,
        policy=VerdictPolicy(window=args.window, min_submits=args.min_submits, peer_window=args.peer_window),
        incident_policy=IncidentPolicy(retention=args.retention * 86400),
        store=chosen_store(args),
        disk_findings=tuple(args.disk_findings),
        detector_options={
            "bruteforce": BruteForceSettings(campaigns=campaigns),
            "scan": ScanConfig(ports=args.scan_ports, hosts=args.scan_hosts, window=args.scan_window),
            "carving": FileOptions(
                carve_all=args.carve_all, extract_dir=args.extract_dir, yara_dirs=tuple(args.yara_rules)
            ),
            "exploits": ExploitOptions(rule_paths=tuple(args.rules)),
        },
    )
    digest = FindingDigest()
    report = ReportBuilder() if args.report else None
    if args.report:
        refuse_input_as_output(args.report, args.captures)  # written at the end: checked now
    check_disk_findings(args.disk_findings, [args.output, args.report])
    with ExitStack() as stack:
        sinks: list[EventSink] = [
            digest,
            *([report] if report else []),
            *event_sinks(stack, args.output, args.json, args.captures),
        ]
        publisher = bus.publisher(args, stack, args.captures)
        show = sys.stderr.isatty() and not args.no_progress
        with Progress(
            "[progress.description]{task.description}",
            BarColumn(),
            DownloadColumn(),
            TransferSpeedColumn(),
            TimeRemainingColumn(),
            disable=not show,
            transient=True,
            console=Console(stderr=True),
        ) as progress:
            result = _analyze(args, sinks, options, progress, bus.attach(publisher))
        bus.close(publisher)
    out = sys.stderr if args.json else sys.stdout
    try:
        render_summary(result.verdicts, result.stats, out, digest, result.incidents)
    except OSError as exc:
        raise OutputError(f"cannot write the summary: {exc.strerror or exc}") from None
    if report is not None:
        write_report(report, args.report, "html")
    if result.input_errors:
        return 2
    return 1 if result.incidents or result.verdicts or digest.total else 0


def _analyze(
    args: argparse.Namespace,
    sinks: list[EventSink],
    options: AnalysisOptions,
    progress: Progress,
    attach: Callable[[Analysis], None] | None,
) -> AnalysisResult:
    """On a Dask cluster, with local workers, or in this process; `attach` is handed the analysis that
    correlates (--nats)."""
    captures: list[Path] = args.captures
    sizes = [_size(path) or 0 for path in captures]
    workers = args.workers or default_workers()
    if args.dask:
        if args.workers:
            raise UsageError("--dask and --workers: the cluster's workers analyse the captures, one each")
        if any(str(path) == "-" for path in captures):
            raise UsageError("--dask: the cluster reads captures by path, not from standard input")
        task = progress.add_task(
            f"{len(captures)} capture(s) on {escape(visible(args.dask))}", total=sum(sizes)
        )
        return analyze_archive(
            args.dask, captures, sinks, options, lambda i: progress.advance(task, sizes[i]), attach
        )
    if workers > 1 and splittable(captures):
        task = progress.add_task(f"{len(captures)} capture(s), {workers} workers", total=sum(sizes))
        return analyze_files(captures, sinks, options, workers, partial(progress.advance, task), attach)
    return _one_process(captures, sinks, options, progress, attach)


def _one_process(
    captures: list[Path],
    sinks: list[EventSink],
    options: AnalysisOptions,
    progress: Progress,
    attach: Callable[[Analysis], None] | None,
) -> AnalysisResult:
    """Every capture in turn, a progress bar each."""
    analysis = Analysis(sinks, options)  # sets up --extract-dir too: every output before any input
    if attach is not None:
        attach(analysis)
    for path in captures:
        task = progress.add_task(escape(visible(path.name or str(path))), total=_size(path))
        analysis.feed_file(path, partial(progress.advance, task))
    return analysis.finish()


def _size(path: Path) -> int | None:
    """The progress bar's total: a regular file's size; unknown for pipes, or a path that cannot be reached
    (reading it says why)."""
    try:
        st = os.stat(path)
    except (OSError, ValueError):
        return None
    return st.st_size if stat.S_ISREG(st.st_mode) else None
