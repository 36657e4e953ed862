"""YARA scanning of carved files with the shipped rules (rules/yara/) and the user's rule directories.

Each rule file is compiled in its own namespace (`minerwatch.<stem>` for shipped files, `user.<stem>` for
the user's), so rule names may repeat across files. A rule file that does not compile is an input error
at start-up, reported in one line, rather than a detection silently missing.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cached_property
from importlib import resources
from pathlib import Path
from typing import Any

import yara

from minerwatch.errors import InputError

RULE_SUFFIXES = (".yar", ".yara")
SCAN_TIMEOUT = 10  # seconds per file: a pathological rule must not stall the analysis
USER_SID_BASE = 9_900_000  # signature ids of user rules without a `sid` meta: base + crc32 % 100000


@dataclass(frozen=True, slots=True)
class YaraMatch:
    rule: str
    namespace: str
    tags: tuple[str, ...]
    meta: dict[str, Any]
    strings: tuple[str, ...]  # identifiers of the strings that matched

    def as_dict(self) -> dict[str, Any]:
        return {
            "rule": self.rule,
            "namespace": self.namespace,
            "tags": list(self.tags),
            "meta": self.meta,
            "strings": list(self.strings),
        }

    @property
    def signature_id(self) -> int:
        sid = self.meta.get("sid")
        if isinstance(sid, int):
            return sid
        return USER_SID_BASE + zlib.crc32(f"{self.namespace}:{self.rule}".encode()) % 100_000


def shipped_rules_dir() -> Path:
    return Path(str(resources.files("minerwatch") / "rules" / "yara"))


def rule_files(directories: Iterable[Path], prefix: str) -> dict[str, str]:
    """Namespace -> path for every rule file directly in `directories`, in a stable order."""
    found: dict[str, str] = {}
    for directory in directories:
        if not directory.is_dir():
            raise InputError(f"YARA rule directory not found: {directory}")
        for path in sorted(directory.iterdir()):
            if path.suffix in RULE_SUFFIXES and path.is_file():
                namespace = f"{prefix}.{path.stem}"
                while namespace in found:
                    namespace += "_"
                found[namespace] = str(path)
    return found


class YaraScanner:
    def __init__(self, user_dirs: Iterable[Path] = ()) -> None:
        user = rule_files(user_dirs, "user")
        self.files = rule_files([shipped_rules_dir()], "minerwatch") | user
        self.rule_files = len(self.files)
        self.timeouts = 0
        self.errors = 0
        if user:  # a user's rule that does not compile is an error now, not at the first carved file
            self.rules  # noqa: B018

    @cached_property
    def rules(self) -> yara.Rules | None:
        """Compiled at the first scan when only the shipped rules are loaded (most analyses carve
        nothing, and compiling costs a few milliseconds of every start-up); tests compile them."""
        try:
            return yara.compile(filepaths=self.files) if self.files else None
        except yara.Error as exc:
            raise InputError(f"YARA rules do not compile: {exc}") from exc

    def scan(self, data: bytes) -> list[YaraMatch]:
        if self.rules is None or not data:
            return []
        try:
            matches = self.rules.match(data=data, timeout=SCAN_TIMEOUT)
        except yara.TimeoutError:
            self.timeouts += 1
            return []
        except yara.Error:
            self.errors += 1
            return []
        return [
            YaraMatch(
                m.rule,
                m.namespace,
                tuple(m.tags),
                dict(m.meta),
                tuple(sorted({s.identifier for s in m.strings})),
            )
            for m in matches
        ]
