"""Zeek logs, in both forms Zeek writes them, as Records.

- TSV (the default ASCII writer): `#separator`, `#set_separator`, `#empty_field`, `#unset_field`, `#path`,
  `#fields` and `#types` header lines, then one tab-separated line per entry; a file may hold several header
  blocks (logs concatenated or rotated into one). Non-printable bytes and the separator inside values are
  written as `\\xHH`; sets and vectors are joined by the set separator.
- JSON (`LogAscii::use_json`, json-streaming): one object per line with the same field names (`id.orig_h`),
  times as epoch seconds or ISO 8601 text.
Which log a line belongs to: `#path`, or `_path`, or the file's name (`conn.log`, `dns.log.gz`,
`ssl.json`), or, last, the fields the line has. Logs read: conn, dns, ssl, notice, intel, files
(https://docs.zeek.org/en/current/logs/); others are counted and skipped.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from minerwatch.correlate.stages import Stage, Technique
from minerwatch.ingest import classify
from minerwatch.ingest.fields import (
    Bad,
    address,
    count,
    normal_address,
    port,
    seconds,
    strings,
    text,
    timestamp,
)
from minerwatch.ingest.records import (
    Answer,
    Connection,
    Endpoints,
    FileSeen,
    Finding,
    IntelHit,
    Record,
    Sweep,
)
from minerwatch.intel.dnscache import MIN_TTL

READ = frozenset({"conn", "dns", "ssl", "notice", "intel", "files"})
MAX_FIELDS = 512  # a #fields line naming more is refused (Zeek's largest logs have about 60)
_ESCAPE = re.compile(r"\\x([0-9a-fA-F]{2})")
_ADDRESS = re.compile(r"[0-9A-Fa-f:.]{3,45}")
_NAME = re.compile(r"[A-Za-z0-9_.-]{1,253}")  # a host name (a CNAME target), not a TXT answer or the like
# conn_state of a TCP attempt that Zeek's scan detection (policy/misc/scan.zeek) counts as failed, when no
# data went either way: unanswered (S0), refused (REJ), reset around the handshake (RSTO, RSTOS0, RSTR,
# RSTRH), or half-open (SH, SHR).
FAILED_STATES = frozenset({"S0", "REJ", "RSTO", "RSTOS0", "RSTR", "RSTRH", "SH", "SHR"})
_SWEPT_PORT = re.compile(r"on port (\d{1,5})/")
MAX_ANSWERS = 64

# Zeek's intel types -> the knowledge base's. Others (CERT_HASH, a certificate's hash and no file's; EMAIL,
# USER_NAME...) name nothing minerwatch correlates: those lines are read and dropped.
INTEL_TYPES = {
    "Intel::ADDR": "ip",
    "Intel::SUBNET": "ip",
    "Intel::DOMAIN": "domain",
    "Intel::URL": "url",
    "Intel::FILE_HASH": "hash",
    "Intel::SOFTWARE": "agent",
}


class TsvHeader:
    """The header block of a TSV log: separators and the field names it declares."""

    def __init__(self) -> None:
        self.separator = "\t"
        self.set_separator = ","
        self.empty = "(empty)"
        self.unset = "-"
        self.path = ""
        self.fields: list[str] = []
        self.containers: set[str] = set()  # fields whose type is a set or a vector

    def directive(self, line: str) -> None:
        """One `#...` line."""
        if line.startswith("#separator "):
            self.separator = _unescape(line[len("#separator ") :]) or "\t"
            return
        name, _, value = line[1:].partition(self.separator)
        if name == "set_separator":
            self.set_separator = _unescape(value) or ","
        elif name == "empty_field":
            self.empty = value
        elif name == "unset_field":
            self.unset = value
        elif name == "path":
            self.path = value[:64]
        elif name == "fields":
            self.fields = value.split(self.separator)
            if len(self.fields) > MAX_FIELDS:
                self.fields = []
                raise Bad(f"#fields names more than {MAX_FIELDS} fields")
        elif name == "types":
            types = value.split(self.separator)
            self.containers = {
                f
                for f, t in zip(self.fields, types, strict=False)
                if t.startswith(("set[", "vector[", "table["))
            }

    def entry(self, line: str) -> dict[str, Any]:
        if not self.fields:
            raise Bad("a log line before any #fields header")
        values = line.split(self.separator, len(self.fields))
        if len(values) != len(self.fields):
            raise Bad(f"{len(values)} values for {len(self.fields)} fields")
        out: dict[str, Any] = {}
        for name, value in zip(self.fields, values, strict=True):
            if value == self.unset:
                continue
            if name in self.containers:
                out[name] = (
                    [] if value == self.empty else [_unescape(v) for v in value.split(self.set_separator)]
                )
            else:
                out[name] = "" if value == self.empty else _unescape(value)
        return out


def _unescape(value: str) -> str:
    if "\\x" not in value:
        return value
    return _ESCAPE.sub(lambda m: chr(int(m.group(1), 16)), value)


def log_name(file_name: str) -> str:
    """The log a file holds by Zeek's naming (`conn.log`, `conn.2024-01-01-00-00-00.log.gz`, `dns.json`)."""
    return file_name.rsplit("/", 1)[-1].split(".", 1)[0].lower()


