"""Who mines for whom, as event fields: minerwatch.identity applied to the messages of a pool session.

Kept apart from the behaviour engine so that every transport (TCP, HTTP, WebSocket, decoded streams) gets
the same wallet, agent and algorithm fields without knowing how they are computed.
"""

from __future__ import annotations

from typing import Any

from minerwatch.correlate.verdicts import agent_dict, wallet_dict
from minerwatch.identity import WalletInfo, algorithm_from_job, normalise_algorithm, parse_login
from minerwatch.protocols.mining import Job
from minerwatch.protocols.mining.dialects import HEADER_WORK

HEADER_WORK_BASIS = "getwork/getblocktemplate hand out Bitcoin-style block headers; scrypt coins reuse them"


def login_fields(login: str, password: str | None) -> tuple[dict[str, Any], WalletInfo | None]:
    """Event fields for a login (kind, worker, wallet with its validity, coin hint) and the wallet."""
    info = parse_login(login, password)
    fields: dict[str, Any] = {"login_kind": info.kind}
    if info.worker:
        fields["worker"] = info.worker
    if info.coin_hint:
        fields["coin_hint"] = info.coin_hint
    if info.wallet is not None:
        fields["wallet"] = wallet_dict(info.wallet)
    return fields, info.wallet


def agent_fields(agent: str) -> dict[str, Any]:
    """The miner family and build an agent string reveals (family "unknown" if none matches)."""
    parsed = agent_dict(agent)
    parsed.pop("agent", None)  # the event carries the agent string itself already
    return parsed


def job_algorithm(job: Job) -> tuple[str | None, str | None]:
    """(normalised algorithm, basis): the name the pool sent, or what the job's shape implies."""
    if job.algorithm:
        return normalise_algorithm(job.algorithm), "job names its algorithm"
    if job.shape in HEADER_WORK:
        return "sha256d", HEADER_WORK_BASIS
    guess = algorithm_from_job(job.source) if job.source is not None else None
    if guess is None:
        return None, None
    return guess.algorithm, guess.basis


def normalised_algorithms(names: tuple[str, ...]) -> list[str]:
    """A login's algorithm list, normalised, order kept, duplicates dropped."""
    return list(dict.fromkeys(normalise_algorithm(n) for n in names))
