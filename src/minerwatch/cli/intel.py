"""`minerwatch intel`: manage the local threat-intelligence knowledge base (docs/intel.md)."""

from __future__ import annotations

import argparse
import csv
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import IO

import orjson

from minerwatch.errors import UsageError
from minerwatch.intel import builtin
from minerwatch.intel.formats import FORMATS, read_indicators
from minerwatch.intel.formats.base import Problems
from minerwatch.intel.formats.csvfile import neutralise
from minerwatch.intel.learn import from_events
from minerwatch.intel.model import DISCOVERED_SOURCE, Indicator
from minerwatch.intel.normalize import TYPES
from minerwatch.intel.store import ENV_PATH, KnowledgeBase, damaged, default_path
from minerwatch.output.terminal import visible

_EXPORT_FIELDS: tuple[str, ...] = ("type", "value", "source", "family", "tags", "confidence")
_EXPORT_FIELDS += ("first_seen", "last_seen", "valid_until", "reference")


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "intel",
        help="manage the threat-intelligence knowledge base",
        description="Import, list, remove and export indicators (pool domains and IPs, wallets, hashes, "
        f"agents, JA3/JA4). The knowledge base is {default_path()} unless --db or ${ENV_PATH} says "
        "otherwise; it starts with minerwatch's shipped set (source minerwatch-builtin).",
    )
    parser.add_argument(
        "--db", type=Path, help=f"knowledge base file (default: ${ENV_PATH} or {default_path()})"
    )
    actions = parser.add_subparsers(dest="intel_command", metavar="ACTION", required=True)

    imp = actions.add_parser("import", help="import a feed; replaces that source as a whole")
    imp.add_argument("file", type=Path)
    imp.add_argument(
        "--discovered",
        action="store_true",
        help="FILE is an events file of 'minerwatch analyze': record the pools its verdicts confirmed and"
        " intel did not know, as discovered pools (kept apart from feeds, lower confidence)",
    )
    imp.add_argument("--source", help="source name (default: the file name without extension)")
    imp.add_argument("--format", choices=FORMATS, help="feed format (default: from the extension/content)")
    imp.add_argument("--type", choices=TYPES, help="indicator type for every line of a plain list or CSV")
    imp.set_defaults(func=_import)

    actions.add_parser("list", help="list sources").set_defaults(func=_list)
    actions.add_parser("stats", help="version, counts by type, recent history").set_defaults(func=_stats)

    rem = actions.add_parser("remove", help="remove a source and its indicators")
    rem.add_argument("source")
    rem.set_defaults(func=_remove)

    actions.add_parser("seed", help="(re)install minerwatch's shipped set").set_defaults(func=_seed)

    exp = actions.add_parser("export", help="write indicators (or discovered pools) to stdout or a file")
    exp.add_argument("--source", help="only this source")
    exp.add_argument("--discovered", action="store_true", help="behaviour-confirmed pools not in the KB")
    exp.add_argument("--format", choices=("csv", "jsonl", "stix"), default="csv")
    exp.add_argument("-o", "--output", type=Path, help="file to write (default: stdout)")
    exp.set_defaults(func=_export)


def _open(args: argparse.Namespace) -> KnowledgeBase:
    return KnowledgeBase.open(args.db)


def _read(args: argparse.Namespace) -> KnowledgeBase:
    return KnowledgeBase.read(args.db)


def _report(path: Path, problems: Problems) -> None:
    if problems.count:
        print(f"skipped {problems.count} bad entries:", file=sys.stderr)
        for where, reason in problems.samples:
            print(f"  {visible(str(path))}:{where}: {reason}", file=sys.stderr)
        if problems.count > len(problems.samples):
            print(f"  ... and {problems.count - len(problems.samples)} more", file=sys.stderr)


def _import(args: argparse.Namespace) -> int:
    if args.discovered:
        return _import_discovered(args)
    source = args.source or args.file.stem
    if source == builtin.BUILTIN_SOURCE:
        raise UsageError(f"{source} is minerwatch's shipped set; use 'minerwatch intel seed'")
    problems = Problems()
    with _open(args) as kb:
        count = kb.replace_source(
            source,
            read_indicators(args.file, args.format, problems, args.type),
            origin=str(args.file),
            fmt=args.format or "",
            rejected=problems,
        )
        version = kb.version
    print(f"imported {count} indicators into source {source!r} (knowledge base version {version})")
    _report(args.file, problems)
    return 0


def _import_discovered(args: argparse.Namespace) -> int:
    if args.source or args.format or args.type:
        raise UsageError("--discovered reads an events file: --source, --format and --type do not apply")
    problems = Problems()
    with _open(args) as kb:
        count = kb.learn(from_events(args.file, problems), origin=str(args.file), rejected=problems)
        version = kb.version
    print(
        f"recorded {count} behaviour-confirmed pools as {DISCOVERED_SOURCE!r}"
        f" (knowledge base version {version})"
    )
    _report(args.file, problems)
    return 0


