"""One stream analyser per login protocol: the protocol's typed messages in, login `Attempt`s out.

Each analyser keeps only the login in flight (user, password, when) and judges it from the server's
answer. Protocols whose login is encrypted (SSH, RDP with TLS/CredSSP) are judged by the session's shape
after the key exchange instead; see docs/bruteforce.md for the rules and their limits.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from typing import Any, ClassVar, Protocol

from minerwatch.decode import Flow
from minerwatch.detectors.bruteforce.campaign import FAILED, SUCCEEDED, UNKNOWN, Attempt
from minerwatch.flows.info import FlowInfo
from minerwatch.protocols import ftp, mysql, postgres, rdp, redis, ssh, tds, telnet

# SSH: sshd drops a connection that has not authenticated within LoginGraceTime (120 s by default), and a
# failed attempt is a handful of small packets; a session beyond either bound has logged in.
SSH_LONG_SESSION = 150.0
SSH_SESSION_PACKETS = 40
SSH_SESSION_BYTES = 32 * 1024
# RDP with CredSSP: a refused NLA login ends after the TLS handshake and a few NTLM messages (< 10 KiB
# from the server); a desktop that opens sends far more.
RDP_SESSION_BYTES = 32 * 1024
MAX_PENDING_COMMANDS = 256

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


class ShapeSession(LoginSession):
    """Encrypted logins: one attempt per connection, judged at its end by what followed the handshake."""

    def __init__(self, report: Report, info: FlowInfo, depth: int) -> None:
        super().__init__(report, info, depth)
        self.secured_at: float | None = None  # when the encrypted part began
        self.packets = {True: 0, False: 0}
        self.bytes = {True: 0, False: 0}

    def encrypted(self, to_server: bool, size: int) -> None:
        self.packets[to_server] += 1
        self.bytes[to_server] += size
        if self.pending is not None and self.logged_in(0.0):
            self.judge(SUCCEEDED)

    def logged_in(self, duration: float) -> bool:
        raise NotImplementedError

    def wants_more(self, bytes_seen: int) -> bool:
        """Until judged; a failed login is a short session, so watching it to its end costs little."""
        return not self.finished and (self.secured_at is not None or bytes_seen <= self.depth)

    def end(self, flow: Flow, ts: float, reason: str) -> None:
        if self.pending is not None and self.secured_at is not None:
            self.judge(SUCCEEDED if self.logged_in(flow.last_ts - self.secured_at) else FAILED)
        self.pending = None


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


class RdpSession(ShapeSession):
    service = "rdp"

    def __init__(self, report: Report, info: FlowInfo, depth: int) -> None:
        super().__init__(report, info, depth)
        self.username: str | None = None

    def new_parser(self) -> rdp.RdpParser:
        return rdp.RdpParser()

    def on_message(self, message: Any, ts: float, to_server: bool) -> None:
        if isinstance(message, rdp.Secured):
            self.encrypted(to_server, message.size)
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
        return self.bytes[False] >= RDP_SESSION_BYTES
