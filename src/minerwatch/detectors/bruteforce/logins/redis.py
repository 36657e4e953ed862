"""Redis: AUTH and HELLO ... AUTH, judged by their replies."""

from __future__ import annotations

from collections import deque
from typing import Any

from minerwatch.detectors.bruteforce.campaign import SUCCEEDED
from minerwatch.detectors.bruteforce.sessions import LoginProtocol, LoginSession, Report
from minerwatch.flows.info import FlowInfo
from minerwatch.protocols import redis

MAX_PENDING_COMMANDS = 256


class RedisSession(LoginSession):
    """AUTH replies judge logins; the first other command that succeeds shows the login phase is over."""

    service = "redis"

    def __init__(self, report: Report, info: FlowInfo, depth: int) -> None:
        super().__init__(report, info, depth)
        self.sent: deque[tuple[float, redis.Command]] = deque(maxlen=MAX_PENDING_COMMANDS)

    def new_parser(self) -> redis.RedisParser:
        return redis.RedisParser()

    def on_message(self, message: Any, ts: float, to_server: bool) -> None:
        if isinstance(message, redis.Command):
            self.sent.append((ts, message))
            return
        if not self.sent:
            return
        sent, command = self.sent.popleft()
        credentials = self.credentials(command)
        if credentials is None:
            self.finished = self.finished or not message.error
            return
        self.login(sent, *credentials)
        text = message.text.upper()
        if message.error:
            # "AUTH called without any password configured" says nothing about guessing
            self.answer(text.startswith(b"WRONGPASS") or b"INVALID" in text)
        else:
            self.judge(SUCCEEDED)

    @staticmethod
    def credentials(command: redis.Command) -> tuple[str | None, str | None] | None:
        """(user, password) of `AUTH [user] password` or `HELLO <version> AUTH user password`, else None."""
        args = [arg.decode("utf-8", "replace") for arg in command.args[1:]]
        if command.name == b"AUTH":
            return (args[0] if len(args) > 1 else None), (args[-1] if args else None)
        if command.name == b"HELLO" and len(args) >= 4 and args[1].upper() == "AUTH":
            return args[2], args[3]
        return None


def opens(first: bytes, to_server: bool) -> bool:
    """A RESP array or an inline command."""
    return to_server and (first[:1] == b"*" or first[:1].isalpha())


PROTOCOL = LoginProtocol(RedisSession, (6379,), opens)
