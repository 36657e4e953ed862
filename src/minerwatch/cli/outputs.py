"""Where a subcommand writes its events: checked and opened before any input is read, so that a bad
destination stops the command before it starts, and an input is never truncated by its own output."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from contextlib import ExitStack
from pathlib import Path

from minerwatch.capture.reader import STDIN, capture_name
from minerwatch.errors import UsageError
from minerwatch.events import Event
from minerwatch.output.jsonlines import JsonLinesWriter
from minerwatch.output.rotating import RotatingJsonLines


def readable(path: str, what: str) -> None:
    """UsageError, in one line, when `path` cannot be opened for reading (checked before a long analysis)."""
    try:
        with open(path, "rb"):
            pass
    except OSError as exc:
        raise UsageError(f"cannot read {what} {path}: {exc.strerror or exc}") from None


def refuse_input_as_output(output: str, inputs: Iterable[str | Path]) -> None:
    """UsageError when `output` is the same file as one of `inputs` (by device and inode: links and other
    spellings included); `-` among the inputs is standard input."""
    try:
        target = os.stat(output)
    except OSError:
        return  # not there yet (or unreachable: opening it says why)
    for item in inputs:
        try:
            st = os.fstat(0) if str(item) == STDIN else os.stat(item)
        except OSError:
            continue  # reported when the input is read
        if (st.st_dev, st.st_ino) == (target.st_dev, target.st_ino):
            raise UsageError(f"output {output} is the input {capture_name(item)}: it would be overwritten")


def event_sinks(
    stack: ExitStack, output: str | None, to_stdout: bool, inputs: Iterable[str | Path]
) -> list[Callable[[Event], None]]:
    """Open the JSON-lines outputs (`-o FILE`, `--json`); each is closed (flushed) when `stack` ends."""
    return [writer.write for writer in event_writers(stack, output, to_stdout, inputs)]


def event_writers(
    stack: ExitStack,
    output: str | None,
    to_stdout: bool,
    inputs: Iterable[str | Path],
    rotation: tuple[int, float] | None = None,
) -> list[JsonLinesWriter | RotatingJsonLines]:
    """The writers behind event_sinks; with `rotation` (bytes, seconds), `-o` names a directory of rotated
    files (output/rotating.py)."""
    if output:
        refuse_input_as_output(output, inputs)
    writers: list[JsonLinesWriter | RotatingJsonLines] = []
    if output and rotation:
        writers.append(RotatingJsonLines(output, *rotation))
    elif output:
        writers.append(JsonLinesWriter(output))
    if to_stdout:
        writers.append(JsonLinesWriter("-"))
    for writer in writers:
        stack.callback(writer.close)
    return writers
