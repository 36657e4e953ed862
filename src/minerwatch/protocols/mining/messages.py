"""Typed pool-protocol messages, common to every dialect, and target-to-difficulty conversions.

A message knows its dialect and whether the miner or the pool sent it, from its meaning (a subscribe comes
from a miner, a job from a pool), never from ports: pools run on 80, 443 and anything else.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

# Largest target a share can have, per family: difficulty = DIFF1 / target.
ETHASH_DIFF1 = 1 << 256  # eth getWork boundary = 2**256 / difficulty
SHA256D_DIFF1 = 0xFFFF << 208  # Bitcoin pool difficulty-1 target (getwork, getblocktemplate)
EQUIHASH_DIFF1 = 0x0007FFFF << (256 - 32)  # ZCash powLimit, the pool difficulty-1 target


@dataclass(slots=True, kw_only=True)
class MiningMessage:
    dialect: str  # stratum | ethereumstratum | eth-proxy | cryptonote | getwork | getblocktemplate | ...
    method: str
    from_miner: bool
    id: Any = None


@dataclass(slots=True, kw_only=True)
class Registration(MiningMessage):
    """mining.subscribe (Stratum, EthereumStratum): the miner announces itself, often with its agent."""

    agent: str | None = None
    protocol: str | None = None


@dataclass(slots=True, kw_only=True)
class Login(MiningMessage):
    """mining.authorize, eth_submitLogin, CryptoNote login: the account the miner works for."""

    login: str
    password: str | None = None
    worker: str | None = None
    agent: str | None = None
    algorithms: tuple[str, ...] = ()
    rigid: str | None = None
    extensions: tuple[str, ...] = ()  # HTTP getwork: X-Mining-Extensions the miner announces


@dataclass(slots=True, kw_only=True)
class Job(MiningMessage):
    """Work dispatched by the pool: mining.notify, CryptoNote job, eth getWork result."""

    job_id: str | None
    shape: str  # bitcoin | equihash | ethash | cryptonote | getwork
    algorithm: str | None = None
    target: str | None = None
    difficulty: float | None = None
    height: int | None = None
    seed_hash: str | None = None
    clean: bool | None = None
    fields: dict[str, Any] = field(default_factory=dict)
    source: Any = None  # the job's JSON params as sent, for identity.algorithm_from_job


@dataclass(slots=True, kw_only=True)
class Submit(MiningMessage):
    """A share: mining.submit, CryptoNote submit, eth_submitWork."""

    job_id: str | None = None
    login: str | None = None
    nonce: str | None = None


@dataclass(slots=True, kw_only=True)
class Difficulty(MiningMessage):
    """mining.set_difficulty / set_target; also the target carried by a job."""

    difficulty: float | None
    target: str | None = None


@dataclass(slots=True, kw_only=True)
class Hashrate(MiningMessage):
    """eth_submitHashrate: the miner reports its speed (hashes/s)."""

    hashrate: float | None


@dataclass(slots=True, kw_only=True)
class Control(MiningMessage):
    """Other protocol methods: extranonce, configure, ping, reconnect, show_message, keepalived..."""

    params: Any = None


@dataclass(slots=True, kw_only=True)
class Redirect(MiningMessage):
    """The pool sends the miner elsewhere: an HTTP pool's X-Stratum header names its Stratum endpoint."""

    target: str


@dataclass(slots=True, kw_only=True)
class Reply(MiningMessage):
    """An answer, paired with the request it answers (None when the request was not seen)."""

    request: MiningMessage | None
    ok: bool
    error: str | None = None
    result: Any = None


def hex_int(text: Any, little_endian: bool = False) -> int | None:
    """An integer from hex text (with or without 0x); None if it is not hex."""
    if not isinstance(text, str) or not text or len(text) > 130:
        return None
    digits = text[2:] if text[:2] in ("0x", "0X") else text
    try:
        raw = bytes.fromhex(digits)
    except ValueError:
        return None
    return int.from_bytes(raw, "little" if little_endian else "big")


def difficulty_from_target(target: int | None, diff1: int) -> float | None:
    if not target:
        return None
    return diff1 / target


def cryptonote_difficulty(target_hex: Any) -> float | None:
    """CryptoNote pools send a 4- or 8-byte little-endian target: difficulty = (2^32 or 2^64 - 1) / target."""
    value = hex_int(target_hex, little_endian=True)
    if not value or not isinstance(target_hex, str):
        return None
    bits = 32 if len(target_hex) <= 8 else 64
    return ((1 << bits) - 1) / value


def text(value: Any, limit: int = 512) -> str | None:
    """A bounded string from a JSON value (numbers become text), None for anything else."""
    if isinstance(value, str):
        return value[:limit]
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    return None


def param(params: Any, index: int) -> Any:
    return params[index] if isinstance(params, list) and len(params) > index else None


RequestParser = Callable[[Any, dict[str, Any]], MiningMessage | None]
ReplyJob = Callable[[Any], MiningMessage | None]


@dataclass(frozen=True)
class Dialect:
    """One dialect's own facts, stated in its module and read by every detector through dialects.py."""

    name: str  # the `dialect` of its messages and events
    login_registers: bool = False  # no separate subscribe: its login is also the registration (stage 1)
    header_work: bool = False  # jobs are Bitcoin-style block headers (sha256d unless the pool says)
    http_name: str | None = None  # what the same JSON is called when it travels over HTTP


@dataclass(frozen=True)
class DialectFamily:
    """What one protocols/mining/<family>.py module speaks: its dialects and its JSON-RPC parsers."""

    dialects: tuple[Dialect, ...]
    requests: Mapping[str, RequestParser] = field(default_factory=dict)  # method -> parser
    reply_jobs: Mapping[str, ReplyJob] = field(default_factory=dict)  # request method -> job in the answer
    null_means_accepted: frozenset[str] = frozenset()  # methods a null result accepts (submitblock)
