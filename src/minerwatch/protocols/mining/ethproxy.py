"""The eth-proxy dialect (Ethereum getWork over a stratum-like TCP connection, as Claymore/ethminer speak it).

eth_submitLogin(wallet[, password]) with a top-level "worker"; eth_getWork answered by
[headerhash, seedhash, boundary(, height)]; pools also push that triple as a result with id 0.
"""

from __future__ import annotations

from typing import Any

from minerwatch.protocols.mining.messages import (
    ETHASH_DIFF1,
    Control,
    Dialect,
    DialectFamily,
    Hashrate,
    Job,
    Login,
    MiningMessage,
    Submit,
    difficulty_from_target,
    hex_int,
    param,
    text,
)

ETH_PROXY = "eth-proxy"
ETH_GETWORK = "eth-getwork"


def submit_login(params: Any, obj: dict[str, Any]) -> MiningMessage | None:
    login = text(param(params, 0))
    if login is None:
        return None
    return Login(
        dialect=ETH_PROXY,
        method="eth_submitLogin",
        from_miner=True,
        login=login,
        password=text(param(params, 1)),
        worker=text(obj.get("worker")),
    )


def get_work(params: Any, obj: dict[str, Any]) -> MiningMessage:
    return Control(dialect=ETH_PROXY, method="eth_getWork", from_miner=True, params=params)


def submit_work(params: Any, obj: dict[str, Any]) -> MiningMessage | None:
    if not isinstance(params, list) or len(params) < 3:
        return None
    return Submit(
        dialect=ETH_PROXY,
        method="eth_submitWork",
        from_miner=True,
        nonce=text(params[0]),
        job_id=text(params[1]),
        login=text(obj.get("worker")),
    )


def submit_hashrate(params: Any, obj: dict[str, Any]) -> MiningMessage:
    rate = hex_int(param(params, 0))
    return Hashrate(
        dialect=ETH_PROXY,
        method="eth_submitHashrate",
        from_miner=True,
        hashrate=float(rate) if rate is not None else None,
    )


def work_package(result: Any, method: str = "eth_getWork") -> Job | None:
    """A getWork answer or push: [headerhash, seedhash, boundary, (height)] as hex strings."""
    if not isinstance(result, list) or len(result) < 3 or not all(isinstance(r, str) for r in result[:3]):
        return None
    boundary = hex_int(result[2])
    if hex_int(result[0]) is None or boundary is None:
        return None
    height = hex_int(result[3]) if len(result) > 3 else None
    return Job(
        dialect=ETH_PROXY,
        method=method,
        from_miner=False,
        job_id=result[0][:80],
        shape="ethash",
        algorithm="ethash",
        seed_hash=result[1][:80],
        target=result[2][:80],
        height=height,
        difficulty=difficulty_from_target(boundary, ETHASH_DIFF1),
    )


REQUESTS = {
    "eth_submitLogin": submit_login,
    "eth_getWork": get_work,
    "eth_submitWork": submit_work,
    "eth_submitHashrate": submit_hashrate,
}
REPLY_JOBS = {"eth_getWork": work_package}
# Its login is the registration; over HTTP the same JSON is Ethereum's own getWork.
FAMILY = DialectFamily(
    dialects=(
        Dialect(ETH_PROXY, login_registers=True, http_name=ETH_GETWORK),
        Dialect(ETH_GETWORK, login_registers=True),
    ),
    requests=REQUESTS,
    reply_jobs=REPLY_JOBS,
)
