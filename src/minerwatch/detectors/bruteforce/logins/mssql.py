"""Microsoft SQL Server (TDS): LOGIN7 with its password, LOGINACK or error 18456."""

from __future__ import annotations

from typing import Any

from minerwatch.detectors.bruteforce.campaign import FAILED, SUCCEEDED
from minerwatch.detectors.bruteforce.sessions import LoginProtocol, LoginSession
from minerwatch.protocols import tds


class TdsSession(LoginSession):
    service = "mssql"

    def new_parser(self) -> tds.TdsParser:
        return tds.TdsParser()

    def on_message(self, message: Any, ts: float, to_server: bool) -> None:
        if isinstance(message, tds.Login):
            self.login(ts, message.username, message.password)
        elif isinstance(message, tds.LoginAck):
            self.judge(SUCCEEDED, ts)
        elif isinstance(message, tds.ServerError) and message.number == tds.LOGIN_FAILED:
            self.judge(FAILED, ts)


def opens(first: bytes, to_server: bool) -> bool:
    return to_server and first[:1] in (bytes([tds.PRELOGIN]), bytes([tds.LOGIN7]))


PROTOCOL = LoginProtocol(TdsSession, (1433,), opens)
