"""The CryptoNote pool protocol (Monero and its forks) as xmrig and xmr-stak speak it.

login {login, pass, agent, algo[], rigid} answered by {id, job, status}; job pushes {blob, job_id, target,
algo, height, seed_hash}; submit {id, job_id, nonce, result}; keepalived; getjob.
"""

from __future__ import annotations

from typing import Any

from minerwatch.protocols.mining.messages import (
    Control,
    Dialect,
    DialectFamily,
    Job,
    Login,
    MiningMessage,
    Submit,
    cryptonote_difficulty,
    text,
)

CRYPTONOTE = "cryptonote"


def login(params: Any, obj: dict[str, Any]) -> MiningMessage | None:
    if not isinstance(params, dict) or text(params.get("login")) is None:
        return None
    algos = params.get("algo")
    return Login(
        dialect=CRYPTONOTE,
        method="login",
        from_miner=True,
        login=text(params["login"]) or "",
        password=text(params.get("pass")),
        agent=text(params.get("agent")),
        algorithms=tuple(a[:32] for a in algos[:64] if isinstance(a, str)) if isinstance(algos, list) else (),
        rigid=text(params.get("rigid")),
    )


def job(params: Any, obj: dict[str, Any] | None = None, method: str = "job") -> Job | None:
    if not isinstance(params, dict) or not isinstance(params.get("blob"), str) or "job_id" not in params:
        return None
    target = text(params.get("target"))
    height = params.get("height")
    return Job(
        dialect=CRYPTONOTE,
        method=method,
        from_miner=False,
        job_id=text(params.get("job_id")),
        shape="cryptonote",
        algorithm=text(params.get("algo")),
        target=target,
        difficulty=cryptonote_difficulty(target),
        height=height if isinstance(height, int) and not isinstance(height, bool) else None,
        seed_hash=text(params.get("seed_hash")),
        fields={"blob_length": len(params["blob"]) // 2},
        source=params,
    )


def submit(params: Any, obj: dict[str, Any]) -> MiningMessage | None:
    if not isinstance(params, dict) or "job_id" not in params or "nonce" not in params:
        return None
    return Submit(
        dialect=CRYPTONOTE,
        method="submit",
        from_miner=True,
        job_id=text(params.get("job_id")),
        nonce=text(params.get("nonce")),
    )


def keepalived(params: Any, obj: dict[str, Any]) -> MiningMessage:
    return Control(dialect=CRYPTONOTE, method="keepalived", from_miner=True, params=params)


def getjob(params: Any, obj: dict[str, Any]) -> MiningMessage:
    return Control(dialect=CRYPTONOTE, method="getjob", from_miner=True, params=params)


def login_job(result: Any) -> Job | None:
    return job(result.get("job"), method="login") if isinstance(result, dict) else None


def getjob_job(result: Any) -> Job | None:
    return job(result, method="getjob")


REQUESTS = {"login": login, "job": job, "submit": submit, "keepalived": keepalived, "getjob": getjob}
REPLY_JOBS = {"login": login_job, "getjob": getjob_job}
FAMILY = DialectFamily(
    dialects=(Dialect(CRYPTONOTE, login_registers=True),), requests=REQUESTS, reply_jobs=REPLY_JOBS
)
