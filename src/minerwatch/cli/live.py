"""`minerwatch live -i IFACE`: the file analysis on packets from live interfaces, until SIGTERM or SIGINT."""

from __future__ import annotations

import argparse
import os
import signal
import socket
import sys
import time
from contextlib import ExitStack

from minerwatch.capture.control import LiveControl
from minerwatch.capture.live import RING_BYTES, LiveSource, capture
from minerwatch.capture.pcap_live import PcapSource
from minerwatch.cli import bus
from minerwatch.cli.options import add_event_options, chosen_detectors, duration, size, whole
from minerwatch.cli.outputs import event_writers
from minerwatch.errors import UsageError
from minerwatch.output.console import FindingDigest, render_summary
from minerwatch.pipeline import Analysis, AnalysisOptions, AnalysisResult, EventSink
from minerwatch.scale.live import LiveInput, analyze_live
from minerwatch.scale.run import MAX_WORKERS, default_workers

AF_PACKET = hasattr(socket, "AF_PACKET")


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "live",
        help="analyse packets from network interfaces until stopped (SIGTERM or Ctrl-C)",
        description="Read packets from live interfaces (AF_PACKET, TPACKET_V3 ring; or libpcap) and analyse "
        "them as `analyze` does a capture file. SIGTERM or SIGINT stops reading; verdicts and statistics are "
        "then written and outputs closed. SIGHUP re-reads intel and rules. Needs CAP_NET_RAW.",
        epilog="-o FILE writes one file; -o DIR (an existing directory) writes rotated files "
        "DIR/events-YYYYMMDDTHHMMSSZ-NNNNNN.jsonl (see --rotate-size, --rotate-interval). Exit status: 0 "
        "nothing found, 1 an incident, mining, alerts or brute force found, 2 usage error or an interface "
        "that cannot be read; 130 when a second signal interrupts the final flush.",
    )
    p.add_argument(
        "-i",
        "--interface",
        action="append",
        required=True,
        metavar="IFACE",
        help="network interface to read (repeatable)",
    )
    p.add_argument("--bpf", metavar="FILTER", help="tcpdump filter expression, compiled by libpcap")
    p.add_argument("--no-promisc", action="store_true", help="do not put interfaces in promiscuous mode")
    p.add_argument(
        "--ring-size",
        type=size,
        default=RING_BYTES,
        metavar="SIZE",
        help="receive ring per interface (libpcap: its buffer), e.g. 16M, 256M: what the kernel holds while "
        "the analysis is busy (default 64M)",
    )
    p.add_argument(
        "--workers",
        metavar="N",
        type=whole(1, MAX_WORKERS),
        help="processes the kernel spreads the packets over by flow (AF_PACKET fanout), plus one that merges "
        "them and writes the outputs (default: one per core but one, for the merging: one process on 2 "
        "cores; see docs/deploy.md)",
    )
    p.add_argument(
        "--capture",
        choices=("auto", "af_packet", "libpcap"),
        default="auto",
        help="how packets are read: AF_PACKET rings (Linux), or libpcap (the fallback; auto: AF_PACKET "
        "where the system has it)",
    )
    add_event_options(p)
    p.add_argument(
        "--rotate-size",
        type=size,
        metavar="SIZE",
        help="with -o DIR: start a new events file before one passes SIZE (e.g. 512K, 100M; default 100M)",
    )
    p.add_argument(
        "--rotate-interval",
        type=duration(),
        metavar="SECONDS",
        help="with -o DIR: start a new events file when one is SECONDS old (default 3600)",
    )
    p.add_argument(
        "--stats-interval",
        type=duration(zero=True),
        default=60.0,
        metavar="SECONDS",
        help="write a `stats` event every SECONDS, with the kernel's drops (default 60; 0: only at the end)",
    )
    bus.add_bus_options(p)
    p.set_defaults(func=run)


def rotation(args: argparse.Namespace) -> tuple[int, float] | None:
    """(bytes, seconds) when -o names a directory: events go to rotated files there."""
    if args.output and os.path.isdir(args.output):
        return args.rotate_size or 100 << 20, args.rotate_interval or 3600.0
    if args.rotate_size or args.rotate_interval:
        raise UsageError("--rotate-size and --rotate-interval need -o DIR (an existing directory)")
    return None


def run(args: argparse.Namespace) -> int:
    # Until the capture loop handles it, SIGHUP (a reload asked during start-up, which reads intel and rules
    # anyway) must not end the process, as its default action would.
    signal.signal(signal.SIGHUP, signal.SIG_IGN)
    options = AnalysisOptions(
        detectors=chosen_detectors(args),
        show_secrets=args.show_secrets,
        intel_db=args.intel_db,
    )
    digest = FindingDigest()
    args.workers = args.workers or default_workers()
    if args.workers > 1:
        return _report(_with_workers(args, options, digest), args, digest)
    with ExitStack() as stack:
        writers = event_writers(stack, args.output, args.json, (), rotation(args))
        analysis = Analysis([digest, *(w.write for w in writers)], options)
        publisher = bus.publisher(args, stack)
        if publisher is not None:
            publisher.attach(analysis)
        reader = (
            LiveSource
            if args.capture == "af_packet" or (args.capture == "auto" and AF_PACKET)
            else PcapSource
        )
        sources: list[LiveSource | PcapSource] = []
        for interface in dict.fromkeys(args.interface):
            source = reader(interface, args.bpf, promiscuous=not args.no_promisc, ring_bytes=args.ring_size)
            stack.callback(source.close)
            sources.append(source)
        analysis.extra_stats["kernel"] = lambda: [s.kernel_counters() for s in sources]

        def flush() -> None:
            """Every second: the incidents that changed (docs/live.md), then the outputs flushed."""
            analysis.update_incidents(time.time())
            for writer in writers:
                writer.flush()

        control = LiveControl(
            analysis.reload,
            lambda: analysis.emit_stats(time.time(), periodic=True),
            flush,
            args.stats_interval or None,
        )
        stack.enter_context(control)
        print(
            f"minerwatch: capturing on {', '.join(s.interface for s in sources)}", file=sys.stderr, flush=True
        )
        capture(sources, analysis.engine, control)
        analysis.files.extend(source.stats() for source in sources)
        result = analysis.finish()
        bus.close(publisher)
    return _report(result, args, digest)


def _with_workers(
    args: argparse.Namespace, options: AnalysisOptions, digest: FindingDigest
) -> AnalysisResult:
    interfaces = list(dict.fromkeys(args.interface))

    def started() -> None:
        workers = f"{args.workers} workers"
        print(f"minerwatch: capturing on {', '.join(interfaces)} with {workers}", file=sys.stderr, flush=True)

    with ExitStack() as stack:
        writers = event_writers(stack, args.output, args.json, (), rotation(args))
        sinks: list[EventSink] = [digest, *(w.write for w in writers)]
        live = LiveInput(
            interfaces, args.bpf, not args.no_promisc, args.ring_size, args.stats_interval or None
        )
        publisher = bus.publisher(args, stack)

        def flush() -> None:
            for writer in writers:
                writer.flush()

        result = analyze_live(live, sinks, options, args.workers, started, bus.attach(publisher), flush)
        bus.close(publisher)
        return result


def _report(result: AnalysisResult, args: argparse.Namespace, digest: FindingDigest) -> int:
    out = sys.stderr if args.json else sys.stdout
    render_summary(result.verdicts, result.stats, out, digest, result.incidents)
    return 1 if result.incidents or result.verdicts or digest.total else 0
