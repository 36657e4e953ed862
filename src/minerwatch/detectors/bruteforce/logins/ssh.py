"""SSH: the login is encrypted; judged by the lock-step of its replies and the session's shape."""

from __future__ import annotations

from typing import Any

from minerwatch.detectors.bruteforce.campaign import SUCCEEDED
from minerwatch.detectors.bruteforce.sessions import LoginProtocol, Report, ShapeSession
from minerwatch.flows.info import FlowInfo
from minerwatch.protocols import ssh

# sshd drops a connection that has not authenticated within LoginGraceTime (120 s by default), and a
# failed attempt is a handful of small packets; a session beyond either bound has logged in.
SSH_LONG_SESSION = 150.0
SSH_SESSION_PACKETS = 40
SSH_SESSION_BYTES = 32 * 1024


class SshSession(ShapeSession):
    """Besides the session's shape, the login's lock-step: the client's service request is answered by
    SERVICE_ACCEPT, then each login request by one reply. USERAUTH_SUCCESS carries one byte, so whatever
    the cipher its packet is smaller than SERVICE_ACCEPT's (17 bytes), and refusals (a method name-list)
    and banners are not: a later reply smaller than SERVICE_ACCEPT is a success, even when the client
    hangs up at once (hydra) or runs a single command (a bot's `uname -a`)."""

    service = "ssh"

    def __init__(self, report: Report, info: FlowInfo, depth: int) -> None:
        super().__init__(report, info, depth)
        self.requests = 0  # encrypted client segments (the service request is the first)
        self.accept_size: int | None = None  # the server's reply to the service request

    def new_parser(self) -> ssh.SshParser:
        return ssh.SshParser()

    def on_message(self, message: Any, ts: float, to_server: bool) -> None:
        if isinstance(message, ssh.Encrypted):
            if to_server:
                self.requests += 1
            elif self.requests and self.pending is not None:
                if self.accept_size is None:
                    self.accept_size = message.size
                elif message.size < self.accept_size:
                    self.judge(SUCCEEDED)
            self.encrypted(to_server, message.size)
        elif isinstance(message, ssh.NewKeys) and self.secured_at is None:
            self.secured_at = ts
            self.login(ts, None)
        elif isinstance(message, ssh.Version) and to_server:
            self.details = (("client_software", message.software),)

    def logged_in(self, duration: float) -> bool:
        return (
            duration >= SSH_LONG_SESSION
            or sum(self.packets.values()) >= SSH_SESSION_PACKETS
            or sum(self.bytes.values()) >= SSH_SESSION_BYTES
        )


def opens(first: bytes, to_server: bool) -> bool:
    """An identification string (a server may send lines before it)."""
    return b"SSH-" in first[:1024]


PROTOCOL = LoginProtocol(SshSession, (22, 2222), opens)
