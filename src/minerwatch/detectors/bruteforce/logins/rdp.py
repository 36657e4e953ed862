"""RDP: the connection request's cookie; with CredSSP, judged by how much the server sends after."""

from __future__ import annotations

from typing import Any

from minerwatch.detectors.bruteforce.campaign import SUCCEEDED, UNKNOWN
from minerwatch.detectors.bruteforce.sessions import LoginProtocol, Report, ShapeSession
from minerwatch.flows.info import FlowInfo
from minerwatch.protocols import rdp

# RDP with CredSSP: a refused NLA login ends after the TLS handshake and a few NTLM messages (< 10 KiB
# from the server); a desktop that opens sends far more.
RDP_SESSION_BYTES = 32 * 1024


class RdpSession(ShapeSession):
    service = "rdp"

    def __init__(self, report: Report, info: FlowInfo, depth: int) -> None:
        super().__init__(report, info, depth)
        self.username: str | None = None
        self.server_bytes = 0  # sent by the server once secured

    def new_parser(self) -> rdp.RdpParser:
        return rdp.RdpParser()

    def on_message(self, message: Any, ts: float, to_server: bool) -> None:
        if isinstance(message, rdp.Secured):
            if not to_server:
                self.server_bytes += message.size
            if self.pending is not None and self.logged_in(0.0):
                self.judge(SUCCEEDED)
        elif isinstance(message, rdp.ConnectionRequest):
            self.username = message.cookie
        elif message.failure is not None:
            pass  # negotiation refused: no credentials were tried (the parser is done)
        elif message.selected in (rdp.PROTOCOL_HYBRID, rdp.PROTOCOL_HYBRID_EX):
            self.secured_at = ts
            self.login(ts, self.username)
        else:
            # Without CredSSP the password is typed into the remote desktop, whose pixels tell nothing.
            self.login(ts, self.username)
            self.judge(UNKNOWN)
            self.finished = True

    def logged_in(self, duration: float) -> bool:
        return self.server_bytes >= RDP_SESSION_BYTES


def opens(first: bytes, to_server: bool) -> bool:
    """A TPKT header around an X.224 connection request."""
    return to_server and len(first) >= 6 and first[0] == 3 and first[5] & 0xF0 == 0xE0


PROTOCOL = LoginProtocol(RdpSession, (3389,), opens)
