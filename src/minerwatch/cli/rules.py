"""`minerwatch rules`: list the exploit/dropper/C2 rules and run the examples embedded in rule files.

Exit status of `rules test`: 0 every example behaves, 1 an example failed, 2 a file or rule could not be
loaded (each problem on its own line, "file:line: rule ID: message").
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from rich.console import Console
from rich.table import Table

from minerwatch.detectors.exploits import SHIPPED, Rule, load_rules
from minerwatch.detectors.exploits.examples import check, counts
from minerwatch.output.terminal import untrusted, visible


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "rules",
        help="list exploit, dropper and botnet-control rules; test rule files",
        description="Rules are YAML files (docs/exploits.md). minerwatch ships a set in "
        f"{SHIPPED}; add your own files or directories with --rules PATH.",
    )
    actions = parser.add_subparsers(dest="rules_command", metavar="ACTION", required=True)

    listing = actions.add_parser("list", help="table of the shipped rules and those under --rules")
    listing.add_argument(
        "--rules", type=Path, action="append", default=[], metavar="PATH", help="rule file or directory"
    )
    listing.add_argument("--no-shipped", action="store_true", help="only the rules under --rules")
    listing.set_defaults(func=_list)

    test = actions.add_parser(
        "test",
        help="run the match/nomatch examples embedded in rule files",
        epilog="Exit status: 0 all examples pass, 1 an example failed, 2 a file or rule could not be loaded.",
    )
    test.add_argument(
        "files", nargs="*", type=Path, metavar="FILE", help="rule files or directories (default: shipped)"
    )
    test.set_defaults(func=_test)


def _load(paths: list[Path]) -> tuple[list[Rule], list[str]]:
    rules, errors = load_rules(paths)
    for error in errors:
        print(f"minerwatch: {error}", file=sys.stderr)
    if errors:
        print(f"minerwatch: {len(errors)} problem(s); {len(rules)} rule(s) loaded", file=sys.stderr)
    return rules, errors


def _list(args: argparse.Namespace) -> int:
    rules, errors = _load(([] if args.no_shipped else [SHIPPED]) + args.rules)
    table = Table(title=f"{len(rules)} rules")
    for column in ("id", "name", "stage", "sev", "proto", "CVE / CNVD", "examples"):
        table.add_column(column, overflow="fold")
    for rule in sorted(rules, key=lambda r: r.sid):
        positive, negative = counts(rule)
        table.add_row(  # names and ids come from user files: never parsed as markup, controls visible
            str(rule.sid),
            untrusted(rule.name),
            rule.stage,
            str(rule.severity),
            rule.protocol,
            untrusted(" ".join(rule.cve + rule.cnvd)),
            f"{positive}+ {negative}-",
        )
    Console(width=None if sys.stdout.isatty() else 200).print(table)  # pipes get full lines
    return 2 if errors else 0


def _test(args: argparse.Namespace) -> int:
    rules, errors = _load(args.files or [SHIPPED])
    failed = 0
    for rule in sorted(rules, key=lambda r: r.sid):
        problems = check(rule)
        positive, negative = counts(rule)
        if not positive or not negative:
            problems.append("needs at least one 'match' and one 'nomatch' example")
        status = "FAIL" if problems else "ok"
        print(f"{status:4} {rule.sid} {visible(rule.name)} ({positive} match, {negative} nomatch)")
        for problem in problems:
            print(visible(f"     {rule.source}: {problem}"))
        failed += bool(problems)
    print(f"{len(rules) - failed} passed, {failed} failed")
    if errors:
        return 2
    return 1 if failed else 0
