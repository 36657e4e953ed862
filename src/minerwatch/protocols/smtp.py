"""Passive, sans-IO SMTP parser (RFC 5321, with PIPELINING, CHUNKING/BDAT and STARTTLS) for both directions.

Feed each direction's ordered bytes, get typed events: client `Command`s, server `Reply`s, and the mail
itself as `MessageStart`, `MessageData` (dot-unstuffed) and `MessageEnd` (complete or cut). Replies are
matched to commands in order, which is what pipelining guarantees; the client's bytes after DATA or
STARTTLS wait (bounded) for the server's answer, since only the answer says whether a message or TLS follows.

Worst case, for n bytes fed in any split: O(n) time; memory bounded by `MAX_LINE` per direction (message
lines longer than it are passed through in pieces), `MAX_WAITING` client bytes and `MAX_PENDING` commands.
The message content is streamed out, never held here.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

MAX_LINE = 64 * 1024  # a command, a reply line, or a message line before it is passed on in pieces
MAX_WAITING = 64 * 1024  # client bytes held while the answer to DATA/STARTTLS is awaited
MAX_PENDING = 128  # pipelined commands awaiting replies


@dataclass(slots=True)
class Command:
    verb: str  # upper-cased: "MAIL", "RCPT", "DATA"...
    argument: str


@dataclass(slots=True)
class Reply:
    code: int
    lines: list[str] = field(default_factory=list)
    command: str | None = None  # verb of the command it answers; "." for the end of a message


@dataclass(slots=True)
class MessageStart:
    pass


@dataclass(slots=True)
class MessageData:
    data: bytes


@dataclass(slots=True)
class MessageEnd:
    complete: bool  # False: the connection ended or lost bytes inside the message


@dataclass(slots=True)
class TlsStarted:
    pass


@dataclass(slots=True)
class ProtocolError:
    reason: str
    from_client: bool


Event = Command | Reply | MessageStart | MessageData | MessageEnd | TlsStarted | ProtocolError

# Client states.
_COMMAND, _WAITING, _DATA, _BDAT, _DEAD = range(5)
_END_OF_DATA = (b".\r\n", b".\n")


class SmtpConnection:
    """Both directions of one SMTP session. `feed` returns (from_client, event) pairs."""

    def __init__(self) -> None:
        self.client_state = _COMMAND
        self.server_alive = True
        self.greeted = False  # the server's first reply is its greeting, not an answer
        self.tls = False
        self._client = bytearray()
        self._server = bytearray()
        self._server_lines: list[str] = []
        self._pending: deque[str] = deque()
        self._client_scanned = 0  # client bytes already searched for a newline
        self._server_scanned = 0
        self._at_line_start = True
        self._bdat_remaining = 0
        self._bdat_last = False
        self._bdat_open = False  # a BDAT message has started and its LAST chunk has not come

    def feed(self, from_client: bool, data: bytes) -> list[tuple[bool, Event]]:
        out: list[tuple[bool, Event]] = []
        if self.tls:
            return out
        if from_client:
            if self.client_state != _DEAD:
                self._client += data
                self._run_client(out)
        elif self.server_alive:
            self._server += data
            self._run_server(out)
        return out

    def gap(self, from_client: bool) -> list[tuple[bool, Event]]:
        """Bytes were lost before the next ones: this direction cannot be framed any more."""
        out: list[tuple[bool, Event]] = []
        if from_client:
            self._end_message(out, complete=False)
            self.client_state = _DEAD
            self._client.clear()
        else:
            self.server_alive = False
            self._server.clear()
            if self.client_state == _WAITING and self._pending:
                self._answer(self._pending[-1], True, out)
                self._run_client(out)
        return out

    def feed_eof(self) -> list[tuple[bool, Event]]:
        """The connection ended: a message still being received is cut after its last bytes."""
        out: list[tuple[bool, Event]] = []
        if self.client_state == _DATA and self._client:
            buf = self._client
            out.append(
                (True, MessageData(bytes(buf[1:] if self._at_line_start and buf[:1] == b"." else buf)))
            )
            buf.clear()
        self._end_message(out, complete=False)
        self.client_state = _DEAD
        return out

    @property
    def in_message(self) -> bool:
        """Between MessageStart and MessageEnd (also between two BDAT chunks)."""
        return self.client_state in (_DATA, _BDAT) or self._bdat_open

    # -- client ---------------------------------------------------------------------------------------

    def _run_client(self, out: list[tuple[bool, Event]]) -> None:
        while self._client:
            state = self.client_state
            if state == _COMMAND:
                if not self._command(out):
                    return
            elif state == _DATA:
                if not self._data_lines(out):
                    return
            elif state == _BDAT:
                self._bdat_chunk(out)
            elif state == _WAITING:
                if len(self._client) > MAX_WAITING:
                    self._client_error(out, "client sent too much before the server answered")
                return
            else:
                return

    def _client_line_end(self) -> int:
        """Index of the next newline in the client buffer, or -1; never rescans bytes already searched."""
        newline = self._client.find(b"\n", self._client_scanned, MAX_LINE)
        self._client_scanned = len(self._client) if newline < 0 else 0
        return newline

    def _command(self, out: list[tuple[bool, Event]]) -> bool:
        newline = self._client_line_end()
        if newline < 0:
            if len(self._client) >= MAX_LINE:
                self._client_error(out, "command line too long")
            return False
        line = bytes(self._client[:newline]).rstrip(b"\r").decode("utf-8", "replace")
        del self._client[: newline + 1]
        verb, _, argument = line.strip().partition(" ")
        verb = verb.upper()
        out.append((True, Command(verb, argument.strip())))
        if len(self._pending) >= MAX_PENDING:
            self._client_error(out, "too many commands without replies")
            return False
        self._pending.append(verb)
        if verb == "BDAT":
            size, _, last = argument.strip().partition(" ")
            if not size.isdigit() or len(size) > 18:
                self._client_error(out, "malformed BDAT size")
                return False
            if not self.in_message:
                out.append((True, MessageStart()))
            self._bdat_open = True
            self._bdat_remaining, self._bdat_last = int(size), last.strip().upper() == "LAST"
            self.client_state = _BDAT
        elif verb in ("DATA", "STARTTLS"):
            self.client_state = _WAITING
            if not self.server_alive:  # nobody to ask: assume the server agreed
                self._answer(verb, True, out)
        return True

    def _start_data(self, out: list[tuple[bool, Event]]) -> None:
        self.client_state = _DATA
        self._at_line_start = True
        out.append((True, MessageStart()))

    def _data_lines(self, out: list[tuple[bool, Event]]) -> bool:
        """Message lines up to the end of the message (True) or of the buffered bytes (False)."""
        buf = self._client
        pieces: list[bytes] = []
        ended = False
        while buf:
            newline = self._client_line_end()
            if newline < 0:
                if len(buf) < MAX_LINE:
                    break
                # An overlong line goes on in pieces (its leading dot, if any, handled now).
                piece = bytes(buf[:MAX_LINE])
                del buf[:MAX_LINE]
                self._client_scanned = 0
                pieces.append(piece[1:] if self._at_line_start and piece[:1] == b"." else piece)
                self._at_line_start = False
                continue
            line = bytes(buf[: newline + 1])
            del buf[: newline + 1]
            if self._at_line_start and line in _END_OF_DATA:
                ended = True
                break
            pieces.append(line[1:] if self._at_line_start and line[:1] == b"." else line)
            self._at_line_start = True
        if pieces:
            out.append((True, MessageData(b"".join(pieces))))
        if ended:
            self._end_message(out, complete=True)
            self._pending.append(".")
        return ended

    def _bdat_chunk(self, out: list[tuple[bool, Event]]) -> None:
        n = min(self._bdat_remaining, len(self._client))
        if n:
            out.append((True, MessageData(bytes(self._client[:n]))))
            del self._client[:n]
            self._bdat_remaining -= n
        if self._bdat_remaining == 0:
            self.client_state = _COMMAND
            if self._bdat_last:
                self._bdat_open = False
                out.append((True, MessageEnd(True)))

    def _end_message(self, out: list[tuple[bool, Event]], complete: bool) -> None:
        if self.in_message:
            out.append((True, MessageEnd(complete)))
            self.client_state = _COMMAND
            self._bdat_open = False

    def _client_error(self, out: list[tuple[bool, Event]], reason: str) -> None:
        self._end_message(out, complete=False)
        out.append((True, ProtocolError(reason, True)))
        self.client_state = _DEAD
        self._client.clear()

    # -- server ---------------------------------------------------------------------------------------

    def _run_server(self, out: list[tuple[bool, Event]]) -> None:
        while self.server_alive and not self.tls:
            newline = self._server.find(b"\n", self._server_scanned, MAX_LINE)
            self._server_scanned = len(self._server) if newline < 0 else 0
            if newline < 0:
                if len(self._server) >= MAX_LINE:
                    self._server_error(out, "reply line too long")
                return
            line = bytes(self._server[:newline]).rstrip(b"\r").decode("utf-8", "replace")
            del self._server[: newline + 1]
            if len(line) < 3 or not line[:3].isdigit() or line[3:4] not in ("", " ", "-"):
                self._server_error(out, f"malformed reply line: {line[:32]!r}")
                return
            self._server_lines.append(line[4:])
            if line[3:4] == "-":
                if len(self._server_lines) > 1024:
                    self._server_error(out, "reply with too many lines")
                continue
            lines, self._server_lines = self._server_lines, []
            command = self._pending.popleft() if self.greeted and self._pending else None
            self.greeted = True
            out.append((False, Reply(int(line[:3]), lines, command)))
            if command in ("DATA", "STARTTLS") and self.client_state == _WAITING:
                self._answer(command, int(line[:3]) in (220, 354), out)
                self._run_client(out)

    def _answer(self, command: str, accepted: bool, out: list[tuple[bool, Event]]) -> None:
        """The server answered DATA or STARTTLS: decide what the waiting client bytes are."""
        if command == "DATA" and accepted:
            self._start_data(out)
        elif command == "STARTTLS" and accepted:
            self.tls = True
            self._client.clear()
            out.append((False, TlsStarted()))
        else:
            self.client_state = _COMMAND

    def _server_error(self, out: list[tuple[bool, Event]], reason: str) -> None:
        out.append((False, ProtocolError(reason, False)))
        out.extend(self.gap(False))
