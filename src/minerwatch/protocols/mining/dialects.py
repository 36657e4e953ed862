"""Every pool dialect, registered once: adding one is a module that exports its `FAMILY` (a DialectFamily
of protocols/mining/messages.py) and one line here. The pool session, the HTTP consumer and the behaviour
engine read what they need from the tables below; no other module names a dialect's flags."""

from __future__ import annotations

from minerwatch.protocols.mining import coinhive, cryptonote, ethproxy, getwork, stratum
from minerwatch.protocols.mining.messages import Dialect, DialectFamily, ReplyJob, RequestParser

# Later families win a method name two of them define (none do today).
FAMILIES: tuple[DialectFamily, ...] = (
    stratum.FAMILY,
    ethproxy.FAMILY,
    cryptonote.FAMILY,
    getwork.FAMILY,
    coinhive.FAMILY,
)

DIALECTS: dict[str, Dialect] = {d.name: d for family in FAMILIES for d in family.dialects}
REQUESTS: dict[str, RequestParser] = {m: p for family in FAMILIES for m, p in family.requests.items()}
REPLY_JOBS: dict[str, ReplyJob] = {m: p for family in FAMILIES for m, p in family.reply_jobs.items()}
NULL_MEANS_ACCEPTED = frozenset().union(*(family.null_means_accepted for family in FAMILIES))
LOGIN_REGISTERS = frozenset(name for name, d in DIALECTS.items() if d.login_registers)
HEADER_WORK = frozenset(name for name, d in DIALECTS.items() if d.header_work)
HTTP_NAMES = {name: d.http_name for name, d in DIALECTS.items() if d.http_name is not None}
