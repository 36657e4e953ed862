"""Telnet: typed lines matched to the login and password prompts they answer."""

from __future__ import annotations

from typing import Any

from minerwatch.detectors.bruteforce.campaign import FAILED, SUCCEEDED
from minerwatch.detectors.bruteforce.sessions import LoginProtocol, LoginSession, Report
from minerwatch.flows.info import FlowInfo
from minerwatch.protocols import telnet


class TelnetSession(LoginSession):
    """Typed lines are matched to the prompt they answer; the next verdict or prompt judges the login."""

    service = "telnet"

    def __init__(self, report: Report, info: FlowInfo, depth: int) -> None:
        super().__init__(report, info, depth)
        self.expecting: str | None = None  # the prompt the next typed line answers
        self.username: str | None = None

    def new_parser(self) -> telnet.TelnetParser:
        return telnet.TelnetParser()

    def on_message(self, message: Any, ts: float, to_server: bool) -> None:
        if isinstance(message, telnet.Input):
            if self.expecting == "login":
                self.username = message.line
            elif self.expecting == "password":
                self.login(ts, self.username, message.line)
            self.expecting = None
        elif isinstance(message, telnet.LoginFailed):
            self.judge(FAILED)
        elif isinstance(message, telnet.LoggedIn) or message.kind == "shell":
            self.judge(SUCCEEDED)
        else:
            self.judge(FAILED)  # a new login or password prompt: the previous login was refused
            self.expecting = message.kind


def opens(first: bytes, to_server: bool) -> bool:
    """Free text after optional option negotiation: any first bytes on a telnet port."""
    return True


PROTOCOL = LoginProtocol(TelnetSession, (23, 2323), opens)
