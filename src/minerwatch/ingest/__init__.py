"""`minerwatch ingest`: Suricata EVE JSON and Zeek logs become the typed observations the correlators take,
so that sites running those sensors get incidents from the logs they already have (docs/ingest.md).

suricata.py and zeek.py read each sensor's format into Records (records.py); reader.py streams a file and
tells the formats apart; classify.py maps an alert or notice to its kill-chain stage; session.py turns
Records into observations and events and ends with the verdicts, incidents and statistics.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from minerwatch.errors import InputError
from minerwatch.ingest.reader import FileStats, read
from minerwatch.ingest.session import IngestSession
from minerwatch.ingest.zeek import log_name

__all__ = ["IngestSession", "ingest"]


def ingest(session: IngestSession, paths: Iterable[Path]) -> tuple[list[FileStats], list[str]]:
    """Feed every log to `session`; a file that cannot be read is one line in the errors returned and the
    others are still read (what came before a fault in a file is kept). Zeek DNS logs (by their names:
    `dns.log`, `dns.*.log.gz`) go first, so that their answers name the connections of the other logs
    whatever order the files were given in; the others keep their order."""
    files, errors = [], []
    for path in sorted(paths, key=lambda p: log_name(p.name) != "dns"):
        stats = FileStats(str(path))
        files.append(stats)
        try:
            for record in read(path, stats):
                session.feed(record)
        except InputError as exc:
            errors.append(str(exc))
    return files, errors
