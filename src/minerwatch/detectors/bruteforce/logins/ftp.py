"""FTP: USER and PASS, answered by 230 or 530."""

from __future__ import annotations

from typing import Any

from minerwatch.detectors.bruteforce.campaign import FAILED, SUCCEEDED
from minerwatch.detectors.bruteforce.sessions import LoginProtocol, LoginSession, Report
from minerwatch.flows.info import FlowInfo
from minerwatch.protocols import ftp


class FtpSession(LoginSession):
    service = "ftp"

    def __init__(self, report: Report, info: FlowInfo, depth: int) -> None:
        super().__init__(report, info, depth)
        self.username: str | None = None

    def new_parser(self) -> ftp.FtpParser:
        return ftp.FtpParser()

    def on_message(self, message: Any, ts: float, to_server: bool) -> None:
        if isinstance(message, ftp.Command):
            if message.verb == "USER":
                self.username = message.argument
            elif message.verb == "PASS":
                self.login(ts, self.username, message.argument)
        elif message.code == 230:
            if self.pending is None:
                self.login(ts, self.username)
            self.judge(SUCCEEDED)
        elif message.code == 530 and self.pending:
            self.judge(FAILED)


def opens(first: bytes, to_server: bool) -> bool:
    """The server's greeting, a reply code."""
    return not to_server and first[:3].isdigit()


PROTOCOL = LoginProtocol(FtpSession, (21,), opens)
