"""PostgreSQL: the startup message, a cleartext password if one is sent, the server's answer."""

from __future__ import annotations

from typing import Any

from minerwatch.detectors.bruteforce.campaign import SUCCEEDED
from minerwatch.detectors.bruteforce.sessions import LoginProtocol, LoginSession
from minerwatch.protocols import postgres


class PostgresSession(LoginSession):
    service = "postgresql"
    DENIED = frozenset({postgres.INVALID_PASSWORD, postgres.INVALID_AUTHORIZATION})

    def new_parser(self) -> postgres.PostgresParser:
        return postgres.PostgresParser()

    def on_message(self, message: Any, ts: float, to_server: bool) -> None:
        if isinstance(message, postgres.Startup):
            self.login(ts, message.user)
        elif isinstance(message, postgres.PasswordSent) and self.pending and message.cleartext is not None:
            self.pending = (self.pending[0], self.pending[1], message.cleartext)
        elif isinstance(message, postgres.AuthRequest) and message.method == postgres.AUTH_OK:
            self.judge(SUCCEEDED)
        elif isinstance(message, postgres.ServerError):
            self.answer(message.sqlstate in self.DENIED)
        elif isinstance(message, postgres.TlsStarted):
            self.encrypted_login()


def opens(first: bytes, to_server: bool) -> bool:
    return to_server and postgres.opens_login(first)


PROTOCOL = LoginProtocol(PostgresSession, (5432,), opens)
