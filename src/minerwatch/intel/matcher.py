"""In-memory lookups over a knowledge base snapshot, at a cost that does not depend on its size.

- domains: the observed name and each of its parent suffixes are looked up in one dict, so an
  indicator `pool.example` matches `pool.example` and `eu1.xmr.pool.example` (cost: label count);
- IPs and CIDRs: one dict per prefix length present, keyed by the address shifted to that length
  (cost: number of distinct prefix lengths, at most 33 for IPv4 and 129 for IPv6);
- wallets, hashes, JA3/JA4: exact dicts; agents: each product token of the agent string;
- ports: a separate dict whose hits are weak evidence (see Hit.weak).

Dict values are indices into a table of interned `Meta` records (source, family, confidence...), so
a million indicators from a few feeds cost one dict entry each rather than one object each.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Iterable
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

from minerwatch.intel import normalize
from minerwatch.intel.model import Hit, Meta
from minerwatch.intel.store import KnowledgeBase, damaged

_Refs = int | tuple[int, ...]
_EXACT_TYPES = ("wallet", "hash", "agent", "ja3", "ja4")
_MAX_LABELS = 127
_AGENT_TOKENS = 16
_NET = {4: ipaddress.IPv4Network, 6: ipaddress.IPv6Network}
_ADDR = {4: ipaddress.IPv4Address, 6: ipaddress.IPv6Address}
_MAPPED_PREFIX = 0xFFFF << 32  # ::ffff:0:0/96, IPv4-mapped IPv6
_MAPPED_BYTES = _MAPPED_PREFIX.to_bytes(16, "big")[:12]
_MAX_NAME = 1024
_MAX_AGENT = 1024  # characters of an agent string matched
_MAX_ADDRESS_TEXT = 45  # the longest IPv6 text (an IPv4 tail included)
_MEMO = 4096  # names and addresses whose table entries are remembered


def _parse_ip(ip: str | bytes) -> tuple[int, int]:
    """(4 or 6, address as int) from text or packed bytes; IPv4-mapped IPv6 becomes IPv4.

    socket.inet_pton is strict and an order of magnitude cheaper than ipaddress on the hot path.
    """
    if isinstance(ip, str):
        packed = socket.inet_pton(socket.AF_INET6 if ":" in ip else socket.AF_INET, ip)
    else:
        packed = bytes(ip)
        if len(packed) not in (4, 16):
            raise ValueError("packed address must be 4 or 16 bytes")
    number = int.from_bytes(packed, "big")
    if len(packed) == 4:
        return 4, number
    if number >> 32 == _MAPPED_PREFIX >> 32:
        return 4, number & 0xFFFFFFFF
    return 6, number


def _add(table: dict[Any, _Refs], key: Any, ref: int) -> None:
    old = table.get(key)
    if old is None:
        table[key] = ref
    elif isinstance(old, int):
        if old != ref:
            table[key] = (old, ref)
    elif ref not in old:
        table[key] = (*old, ref)


def _epoch(text: str | None) -> float | None:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp() if text else None


class IntelMatcher:
    """Build with `IntelMatcher.load(db_path)` (or `from_rows`); then call the match_* methods."""

    def __init__(self) -> None:
        self._metas: list[Meta] = []
        self._meta_index: dict[Meta, int] = {}
        self._domains: dict[str, _Refs] = {}
        self._nets: dict[int, dict[int, dict[int, _Refs]]] = {4: {}, 6: {}}  # version -> plen -> key
        self._prefixes: dict[int, list[int]] = {4: [], 6: []}  # longest first
        # Per version, one byte per value of an address's first 16 bits: 1 where some stored address or
        # network holds such addresses. Every flow's two addresses are looked up and nearly all are in no
        # feed: one index says so for a packed address, with no cache lookup (64 KiB each).
        self._screen: dict[int, bytearray] = {4: bytearray(1 << 16), 6: bytearray(1 << 16)}
        self._exact: dict[str, dict[str, _Refs]] = {t: {} for t in _EXACT_TYPES}
        self._ports: dict[int, _Refs] = {}
        self.count = 0
        # Names and addresses recur (every connection to a site, every answer of a resolver): what the
        # tables hold for each is looked up once, in bounded caches (the tables never change once built).
        self._domain_refs = lru_cache(maxsize=_MEMO)(self._find_domain)
        self._ip_refs = lru_cache(maxsize=_MEMO)(self._find_ip)
        self._agent_refs = lru_cache(maxsize=_MEMO)(self._find_agent)

    @classmethod
    def load(cls, db_path: Path | str | None = None) -> IntelMatcher:
        """Snapshot of the KB at `db_path` (default: see store.default_path), opened read-only: feeds, the
        shipped set, and the discovered pools (see KnowledgeBase.match_rows)."""
        with KnowledgeBase.read(db_path) as kb:
            kb.conn.execute("BEGIN")
            rows = kb.match_rows()
            try:
                return cls.from_rows(rows)
            except (ValueError, OSError) as exc:  # values were normalised on import: the file is damaged
                raise damaged(kb.path, f"a stored indicator does not parse: {exc}") from None
            finally:
                rows.close()  # while the connection is open (its cursor is closed with it)
                if kb.conn.in_transaction:
                    kb.conn.execute("COMMIT")

    @classmethod
    def from_rows(cls, rows: Iterable[tuple[Any, ...]]) -> IntelMatcher:
        """From KnowledgeBase.rows() tuples (values already normalised on import).

        Metas are interned by their raw columns, so a million rows from a few feeds build a few Meta
        objects, not a million (a third of the load time)."""
        matcher = cls()
        refs: dict[tuple[Any, ...], int] = {}
        for source, kind, value, family, tags, conf, _first, _last, valid_until, reference in rows:
            key = (source, family, tags, conf, reference, valid_until)
            ref = refs.get(key)
            if ref is None:
                ref = refs[key] = matcher._intern(
                    Meta(
                        source,
                        family or "",
                        tuple(tags.split(",")) if tags else (),
                        conf,
                        reference or "",
                        _epoch(valid_until),
                    )
                )
            matcher._insert(kind, value, ref)
        for version, nets in matcher._nets.items():
            matcher._prefixes[version] = sorted(nets, reverse=True)
        return matcher

    def _intern(self, meta: Meta) -> int:
        ref = self._meta_index.get(meta)
        if ref is None:
            ref = self._meta_index[meta] = len(self._metas)
            self._metas.append(meta)
        return ref

    def _insert(self, kind: str, value: str, ref: int) -> None:
        self.count += 1
        if kind == "domain":
            _add(self._domains, value, ref)
        elif kind == "ip":
            address, _, plen_text = value.partition("/")
            version, number = _parse_ip(address)
            bits = 32 if version == 4 else 128
            plen = int(plen_text) if plen_text else bits
            _add(self._nets[version].setdefault(plen, {}), number >> (bits - plen), ref)
            top = number >> (bits - 16)  # the first 16 bits of the network's addresses
            span = 1 << max(0, 16 - plen)  # how many such values it covers
            start = top & ~(span - 1)
            self._screen[version][start : start + span] = b"\x01" * span
        elif kind == "port":
            _add(self._ports, int(value), ref)
        elif kind in self._exact:
            _add(self._exact[kind], value, ref)

    def _hits(self, kind: str, indicator: str, observed: str, refs: _Refs, ts: float | None) -> list[Hit]:
        metas = [self._metas[refs]] if isinstance(refs, int) else [self._metas[r] for r in refs]
        return [
            Hit(kind, indicator, observed, m)
            for m in metas
            if ts is None or m.valid_until is None or ts <= m.valid_until
        ]

    def match_domain(self, name: str, ts: float | None = None) -> list[Hit]:
        """Hits for `name` or any parent domain of it; `ts` (capture time) drops expired indicators."""
        if not name or len(name) > _MAX_NAME:
            return []
        hits: list[Hit] = []
        for suffix, refs in self._domain_refs(name):
            hits += self._hits("domain", suffix, name, refs, ts)
        return hits

    def _find_domain(self, name: str) -> tuple[tuple[str, _Refs], ...]:
        """(indicator, refs) for `name` and each of its parent domains that is stored."""
        key = name.rstrip(".").lower() if name.isascii() else _idna(name)
        if key is None:
            return ()
        labels = key.split(".", _MAX_LABELS)
        found = []
        for i in range(len(labels) - 1):
            suffix = ".".join(labels[i:]) if i else key
            refs = self._domains.get(suffix)
            if refs is not None:
                found.append((suffix, refs))
        return tuple(found)

    def has(self, kind: str) -> bool:
        """Whether any indicator of an exact-match type (wallet, hash, agent, ja3, ja4) is loaded, so a
        caller can skip computing what nothing could match (a JA4 costs a hash per TLS flow)."""
        return bool(self._exact.get(kind))

    def match_ip(self, ip: str | bytes, ts: float | None = None) -> list[Hit]:
        """Hits for an address (text, or 4/16 packed bytes) in any stored address or CIDR."""
        if len(ip) > _MAX_ADDRESS_TEXT or not self._may_hold(ip) or not (found := self._ip_refs(ip)):
            return []
        hits: list[Hit] = []
        for text, observed, refs in found:
            hits += self._hits("ip", text, observed, refs, ts)
        return hits

    def _may_hold(self, ip: str | bytes) -> bool:
        """False when `ip`, packed, starts with 16 bits that no stored address or network has (text: True,
        it is parsed on the way)."""
        if not isinstance(ip, bytes):
            return True
        if len(ip) == 4:
            return self._screen[4][ip[0] << 8 | ip[1]] == 1
        if len(ip) == 16 and ip.startswith(_MAPPED_BYTES):
            return self._screen[4][ip[12] << 8 | ip[13]] == 1
        return len(ip) != 16 or self._screen[6][ip[0] << 8 | ip[1]] == 1

    def _find_ip(self, ip: str | bytes) -> tuple[tuple[str, str, _Refs], ...]:
        """(indicator, address text, refs) for each stored address or CIDR that holds `ip`."""
        try:
            version, number = _parse_ip(ip)
        except (ValueError, OSError, TypeError):
            return ()
        nets = self._nets[version]
        if not nets:
            return ()
        bits = 32 if version == 4 else 128
        found = []
        for plen in self._prefixes[version]:
            refs = nets[plen].get(number >> (bits - plen))
            if refs is not None:
                observed = str(_ADDR[version](number))
                network = _NET[version]((number >> (bits - plen) << (bits - plen), plen))
                found.append((observed if plen == bits else str(network), observed, refs))
        return tuple(found)

    def _exact_match(self, kind: str, key: str, observed: str, ts: float | None) -> list[Hit]:
        refs = self._exact[kind].get(key)
        return [] if refs is None else self._hits(kind, key, observed, refs, ts)

    def match_wallet(self, login: str, ts: float | None = None) -> list[Hit]:
        """Hits for a wallet, also when the login appends a worker, payment id or difficulty to it."""
        text = login.strip()
        candidates = {text.lower() if text[:2].lower() == "0x" else text}
        for sep in ".+/@:":
            head = text.split(sep, 1)[0]
            candidates.add(head.lower() if head[:2].lower() == "0x" else head)
        hits: list[Hit] = []
        for key in candidates:
            hits += self._exact_match("wallet", key, login, ts)
        return hits

    def match_hash(self, digest: str, ts: float | None = None) -> list[Hit]:
        return self._exact_match("hash", digest.strip().lower(), digest, ts)

    def match_ja3(self, fingerprint: str, ts: float | None = None) -> list[Hit]:
        return self._exact_match("ja3", fingerprint.strip().lower(), fingerprint, ts)

    def match_ja4(self, fingerprint: str, ts: float | None = None) -> list[Hit]:
        return self._exact_match("ja4", fingerprint.strip().lower(), fingerprint, ts)

    def match_agent(self, agent: str, ts: float | None = None) -> list[Hit]:
        """Hits for the whole agent string, or any 'product/version' token, or any product name."""
        hits: list[Hit] = []
        for key, refs in self._agent_refs(" ".join(agent.split()).lower()[:_MAX_AGENT]):
            hits += self._hits("agent", key, agent, refs, ts)
        return hits

    def _find_agent(self, text: str) -> tuple[tuple[str, _Refs], ...]:
        """(indicator, refs) for each stored agent among a normalised agent string and its tokens."""
        keys = {text}
        for token in text.replace("(", " ").replace(")", " ").split()[:_AGENT_TOKENS]:
            keys.add(token)
            keys.add(token.split("/", 1)[0])
        table = self._exact["agent"]
        return tuple((key, refs) for key in keys if (refs := table.get(key)) is not None)

    def match_port(self, port: int, ts: float | None = None) -> list[Hit]:
        """Weak evidence only: a well-known pool port (each Hit has weak=True, low confidence)."""
        refs = self._ports.get(port)
        return [] if refs is None else self._hits("port", str(port), str(port), refs, ts)

    def match_url(self, url: str, ts: float | None = None) -> list[Hit]:
        """Hits for the host of a pool URL such as 'stratum+tcp://xmr.pool.example:3333'."""
        try:
            host = normalize.host_of(url)
        except ValueError:
            return []
        try:
            ipaddress.ip_address(host)
        except ValueError:
            return self.match_domain(host, ts)
        return self.match_ip(host, ts)


def _idna(name: str) -> str | None:
    try:
        return normalize.domain(name)
    except ValueError:
        return None
