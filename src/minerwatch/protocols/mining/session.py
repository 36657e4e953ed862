"""One pool connection, sans-IO: bytes per direction in, typed messages out, answers paired with requests.

Requests are paired with answers by id, in order per id (xmr-stak sends id 1 for everything), so each
behaviour's outcome is known: login accepted, share rejected and why. Pending requests are bounded.
"""

from __future__ import annotations

from collections import deque
from typing import Any

from minerwatch.protocols.jsonrpc import LineFramer
from minerwatch.protocols.mining import ethproxy
from minerwatch.protocols.mining.dialects import NULL_MEANS_ACCEPTED, REPLY_JOBS
from minerwatch.protocols.mining.dialects import REQUESTS as PARSERS
from minerwatch.protocols.mining.messages import Job, MiningMessage, Reply, text

MAX_PENDING = 256
MAX_METHODS = 32  # distinct method names counted per session


class PoolSession:
    """Feed `feed(to_server, data)` with reassembled bytes; read `mining_messages`/`other_lines` to judge."""

    def __init__(self, max_line: int = 64 * 1024) -> None:
        self.framers = {True: LineFramer(max_line), False: LineFramer(max_line)}
        # Unanswered requests, keyed by the direction they were sent in, then by id.
        self._pending: dict[bool, dict[Any, deque[MiningMessage]]] = {True: {}, False: {}}
        self._pending_count = 0
        self.mining_messages = 0
        self.other_lines = 0
        self.dropped_requests = 0
        self.methods: dict[str, int] = {}  # mining method -> how often it was sent (keepalived, getjob...)

    def feed(self, to_server: bool, data: bytes) -> list[tuple[bool, MiningMessage]]:
        """Messages found in `data`, each with the direction it travelled (True: client to server)."""
        framer = self.framers[to_server]
        out: list[tuple[bool, MiningMessage]] = []
        for line in framer.feed(data):
            obj = framer.decode(line)
            out.extend(self.feed_object(to_server, obj) if obj is not None else self._other())
        return out

    def feed_object(self, to_server: bool, obj: dict[str, Any]) -> list[tuple[bool, MiningMessage]]:
        """One JSON object framed by something else (an HTTP body, a WebSocket message)."""
        found = self._message(to_server, obj)
        if not found:
            return self._other()
        self.mining_messages += len(found)
        return [(to_server, m) for m in found]

    def _other(self) -> list[tuple[bool, MiningMessage]]:
        self.other_lines += 1
        return []

    def gap(self, to_server: bool) -> None:
        self.framers[to_server].gap()

    def _message(self, to_server: bool, obj: dict[str, Any]) -> list[MiningMessage]:
        method = obj.get("method")
        if isinstance(method, str):
            parse = PARSERS.get(method)
            message = parse(obj.get("params"), obj) if parse else None
            if message is None:
                return []
            if method in self.methods or len(self.methods) < MAX_METHODS:
                self.methods[method] = self.methods.get(method, 0) + 1
            message.id = obj.get("id")
            if message.id is not None:
                self._remember(to_server, message)
            return [message]
        if "result" in obj or "error" in obj:
            return self._answer(to_server, obj)
        return []

    def _remember(self, to_server: bool, message: MiningMessage) -> None:
        if self._pending_count >= MAX_PENDING:
            self.dropped_requests += 1
            return
        key = _id_key(message.id)
        self._pending[to_server].setdefault(key, deque()).append(message)
        self._pending_count += 1

    def _answer(self, to_server: bool, obj: dict[str, Any]) -> list[MiningMessage]:
        """An answer travels opposite to its request; unpaired answers are kept only if they carry work."""
        waiting = self._pending[not to_server].get(_id_key(obj.get("id")))
        request = waiting.popleft() if waiting else None
        if request is not None:
            self._pending_count -= 1
        result, error = obj.get("result"), _error_text(obj.get("error"))
        out: list[MiningMessage] = []
        if request is not None:
            out.append(
                Reply(
                    dialect=request.dialect,
                    method=request.method,
                    from_miner=not request.from_miner,
                    id=obj.get("id"),
                    request=request,
                    ok=_accepted(result, error, request.method in NULL_MEANS_ACCEPTED),
                    error=error,
                    result=result if not isinstance(result, dict | list) else None,
                )
            )
            derive = REPLY_JOBS.get(request.method)
            job = derive(result) if derive else None
        else:
            # eth-proxy pools push new work as an unsolicited result (id 0).
            job = ethproxy.work_package(result, method="push")
        if isinstance(job, Job):
            out.append(job)
        return out


def _id_key(value: Any) -> Any:
    return value if isinstance(value, int | str) and not isinstance(value, bool) else repr(value)[:64]


def _error_text(error: Any) -> str | None:
    if error is None or error is False:
        return None
    if isinstance(error, dict):
        return text(error.get("message")) or text(error.get("code")) or "error"
    if isinstance(error, list):  # Stratum v1: [code, message, traceback]
        return text(error[1]) if len(error) > 1 else "error"
    return text(error) or "error"


def _accepted(result: Any, error: str | None, null_ok: bool = False) -> bool:
    if null_ok:
        return error is None and result is None
    if error is not None or result is None or result is False:
        return False
    if isinstance(result, dict) and "status" in result:
        return str(result["status"]).upper() == "OK"
    return True