def guess_log(entry: dict[str, Any]) -> str:
    """The log of a JSON line with no `_path`, from the fields only that log has."""
    for log, field in (
        ("notice", "note"),
        ("intel", "seen.indicator"),
        ("files", "fuid"),
        ("ssl", "server_name"),
        ("ssl", "cipher"),
        ("dns", "query"),
        ("conn", "conn_state"),
    ):
        if field in entry:
            return log
    return ""


def tsv_entries(lines: Iterator[tuple[int, str]]) -> Iterator[tuple[int, str, dict[str, Any] | Bad]]:
    """(line number, log, entry or the Bad that says why not) of each data line of a TSV log."""
    header = TsvHeader()
    for number, line in lines:
        if not line:
            continue
        if line.startswith("#"):
            if line.startswith("#separator "):
                header = TsvHeader()
            try:
                header.directive(line)
            except Bad as exc:
                yield number, header.path, exc
            continue
        try:
            yield number, header.path, header.entry(line)
        except Bad as exc:
            yield number, header.path, exc


def record(log: str, entry: dict[str, Any], line: int) -> list[Record]:
    """The Records of one entry of `log` (a notice may name several victims); [] for a log not read."""
    if log not in READ:
        return []
    ts = timestamp(entry.get("ts"), "ts")
    base: dict[str, Any] = {"sensor": "zeek", "log": log, "line": line, "ts": ts}
    if log == "notice":
        return _notice(entry, base)
    if log == "files":
        return _file(entry, base)
    ends = _endpoints(entry)
    if log == "conn":
        return [Record(**base, endpoints=ends, lookup_addresses=True, connection=_connection(entry, ts))]
    if log == "dns":
        values = strings(entry.get("answers"), "answers", MAX_ANSWERS)
        answers = [a for a in values if not _ADDRESS.fullmatch(a)]
        names = tuple(dict.fromkeys(n for n in [text(entry, "query"), *answers] if n))[:16]
        resolved = _answers(values, entry.get("TTLs"), [n for n in names if _NAME.fullmatch(n)])
        return [Record(**base, endpoints=ends, domains=names, answers=resolved)]
    if log == "ssl":
        return [
            Record(
                **base,
                endpoints=ends,
                domains=tuple(n for n in [text(entry, "server_name")] if n),
                ja3=tuple(v for v in [text(entry, "ja3")] if v),
                ja4=tuple(v for v in [text(entry, "ja4")] if v),
            )
        ]
    kind = INTEL_TYPES.get(text(entry, "seen.indicator_type") or "")
    if kind is None:
        return []
    hit = IntelHit(
        indicator_type=kind,
        indicator=text(entry, "seen.indicator", required=True) or "",
        sources=",".join(strings(_listed(entry.get("sources")), "sources", 8)),
        where=text(entry, "seen.where") or "",
    )
    return [Record(**base, endpoints=ends, intel=hit)]


def _connection(entry: dict[str, Any], ts: float) -> Connection:
    """When the connection ran and how it went, from `duration`, `resp_pkts`, `conn_state` and `history`."""
    state = text(entry, "conn_state") or ""
    replies = count(entry, "resp_pkts")
    history = text(entry, "history") or ""
    no_data = "D" not in history and "d" not in history
    return Connection(
        start=ts,
        end=ts + seconds(entry.get("duration"), 0.0),
        answered=replies > 0 if replies is not None else state not in ("", "S0", "OTH"),
        failed=(text(entry, "proto") or "").lower() == "tcp" and state in FAILED_STATES and no_data,
    )


def _answers(values: list[str], ttls: Any, names: list[str]) -> tuple[Answer, ...]:
    """Each address answered, for every name of the chain (the query and the CNAME targets: Zeek's
    `answers` does not say which name owns which record), with its TTL from `TTLs` (same order)."""
    ttls = ttls if isinstance(ttls, list) else []
    out: list[Answer] = []
    for number, value in enumerate(values):
        if (resolved := normal_address(value)) is None:
            continue
        ttl = seconds(ttls[number], MIN_TTL) if number < len(ttls) else MIN_TTL
        out += [Answer(name, resolved, ttl) for name in names]
    return tuple(out[:MAX_ANSWERS])


def _listed(value: Any) -> Any:
    """A set field: a list in TSV and JSON, though a hand-made JSON log may give one string."""
    return [value] if isinstance(value, str) else value


