"""File carving: files sent over HTTP, SMTP and FTP, hashed, typed, scanned with YARA and reported.

`DETECTOR` wires the pieces into an analysis (see detectors/base.py). Nothing is written to disk unless
the options name an `extract_dir`.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path

from minerwatch.detectors.base import Detector, DetectorContext, DetectorParts
from minerwatch.detectors.files.carve import Budget, FileLimits
from minerwatch.detectors.files.ftp import FtpControlAnalyzer, FtpFiles, looks_like_ftp
from minerwatch.detectors.files.http import HttpFileConsumer
from minerwatch.detectors.files.report import FileReporter, FileStats
from minerwatch.detectors.files.smtp import SmtpFileAnalyzer, looks_like_smtp
from minerwatch.detectors.files.store import FileStore
from minerwatch.detectors.files.yara_scan import YaraScanner
from minerwatch.flows.analyzers import ExpectedFlows, StreamFactory
from minerwatch.flows.info import FlowInfo
from minerwatch.flows.opening import Opening


@dataclass(frozen=True)
class FileOptions:
    carve_all: bool = False  # carve every named HTTP download, not only implant-like files
    extract_dir: str | None = None  # carved files are written here (by sha256) only when set
    yara_dirs: tuple[str, ...] = ()  # user YARA rule directories, next to the shipped rules
    limits: FileLimits = field(default_factory=FileLimits)


def setup(ctx: DetectorContext, options: FileOptions) -> DetectorParts:
    """Set up carving for one analysis."""
    limits, extract_dir = options.limits, options.extract_dir
    scanner = YaraScanner(Path(d) for d in options.yara_dirs)
    stats = FileStats()
    store = FileStore(Path(extract_dir)) if extract_dir else None
    reporter = FileReporter(
        ctx.events,
        ctx.emit,
        scanner,
        store,
        stats,
        ctx.correlator.observe_intel,
        ctx.incidents.observe,
        ctx.sight,
    )
    budget = Budget(limits.max_total)
    ftp = FtpFiles(reporter, limits, budget)

    def smtp(info: FlowInfo, first: bytes, to_server: bool) -> SmtpFileAnalyzer | None:
        return (
            SmtpFileAnalyzer(info, reporter, limits, budget)
            if looks_like_smtp(info, first, to_server)
            else None
        )

    def ftp_control(info: FlowInfo, first: bytes, to_server: bool) -> FtpControlAnalyzer | None:
        return FtpControlAnalyzer(ftp, info) if looks_like_ftp(info, first, to_server) else None

    def file_stats() -> dict[str, object]:
        extra = {
            "yara_rule_files": scanner.rule_files,
            "yara_timeouts": scanner.timeouts,
            "yara_errors": scanner.errors,
        }
        if store is not None:
            extra |= {"stored": store.stored, "store_duplicates": store.duplicates}
        return asdict(stats) | extra

    return DetectorParts(
        stream_factories=[StreamFactory(ftp_control, Opening.OTHER), StreamFactory(smtp, Opening.OTHER)],
        expected_flows=[ExpectedFlows(ftp.expected, ftp.data_analyzer)],
        http_consumers=[HttpFileConsumer(reporter, limits, budget, options.carve_all)],
        finish=ftp.finish,
        stats=file_stats,
    )


DETECTOR = Detector("carving", FileOptions, setup)

__all__ = ["DETECTOR", "FileLimits", "FileOptions"]
