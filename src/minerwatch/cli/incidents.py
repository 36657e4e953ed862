"""`minerwatch incidents list|show ID [--json]`: the incident store from the command line."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from rich.console import Console
from rich.table import Table

from minerwatch.correlate.store import IncidentStore, default_path
from minerwatch.errors import InputError
from minerwatch.output.terminal import untrusted


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "incidents",
        help="list or show the incidents kept by earlier analyses",
        description="The incidents `minerwatch analyze` kept in the incident store (docs/killchain.md).",
        epilog="Exit status: 0 no incident, 1 incidents listed or one shown, 2 no store or no such incident.",
    )
    parser.add_argument(
        "--store",
        metavar="FILE",
        help=f"incident store (default: $MINERWATCH_STORE, else {default_path()})",
    )
    parser.add_argument("--json", action="store_true", help="JSON (one incident per line for list)")
    actions = parser.add_subparsers(dest="incidents_command", metavar="ACTION", required=True)
    actions.add_parser("list", help="every incident, oldest activity first").set_defaults(func=_list)
    show = actions.add_parser("show", help="one incident with its stages, evidence and advice")
    show.add_argument("id", metavar="ID", help="the incident id (mw-...)")
    show.set_defaults(func=_show)


def _list(args: argparse.Namespace) -> int:
    with IncidentStore.open(args.store, create=False) as store:
        incidents = store.list()
    if args.json:
        for incident in incidents:
            sys.stdout.write(json.dumps(incident) + "\n")
        return 1 if incidents else 0
    table = Table(title=f"{len(incidents)} incident(s)")
    for column in ("id", "host", "status", "score", "stages", "attackers", "spread to", "last seen"):
        table.add_column(column, overflow="fold")
    for i in incidents:
        table.add_row(
            i["id"],
            untrusted(i["host"]),
            i["status"],
            f"{i['score']:.2f}",
            " ".join(str(s["number"]) for s in i["stages"]),
            untrusted(", ".join(i["attackers"])),
            untrusted(", ".join(i["spread_to"])),
            i["last_seen"],
        )
    Console(width=None if sys.stdout.isatty() else 200).print(table)
    return 1 if incidents else 0


def _show(args: argparse.Namespace) -> int:
    with IncidentStore.open(args.store, create=False) as store:
        incident = store.get(args.id)
    if incident is None:
        raise InputError(f"no incident {args.id!r} in the store (see `minerwatch incidents list`)")
    if args.json:
        sys.stdout.write(json.dumps(incident, indent=2) + "\n")
        return 1
    console = Console(width=None if sys.stdout.isatty() else 120)
    console.print(untrusted(f"{incident['id']}  {incident['host']}  {incident['status']}", "bold"))
    for key in ("score", "first_seen", "last_seen", "attackers", "spread_to", "wallets", "agents"):
        console.print(untrusted(f"{key}: {_plain(incident[key])}"))
    table = Table(title="stages")
    for column in ("#", "stage", "first seen", "last seen", "techniques", "weight", "observations"):
        table.add_column(column, overflow="fold")
    for s in incident["stages"]:
        table.add_row(
            str(s["number"]),
            s["name"],
            s["first_seen"],
            s["last_seen"],
            " ".join(s["techniques"]),
            f"{s['weight']:.3f}",
            untrusted("; ".join(s["observations"])),
        )
    console.print(table)
    for kind in ("pools", "files"):
        for entry in incident[kind]:
            console.print(untrusted(f"{kind[:-1]}: {_plain(entry)}"))
    for advice in incident["recommendations"]:
        console.print(untrusted(f"- {advice['text']}"))
    return 1


def _plain(value: Any) -> str:
    if isinstance(value, list):
        return ", ".join(map(_plain, value)) or "-"
    if isinstance(value, dict):
        return " ".join(f"{k}={v}" for k, v in value.items())
    return str(value)
