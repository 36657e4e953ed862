"""MySQL and MariaDB: the handshake, the client's login packet and the server's OK or error."""

from __future__ import annotations

from typing import Any

from minerwatch.detectors.bruteforce.campaign import SUCCEEDED
from minerwatch.detectors.bruteforce.sessions import LoginProtocol, LoginSession
from minerwatch.protocols import mysql


class MysqlSession(LoginSession):
    service = "mysql"

    def new_parser(self) -> mysql.MysqlParser:
        return mysql.MysqlParser()

    def on_message(self, message: Any, ts: float, to_server: bool) -> None:
        if isinstance(message, mysql.LoginRequest):
            self.login(ts, message.username)
        elif isinstance(message, mysql.ServerOk):
            self.judge(SUCCEEDED)
        elif isinstance(message, mysql.ServerError):
            self.answer(message.code in mysql.LOGIN_DENIED)
        elif isinstance(message, mysql.TlsRequested):
            self.encrypted_login()


def opens(first: bytes, to_server: bool) -> bool:
    """The server speaks first: a handshake (protocol 10) or an error packet."""
    return not to_server and len(first) >= 5 and first[4] in (10, 0xFF)


PROTOCOL = LoginProtocol(MysqlSession, (3306,), opens)
