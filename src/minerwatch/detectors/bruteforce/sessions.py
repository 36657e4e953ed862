"""What every login protocol's stream analyser shares, and how a protocol is declared (`LoginProtocol`).

One analyser per login protocol (logins/<service>.py): the protocol's typed messages in, login `Attempt`s
out. Each keeps only the login in flight (user, password, when) and judges it from the server's answer.
Protocols whose login is encrypted (SSH, RDP with TLS/CredSSP) are judged by the session's shape after the
key exchange instead (`ShapeSession`); see docs/bruteforce.md for the rules and their limits.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar, Protocol

from minerwatch.decode import Flow
from minerwatch.detectors.bruteforce.campaign import FAILED, SUCCEEDED, UNKNOWN, Attempt
from minerwatch.flows.info import FlowInfo

Report = Callable[[Attempt], Any]


def _nothing() -> None:
    pass


class LoginParser(Protocol):
    """What every protocols/<login protocol>.py parser offers."""

    @property
    def done(self) -> bool:
        """Nothing more to learn from this flow (login over, TLS started, or framing lost)."""

    def feed(self, to_server: bool, data: bytes) -> list[Any]: ...

    def gap(self, to_server: bool) -> None: ...


class LoginSession:
    """Base StreamAnalyzer: feeds the protocol parser, reports attempts, stops once the login is over."""

    service: ClassVar[str]

    def __init__(self, report: Report, info: FlowInfo, depth: int) -> None:
        self.report = report
        self.encrypted_login: Callable[[], Any] = _nothing  # told when the login went into TLS/GSSAPI
        self.info = info
        self.depth = depth
        self.finished = False
        self.parser = self.new_parser()
        self.pending: tuple[float, str | None, str | None] | None = None  # ts, username, password
        self.details: tuple[tuple[str, str], ...] = ()  # (name, value) facts listed in the campaign

    def new_parser(self) -> LoginParser:
        raise NotImplementedError

    def on_message(self, message: Any, ts: float, to_server: bool) -> None:
        raise NotImplementedError

    def data(self, to_server: bool, data: bytes, ts: float, gap: bool) -> None:
        if gap:
            self.parser.gap(to_server)
        for message in self.parser.feed(to_server, data):
            self.on_message(message, ts, to_server)
        self.finished = self.finished or self.parser.done

    def wants_more(self, bytes_seen: int) -> bool:
        return not self.finished and bytes_seen <= self.depth

    def end(self, flow: Flow, ts: float, reason: str) -> None:
        """A login still waiting for its answer when the flow ends counts as an attempt of unknown outcome."""
        if self.pending is not None:
            self.judge(UNKNOWN)

    def login(self, ts: float, username: str | None = None, password: str | None = None) -> None:
        self.pending = (ts, username, password)

    def judge(self, outcome: str, ts: float | None = None) -> None:
        """Close the pending login (or, with `ts`, one whose request was not seen) with its outcome."""
        if self.pending is None and ts is not None:
            self.pending = (ts, None, None)
        if self.pending is None:
            return
        sent, username, password = self.pending
        self.pending = None
        info = self.info
        self.report(
            Attempt(
                info.client_ip,
                info.server_ip,
                info.server_port,
                self.service,
                sent,
                outcome,
                info.flow_id,
                username,
                password,
                self.details,
            )
        )
        self.finished = self.finished or outcome == SUCCEEDED

    def answer(self, denied: bool) -> None:
        """An error answered the login: a refusal of the credentials, or one that says nothing of them."""
        if denied:
            self.judge(FAILED)
        self.pending = None


class ShapeSession(LoginSession):
    """Encrypted logins: one attempt per connection, judged at its end by what followed the handshake."""

    def __init__(self, report: Report, info: FlowInfo, depth: int) -> None:
        super().__init__(report, info, depth)
        self.secured_at: float | None = None  # when the encrypted part began

    def logged_in(self, duration: float) -> bool:
        raise NotImplementedError

    def wants_more(self, bytes_seen: int) -> bool:
        """Until judged; a failed login is a short session, so watching it to its end costs little."""
        return not self.finished and (self.secured_at is not None or bytes_seen <= self.depth)

    def end(self, flow: Flow, ts: float, reason: str) -> None:
        if self.pending is not None and self.secured_at is not None:
            self.judge(SUCCEEDED if self.logged_in(flow.last_ts - self.secured_at) else FAILED)
        self.pending = None


@dataclass(frozen=True)
class LoginProtocol:
    """A login protocol's facts in one place: its analyser (which names the service), the server ports
    watched by default, and the test that a flow's first bytes (and their direction) look like it, which
    keeps other traffic on a watched port out."""

    session: type[LoginSession]
    ports: tuple[int, ...]
    opens: Callable[[bytes, bool], bool]

    @property
    def service(self) -> str:
        return self.session.service
