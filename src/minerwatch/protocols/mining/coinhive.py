"""The CoinHive browser-mining protocol (and its clones: CryptoLoot, CoinImp...) over WebSocket text frames.

Messages are {"type": ..., "params": {...}}: the miner sends auth {site_key, type, user} and submit
{job_id, nonce, result}; the pool answers authed {token, hashes}, job {job_id, blob, target},
hash_accepted {hashes}, error {error} or banned. No ids: answers pair with requests in order.
"""

from __future__ import annotations

from collections import deque
from typing import Any

from minerwatch.protocols.mining import cryptonote
from minerwatch.protocols.mining.messages import (
    Control,
    Dialect,
    DialectFamily,
    Login,
    MiningMessage,
    Reply,
    Submit,
    text,
)

COINHIVE = "coinhive"
MAX_PENDING = 64
# Its own session below, not JSON-RPC: no parsers for PoolSession; its auth is the registration.
FAMILY = DialectFamily(dialects=(Dialect(COINHIVE, login_registers=True),))


def is_coinhive(obj: dict[str, Any]) -> bool:
    return isinstance(obj.get("type"), str) and "method" not in obj and isinstance(obj.get("params"), dict)


class CoinHiveSession:
    """One WebSocket's CoinHive messages in, typed messages out, answers paired with requests."""

    def __init__(self) -> None:
        self._auth: deque[MiningMessage] = deque(maxlen=MAX_PENDING)
        self._submits: deque[MiningMessage] = deque(maxlen=MAX_PENDING)

    def feed(self, from_client: bool, obj: dict[str, Any]) -> list[MiningMessage]:
        kind, params = obj["type"], obj["params"]
        if from_client:
            return self._from_miner(kind, params)
        return self._from_pool(kind, params)

    def _from_miner(self, kind: str, params: dict[str, Any]) -> list[MiningMessage]:
        if kind == "auth" and text(params.get("site_key")):
            login = Login(
                dialect=COINHIVE,
                method="auth",
                from_miner=True,
                id="auth",
                login=text(params.get("site_key")) or "",
                worker=text(params.get("user")),
                agent=text(params.get("type")),
            )
            self._auth.append(login)
            return [login]
        if kind == "submit" and "job_id" in params and "nonce" in params:
            submit = Submit(
                dialect=COINHIVE,
                method="submit",
                from_miner=True,
                id="submit",
                job_id=text(params.get("job_id")),
                nonce=text(params.get("nonce")),
            )
            self._submits.append(submit)
            return [submit]
        return []

    def _from_pool(self, kind: str, params: dict[str, Any]) -> list[MiningMessage]:
        if kind == "job":
            job = cryptonote.job(params, method="job")
            if job is None:
                return []
            job.dialect = COINHIVE
            return [job]
        if kind == "authed":
            return self._answer(self._auth, True, None)
        if kind == "hash_accepted":
            return self._answer(self._submits, True, None)
        if kind == "error":
            pending = self._submits if self._submits else self._auth
            return self._answer(pending, False, text(params.get("error")) or "error")
        if kind == "banned":
            return [Control(dialect=COINHIVE, method="banned", from_miner=False, params=params)]
        return []

    @staticmethod
    def _answer(pending: deque[MiningMessage], ok: bool, error: str | None) -> list[MiningMessage]:
        if not pending:
            return []
        request = pending.popleft()
        return [
            Reply(
                dialect=COINHIVE,
                method=request.method,
                from_miner=False,
                id=request.id,
                request=request,
                ok=ok,
                error=error,
            )
        ]