def _endpoints(entry: dict[str, Any]) -> Endpoints:
    proto = (text(entry, "proto") or "tcp").upper()
    return Endpoints(
        client=address(entry, "id.orig_h"),
        client_port=port(entry, "id.orig_p"),
        server=address(entry, "id.resp_h"),
        server_port=port(entry, "id.resp_p"),
        proto=proto,
    )


# Notices whose victims are known: note -> (kind, where the victims are).
NOTICES = {
    "Scan::Port_Scan": classify.Kind(Stage.RECONNAISSANCE, Technique.ACTIVE_SCANNING),
    "SSH::Password_Guessing": classify.Kind(Stage.ATTEMPTED_ATTACK, Technique.BRUTE_FORCE),
    "SSH::Login_By_Password_Guesser": classify.Kind(Stage.EXPLOITATION, Technique.BRUTE_FORCE),
}
NOTICE_LEVEL, NOTICE_CONFIDENCE = 0.6, 0.8
MAX_VICTIMS = 32


def _notice(entry: dict[str, Any], base: dict[str, Any]) -> list[Record]:
    """Scan::Port_Scan names its victim in `dst`; SSH::Password_Guessing samples them in `sub` ("Sampled
    servers: a, b"); a notice about a connection names it in `id.*`. Address_Scan names none, only the
    scanner and the port: a Sweep, joined with the conn logs' failed attempts at the end (sweeps.py)."""
    note = text(entry, "note", required=True) or ""
    message = text(entry, "msg") or ""
    if note == "Scan::Address_Scan":
        return [_sweep(entry, base, message)]
    kind = NOTICES.get(note) or classify.classify(f"{note} | {message}", {})
    if kind is None:
        return []
    attacker = address(entry, "src") if "src" in entry else None
    victims: list[str] = []
    if "dst" in entry:
        victims.append(address(entry, "dst"))
    elif "id.resp_h" in entry:
        victims.append(address(entry, "id.resp_h"))
        attacker = attacker or address(entry, "id.orig_h")
    elif note == "SSH::Password_Guessing":
        sampled = (text(entry, "sub") or "").partition(":")[2]
        victims = [address({"sub": v.strip()}, "sub") for v in sampled.split(",") if v.strip()]
    if not classify.attacked_side(kind.stage) and attacker is not None:
        victims, attacker = [attacker], victims[0] if victims else None
    ends = None
    if "id.orig_h" in entry and "id.resp_h" in entry:
        ends = _endpoints(entry)
    return [
        Record(
            **base,
            endpoints=ends,
            finding=Finding(
                stage=kind.stage,
                technique=kind.technique,
                host=victim,
                peer=attacker,
                label=f"zeek {note}: {message}"[:300],
                level=NOTICE_LEVEL,
                confidence=NOTICE_CONFIDENCE,
                service="ssh" if note.startswith("SSH::") else None,
            ),
        )
        for victim in dict.fromkeys(victims[:MAX_VICTIMS])
    ]


def _sweep(entry: dict[str, Any], base: dict[str, Any], message: str) -> Record:
    """Scan::Address_Scan as scan.zeek writes it: `src` the scanner, `p` the port (else the message's
    "on port 22/tcp")."""
    if "p" in entry:
        swept = port(entry, "p")
    elif found := _SWEPT_PORT.search(message):
        swept = port({"p": found.group(1)}, "p")
    else:
        raise Bad("Scan::Address_Scan without a port (p)")
    label = f"zeek Scan::Address_Scan: {message}"[:300]
    return Record(**base, endpoints=None, sweep=Sweep(address(entry, "src"), swept, label))


def _file(entry: dict[str, Any], base: dict[str, Any]) -> list[Record]:
    """Up to Zeek 5 a file names its hosts in tx_hosts/rx_hosts; from Zeek 6 in `id.*` and `is_orig` (the
    originator sent it)."""
    if "rx_hosts" in entry:
        receivers = strings(_listed(entry.get("rx_hosts")), "rx_hosts", 4)
        senders = strings(_listed(entry.get("tx_hosts")), "tx_hosts", 4)
        receiver = address({"rx_hosts": receivers[0] if receivers else None}, "rx_hosts")
        sender = address({"tx_hosts": senders[0]}, "tx_hosts") if senders else None
    elif "id.orig_h" in entry:
        sent_by_client = entry.get("is_orig") in (True, "T")
        receiver = address(entry, "id.resp_h" if sent_by_client else "id.orig_h")
        sender = address(entry, "id.orig_h" if sent_by_client else "id.resp_h")
    else:
        raise Bad("no receiving host (rx_hosts or id.orig_h)")
    seen = FileSeen(
        receiver=receiver,
        sender=sender,
        name=text(entry, "filename"),
        kind=text(entry, "mime_type") or "",
        sha256=text(entry, "sha256"),
        md5=text(entry, "md5"),
    )
    return [Record(**base, endpoints=None, file=seen)]
