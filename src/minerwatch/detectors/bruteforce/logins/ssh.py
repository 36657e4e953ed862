"""SSH: the login is encrypted; judged by the shape the compiled reader follows (protocols/ssh.py)."""

from __future__ import annotations

from typing import Any

from minerwatch.detectors.bruteforce.campaign import SUCCEEDED
from minerwatch.detectors.bruteforce.sessions import LoginProtocol, ShapeSession
from minerwatch.protocols import ssh

# sshd drops a connection that has not authenticated within LoginGraceTime (120 s by default), and a
# failed attempt is a handful of small packets; a session beyond either bound has logged in.
SSH_LONG_SESSION = 150.0
SSH_SESSION_PACKETS = 40
SSH_SESSION_BYTES = 32 * 1024


class SshSession(ShapeSession):
    """The reader reports `LoggedIn` when the login's lock-step shows a success (a server reply smaller
    than SERVICE_ACCEPT: USERAUTH_SUCCESS, even when the client hangs up at once, as hydra does, or runs a
    single command, as a bot's `uname -a`) or the session passes the size bounds; otherwise the flow's end
    judges it (`logged_in`)."""

    service = "ssh"
    parser: ssh.SshParser

    def new_parser(self) -> ssh.SshParser:
        return ssh.SshParser(SSH_SESSION_PACKETS, SSH_SESSION_BYTES)

    def on_message(self, message: Any, ts: float, to_server: bool) -> None:
        if isinstance(message, ssh.LoggedIn):
            self.judge(SUCCEEDED)
        elif isinstance(message, ssh.NewKeys) and self.secured_at is None:
            self.secured_at = ts
            self.login(ts, None)
        elif isinstance(message, ssh.Version) and to_server:
            self.details = (("client_software", message.software),)

    def logged_in(self, duration: float) -> bool:
        return duration >= SSH_LONG_SESSION or self.parser.long_session


def opens(first: bytes, to_server: bool) -> bool:
    """An identification string (a server may send lines before it)."""
    return b"SSH-" in first[:1024]


PROTOCOL = LoginProtocol(SshSession, (22, 2222), opens)
