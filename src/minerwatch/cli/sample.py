"""`minerwatch sample OUT.pcap`: write the demonstration capture (see capture/sample.py)."""

from __future__ import annotations

import argparse
from pathlib import Path

from minerwatch.capture.sample import write_sample
from minerwatch.errors import OutputError


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "sample",
        help="write a small demonstration capture (two miners, one bystander)",
        description="Write a demonstration capture made by minerwatch's own packet crafting.",
    )
    p.add_argument("output", type=Path, metavar="OUT.pcap")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    try:
        count = write_sample(args.output)
    except OSError as exc:
        raise OutputError(f"cannot write {args.output}: {exc.strerror or exc}") from None
    print(f"wrote {count} packets to {args.output}")
    return 0
