"""The README's table of `minerwatch analyze` options, made from the argument parser, whose defaults are
read from the options dataclasses (pipeline.AnalysisOptions, VerdictPolicy, each detector's options): so the
README states no default of its own.

    python tests/options_table.py        (or: make docs)

rewrites the table between the markers in README.md; tests/test_options_table.py checks that it is current.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

README = Path(__file__).resolve().parents[1] / "README.md"
BEGIN = "<!-- analyze-options: made by `make docs` from the options dataclasses; do not edit by hand -->"
END = "<!-- end of analyze-options -->"
_DEFAULT = re.compile(r"\s*\(default[^()]*(\([^()]*\)[^()]*)*\)")


def analyze_parser() -> argparse.ArgumentParser:
    from minerwatch.cli.main import build_parser

    subparsers = next(a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction))
    return subparsers.choices["analyze"]


def default_text(action: argparse.Action) -> str:
    from minerwatch.cli.options import mebibytes

    if isinstance(action, argparse._StoreTrueAction):
        return "off"
    if action.dest == "detectors" and action.default is None:
        return "all"
    if action.default is None or action.default == []:
        said = _DEFAULT.search(action.help or "")  # a default found at run time ($MINERWATCH_...)
        return said.group(0).strip(" ()").removeprefix("default: ") if said else "none"
    if action.type is mebibytes:
        return f"{action.default >> 20} MiB"
    return f"{action.default:g}" if isinstance(action.default, float) else str(action.default)


def table() -> str:
    """One row per option that changes what an analysis finds or keeps (outputs and progress left out)."""
    parser = analyze_parser()
    rows = ["| option | default | what it sets |", "|---|---|---|"]
    for action in parser._actions:
        if not action.option_strings or action.help in (None, argparse.SUPPRESS) or action.dest in _OUTPUTS:
            continue
        flags = " / ".join(f"`{flag}`" for flag in action.option_strings)
        flags += f" {action.metavar}" if action.metavar else ""
        text = action.help % {"default": action.default} if "%" in action.help else action.help
        what = _DEFAULT.sub("", text)
        rows.append(f"| {flags} | {default_text(action)} | {what.strip()} |")
    return "\n".join(rows)


_OUTPUTS = {"help", "output", "json", "report", "no_progress"}


def current(text: str) -> str:
    """`text` (the README) with the table between the markers made anew."""
    start, end = text.index(BEGIN) + len(BEGIN), text.index(END)
    return text[:start] + "\n" + table() + "\n" + text[end:]


if __name__ == "__main__":
    README.write_text(current(README.read_text()))
    print(f"wrote the analyze options table in {README}")
    sys.exit(0)
