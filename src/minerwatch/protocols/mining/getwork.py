"""Bitcoin-family mining over HTTP JSON-RPC: getwork (cgminer/bfgminer era) and getblocktemplate (BIP 22/23).

getwork without params asks for work, answered by {data, midstate, hash1, target}; getwork [data] submits a
solved header. getblocktemplate asks for a block template (answered by {previousblockhash, height, bits,
target, ...}); submitblock [hexdata] submits a block, answered by null on success or a reason string.
The login is not in the JSON: it is the HTTP Basic credentials (see detectors/mining_http.py).
"""

from __future__ import annotations

import re
from typing import Any

from minerwatch.protocols.mining.messages import (
    SHA256D_DIFF1,
    Control,
    Dialect,
    DialectFamily,
    Job,
    MiningMessage,
    Submit,
    difficulty_from_target,
    hex_int,
    param,
    text,
)

GETWORK = "getwork"
GETBLOCKTEMPLATE = "getblocktemplate"
HEADER_HEX = 160  # an 80-byte block header; getwork pads `data` to 128 bytes (256 hex digits)
_HEADER = re.compile(r"[0-9a-fA-F]{160}")


def _header(value: Any) -> bool:
    """A hex string that starts with a whole block header."""
    return isinstance(value, str) and _HEADER.match(value) is not None


def getwork(params: Any, obj: dict[str, Any]) -> MiningMessage | None:
    data = param(params, 0)
    if data is None:
        return Control(dialect=GETWORK, method="getwork", from_miner=True, params=params)
    if not _header(data):
        return None
    return Submit(dialect=GETWORK, method="getwork", from_miner=True, nonce=data[152:160])


def getblocktemplate(params: Any, obj: dict[str, Any]) -> MiningMessage | None:
    request = param(params, 0)
    if request is not None and not isinstance(request, dict):
        return None
    return Control(dialect=GETBLOCKTEMPLATE, method="getblocktemplate", from_miner=True, params=params)


def submitblock(params: Any, obj: dict[str, Any]) -> MiningMessage | None:
    block = param(params, 0)
    if not _header(block):
        return None
    return Submit(dialect=GETBLOCKTEMPLATE, method="submitblock", from_miner=True, nonce=block[152:160])


def work(result: Any) -> Job | None:
    """A getwork answer: `data` (the header to hash) and `target` (256-bit, little-endian hex)."""
    if not isinstance(result, dict) or not isinstance(result.get("data"), str):
        return None
    target = text(result.get("target"), 80)
    return Job(
        dialect=GETWORK,
        method="getwork",
        from_miner=False,
        job_id=result["data"][8:24] or None,  # part of the previous block hash: changes with each block
        shape="getwork",
        target=target,
        difficulty=difficulty_from_target(hex_int(target, little_endian=True), SHA256D_DIFF1),
        fields={"midstate": "midstate" in result},
    )


def template(result: Any) -> Job | None:
    """A getblocktemplate answer: a block template with its height and big-endian target."""
    if not isinstance(result, dict) or not isinstance(result.get("previousblockhash"), str):
        return None
    target = text(result.get("target"), 80)
    height = result.get("height")
    return Job(
        dialect=GETBLOCKTEMPLATE,
        method="getblocktemplate",
        from_miner=False,
        job_id=text(result.get("workid"), 80) or result["previousblockhash"][:16],
        shape="getblocktemplate",
        target=target,
        difficulty=difficulty_from_target(hex_int(target), SHA256D_DIFF1),
        height=height if isinstance(height, int) and not isinstance(height, bool) else None,
    )


REQUESTS = {"getwork": getwork, "getblocktemplate": getblocktemplate, "submitblock": submitblock}
REPLY_JOBS = {"getwork": work, "getblocktemplate": template}
# submitblock answers null when the block is accepted and a reason string when it is not (BIP 22).
# The login (HTTP Basic) is the registration; work is a Bitcoin-style block header.
FAMILY = DialectFamily(
    dialects=(
        Dialect(GETWORK, login_registers=True, header_work=True),
        Dialect(GETBLOCKTEMPLATE, login_registers=True, header_work=True),
    ),
    requests=REQUESTS,
    reply_jobs=REPLY_JOBS,
    null_means_accepted=frozenset({"submitblock"}),
)
