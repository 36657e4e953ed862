"""Stratum v1 (Bitcoin and its copies, including the Equihash/ZCash form) and EthereumStratum/1.0.0.

References: the Stratum v1 "mining.*" methods as slushpool documented them, BIP 310 (mining.configure),
ZIP 301 (Equihash Stratum: 8-parameter notify, set_target), NiceHash's EthereumStratum/1.0.0 draft.
"""

from __future__ import annotations

from typing import Any

from minerwatch.protocols.mining.messages import (
    EQUIHASH_DIFF1,
    ETHASH_DIFF1,
    Control,
    Dialect,
    DialectFamily,
    Difficulty,
    Job,
    Login,
    MiningMessage,
    Registration,
    Submit,
    difficulty_from_target,
    hex_int,
    param,
    text,
)

STRATUM = "stratum"
ETHEREUM_STRATUM = "ethereumstratum"

# Methods that carry no behaviour, with who sends them.
CONTROL_FROM_MINER = frozenset(
    {
        "mining.extranonce.subscribe",
        "mining.configure",
        "mining.suggest_difficulty",
        "mining.suggest_target",
        "mining.get_transactions",
        "mining.multi_version",
        "mining.hashrate",
    }
)
CONTROL_FROM_POOL = frozenset(
    {"mining.set_extranonce", "mining.ping", "client.reconnect", "client.show_message", "client.get_version"}
)


def subscribe(params: Any, obj: dict[str, Any]) -> MiningMessage:
    protocol = text(param(params, 1))
    dialect = ETHEREUM_STRATUM if protocol and protocol.startswith("EthereumStratum") else STRATUM
    return Registration(
        dialect=dialect,
        method="mining.subscribe",
        from_miner=True,
        agent=text(param(params, 0)),
        protocol=protocol,
    )


def authorize(params: Any, obj: dict[str, Any]) -> MiningMessage | None:
    login = text(param(params, 0))
    if login is None:
        return None
    return Login(
        dialect=STRATUM,
        method="mining.authorize",
        from_miner=True,
        login=login,
        password=text(param(params, 1)),
    )


def submit(params: Any, obj: dict[str, Any]) -> MiningMessage | None:
    if not isinstance(params, list) or len(params) < 3:
        return None
    return Submit(
        dialect=ETHEREUM_STRATUM if len(params) == 3 else STRATUM,
        method="mining.submit",
        from_miner=True,
        login=text(params[0]),
        job_id=text(params[1]),
        nonce=text(params[-1]),
    )


def notify(params: Any, obj: dict[str, Any]) -> MiningMessage | None:
    """Job shape from the parameter list: 9 Bitcoin-style, 8 Equihash, 4 (job, seed, header, clean) ethash."""
    if not isinstance(params, list):
        return None
    job_id = text(param(params, 0))
    if len(params) >= 9 and isinstance(params[4], list):
        fields = dict(
            zip(
                ("prevhash", "coinb1", "coinb2", "merkle_branch", "version", "nbits", "ntime"),
                params[1:8],
                strict=True,
            )
        )
        return Job(
            dialect=STRATUM,
            method="mining.notify",
            from_miner=False,
            job_id=job_id,
            shape="bitcoin",
            source=params,
            clean=bool(params[8]),
            fields=fields,
        )
    if len(params) >= 8:
        fields = dict(
            zip(("version", "prevhash", "merkleroot", "reserved", "time", "bits"), params[1:7], strict=True)
        )
        return Job(
            dialect=STRATUM,
            method="mining.notify",
            from_miner=False,
            job_id=job_id,
            shape="equihash",
            source=params,
            algorithm="equihash",
            clean=bool(params[7]),
            fields=fields,
        )
    if len(params) == 4 and isinstance(params[3], bool):
        return Job(
            dialect=ETHEREUM_STRATUM,
            method="mining.notify",
            from_miner=False,
            job_id=job_id,
            shape="ethash",
            source=params,
            algorithm="ethash",
            seed_hash=text(params[1]),
            clean=params[3],
            fields={"headerhash": params[2]},
        )
    if len(params) >= 3 and all(isinstance(p, str) for p in params[:3]):
        # eth-proxy pools relayed through stratum: [header, seed, boundary]
        target = text(params[2])
        return Job(
            dialect=ETHEREUM_STRATUM,
            method="mining.notify",
            from_miner=False,
            job_id=text(params[0]),
            shape="ethash",
            source=params,
            algorithm="ethash",
            seed_hash=text(params[1]),
            target=target,
            difficulty=difficulty_from_target(hex_int(target), ETHASH_DIFF1),
        )
    return None


def set_difficulty(params: Any, obj: dict[str, Any]) -> MiningMessage | None:
    value = param(params, 0)
    if not isinstance(value, int | float) or isinstance(value, bool):
        return None
    return Difficulty(
        dialect=STRATUM, method="mining.set_difficulty", from_miner=False, difficulty=float(value)
    )


def set_target(params: Any, obj: dict[str, Any]) -> MiningMessage | None:
    target = text(param(params, 0))
    value = hex_int(target)
    if value is None:
        return None
    return Difficulty(
        dialect=STRATUM,
        method="mining.set_target",
        from_miner=False,
        target=target,
        difficulty=difficulty_from_target(value, EQUIHASH_DIFF1),
    )


def control(method: str, from_miner: bool):
    def parse(params: Any, obj: dict[str, Any]) -> MiningMessage:
        return Control(dialect=STRATUM, method=method, from_miner=from_miner, params=params)

    return parse


REQUESTS = {
    "mining.subscribe": subscribe,
    "mining.authorize": authorize,
    "mining.submit": submit,
    "mining.notify": notify,
    "mining.set_difficulty": set_difficulty,
    "mining.set_target": set_target,
    **{m: control(m, True) for m in CONTROL_FROM_MINER},
    **{m: control(m, False) for m in CONTROL_FROM_POOL},
}
FAMILY = DialectFamily(dialects=(Dialect(STRATUM), Dialect(ETHEREUM_STRATUM)), requests=REQUESTS)