def _list(args: argparse.Namespace) -> int:
    with _read(args) as kb:
        for s in kb.sources():
            cells = (
                s.name,
                f"{s.count} indicators",
                f"{s.rejected} rejected",
                s.imported_at,
                f"v{s.kb_version}",
            )
            print("\t".join(map(visible, (*cells, s.origin))))  # names and origins come from feed files
        if discovered := kb.discovered_count():
            print(f"{DISCOVERED_SOURCE}\t{discovered} indicators\tlearnt from captures, not curated")
        _note_shipped(kb)
    return 0


def _note_shipped(kb: KnowledgeBase) -> None:
    """Say where what is shown differs from what analyses match: a missing file, an older shipped set."""
    if not kb.stored:
        print(
            f"note: {kb.path} holds no knowledge base yet; this is minerwatch's shipped set", file=sys.stderr
        )
    elif builtin.stale(kb):
        print(
            "note: the stored copy of the shipped set is older than this minerwatch's, which analyses use;"
            " 'minerwatch intel seed' stores it",
            file=sys.stderr,
        )


def _stats(args: argparse.Namespace) -> int:
    with _read(args) as kb:
        print(f"knowledge base: {kb.path or ':memory:'}")
        print(f"version: {kb.version}")
        for kind, count in kb.type_counts().items():
            print(f"  {kind}: {count}")
        print(f"  discovered pools ({DISCOVERED_SOURCE}): {kb.discovered_count()}")
        print("history (newest first):")
        for at, action, source, count, rejected, version in kb.history():
            print(f"  v{version} {at} {action} {source}: {count} indicators, {rejected} rejected")
        _note_shipped(kb)
    return 0


def _remove(args: argparse.Namespace) -> int:
    with _open(args) as kb:
        count = kb.remove_source(args.source)
        if args.source == builtin.BUILTIN_SOURCE:
            builtin.disable(kb)
    print(f"removed source {args.source!r} ({count} indicators)")
    return 0


def _seed(args: argparse.Namespace) -> int:
    with KnowledgeBase.open(args.db, seed=False) as kb:
        builtin.ensure_builtin(kb, force=True)
    print(f"installed the shipped set as source {builtin.BUILTIN_SOURCE!r}")
    return 0


def _export(args: argparse.Namespace) -> int:
    with _read(args) as kb:
        if args.discovered:
            items: Iterable[tuple[str, Indicator]] = ((DISCOVERED_SOURCE, i) for i in kb.discovered())
        else:
            items = (Indicator.from_row(row) for row in kb.rows(args.source))
        out = args.output.open("w", encoding="utf-8", newline="") if args.output else sys.stdout
        try:
            _WRITERS[args.format](items, out)
        except ValueError as exc:  # values were normalised on import: the file is damaged
            raise damaged(kb.path, f"a stored indicator cannot be exported: {exc}") from None
        finally:
            if args.output:
                out.close()
    return 0


def _record(source: str, i: Indicator) -> dict[str, object]:
    return {
        "type": i.type,
        "value": i.value,
        "source": source,
        "family": i.family,
        "tags": list(i.tags),
        "confidence": i.confidence,
        "first_seen": i.first_seen,
        "last_seen": i.last_seen,
        "valid_until": i.valid_until,
        "reference": i.reference,
    }


def _write_csv(items: Iterable[tuple[str, Indicator]], out: IO[str]) -> None:
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(_EXPORT_FIELDS)
    for source, i in items:
        record = _record(source, i)
        record["tags"] = ",".join(i.tags)
        writer.writerow([neutralise(str(record[f] if record[f] is not None else "")) for f in _EXPORT_FIELDS])


def _write_jsonl(items: Iterable[tuple[str, Indicator]], out: IO[str]) -> None:
    for source, i in items:
        out.write(orjson.dumps(_record(source, i)).decode() + "\n")


def _write_stix(items: Iterable[tuple[str, Indicator]], out: IO[str]) -> None:
    from stix2.exceptions import STIXError

    from minerwatch.intel.formats.stix_export import bundle

    try:
        text, skipped = bundle(items)
    except (KeyError, STIXError) as exc:
        raise ValueError(f"not valid in STIX: {exc}") from None
    out.write(text + "\n")
    if skipped:
        print(
            f"left out {skipped} wallet/port/JA3/JA4 indicators: STIX has no pattern for them",
            file=sys.stderr,
        )


_WRITERS = {"csv": _write_csv, "jsonl": _write_jsonl, "stix": _write_stix}
