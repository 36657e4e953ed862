"""The labels file of `minerwatch model train|evaluate`: which flows of which capture are what.

CSV with a header line. Required columns `capture,label,session`; optional `split,src_ip,src_port,
dest_ip,dest_port` (src is the client, as in events); other columns are ignored. This is the format
benchmarks/record_encrypted.py writes, one row per recorded connection:

    capture,session,split,label,src_ip,src_port,dest_ip,dest_port
    xmrig-nicehash.pcap,xmrig-nicehash,train,tls_mining,10.79.3.2,51234,10.79.3.1,443
    https-keepalive.pcap,https-keepalive,test,benign,,,,

`capture` is a capture's file name (no directories); `label` one of benign, tls_mining, chia; `session` the
recording session the flows come from: held-out evaluation splits by session, never by flow, so that flows
of one recording are not on both sides. `split` (train or test), when given, says which side a session is
on. Empty optional columns match anything. A flow takes the label of the row that names its exact
connection, else of the first row of its capture that matches it; flows no row matches are not used.
"""

from __future__ import annotations

import csv
import ipaddress
from dataclasses import dataclass
from pathlib import Path

from minerwatch.encrypted.model import CLASSES
from minerwatch.errors import UsageError
from minerwatch.flows.info import ip_text

MAX_ROWS = 1_000_000
REQUIRED = ("capture", "label", "session")
SPLITS = ("train", "test")


@dataclass(frozen=True, slots=True)
class LabelRule:
    capture: str
    label: str
    session: str
    split: str | None = None
    src_ip: str | None = None
    src_port: int | None = None
    dest_ip: str | None = None
    dest_port: int | None = None

    @property
    def exact(self) -> tuple[str, str, int, str, int] | None:
        """The connection this row names, when it names one completely."""
        if self.src_ip is None or self.src_port is None or self.dest_ip is None or self.dest_port is None:
            return None
        return (self.capture, self.src_ip, self.src_port, self.dest_ip, self.dest_port)

    def matches(self, src_ip: str, src_port: int, dest_ip: str, dest_port: int) -> bool:
        return (
            self.src_ip in (None, src_ip)
            and self.src_port in (None, src_port)
            and self.dest_ip in (None, dest_ip)
            and self.dest_port in (None, dest_port)
        )


class Labels:
    """The rules of a labels file, indexed: one dict lookup per flow for rows naming a connection."""

    def __init__(self, rules: list[LabelRule]) -> None:
        self.rules = rules
        self.exact: dict[tuple[str, str, int, str, int], LabelRule] = {}
        self.partial: dict[str, list[LabelRule]] = {}
        for rule in rules:
            key = rule.exact
            if key is not None:
                self.exact.setdefault(key, rule)
            else:
                self.partial.setdefault(rule.capture, []).append(rule)

    def find(self, capture: str, client: bytes, client_port: int, server: bytes, server_port: int):
        """The rule labelling this flow, or None."""
        src, dest = ip_text(client), ip_text(server)
        rule = self.exact.get((capture, src, client_port, dest, server_port))
        if rule is None:
            partial = self.partial.get(capture, ())
            rule = next((r for r in partial if r.matches(src, client_port, dest, server_port)), None)
        return rule


def read_labels(path: Path) -> Labels:
    """Every rule of a labels file; a malformed file is a UsageError naming the line."""
    try:
        with path.open(newline="", encoding="utf-8") as f:
            rules = list(_rows(csv.DictReader(f), path))
    except OSError as exc:
        raise UsageError(f"cannot read labels {path}: {exc.strerror or exc}") from None
    except (UnicodeDecodeError, csv.Error) as exc:
        raise UsageError(f"labels {path} is not a CSV text file: {exc}") from None
    if not rules:
        raise UsageError(f"labels {path} has no rows")
    return Labels(rules)


def _rows(reader: csv.DictReader[str], path: Path):
    missing = [c for c in REQUIRED if c not in (reader.fieldnames or ())]
    if missing:
        raise UsageError(f"labels {path}: header lacks {', '.join(missing)}")
    for n, row in enumerate(reader, start=2):
        if n > MAX_ROWS:
            raise UsageError(f"labels {path}: more than {MAX_ROWS} rows")
        try:
            yield _rule(row)
        except ValueError as exc:
            raise UsageError(f"labels {path} line {n}: {exc}") from None


def _rule(row: dict[str, str | None]) -> LabelRule:
    def cell(name: str) -> str | None:
        value = row.get(name)
        return value.strip() or None if isinstance(value, str) else None

    capture, label, session, split = cell("capture"), cell("label"), cell("session"), cell("split")
    if not capture or not session or "/" in capture:
        raise ValueError("capture (a file name) and session are required")
    if label not in CLASSES:
        raise ValueError(f"label {label!r} is not one of {', '.join(CLASSES)}")
    if split not in (None, *SPLITS):
        raise ValueError(f"split {split!r} is not train or test")
    return LabelRule(
        capture, label, session, split, _ip(cell("src_ip")), _port(cell("src_port")),
        _ip(cell("dest_ip")), _port(cell("dest_port")),
    )  # fmt: skip


def _ip(text: str | None) -> str | None:
    return None if text is None else str(ipaddress.ip_address(text))  # ValueError names a bad address


def _port(text: str | None) -> int | None:
    if text is not None and not (text.isascii() and text.isdigit() and int(text) <= 65535):
        raise ValueError(f"{text!r} is not a port")
    return None if text is None else int(text)
