"""FTP control channel (RFC 959), sans-IO: client commands, server replies (multi-line ones joined).

Lines are framed by jsonrpc.LineFramer (bounded, O(n)). A multi-line reply ("230-...", "230 ...") is one
`Reply` carrying its first line. After the server accepts AUTH TLS/SSL (234) the channel is encrypted and
the parser is `done`.
"""

from __future__ import annotations

from dataclasses import dataclass

from minerwatch.protocols.jsonrpc import LineFramer

MAX_LINE = 8 * 1024
AUTH_TLS_OK = 234


@dataclass(frozen=True, slots=True)
class Command:
    verb: str  # upper-cased: "USER", "PASS"...
    argument: str


@dataclass(frozen=True, slots=True)
class Reply:
    code: int
    text: str


FtpMessage = Command | Reply


def _text(raw: bytes) -> str:
    return raw[:256].decode("utf-8", "replace")


class FtpParser:
    def __init__(self) -> None:
        self.framers = {True: LineFramer(MAX_LINE), False: LineFramer(MAX_LINE)}
        self.done = False
        self._multi: tuple[bytes, bytes] | None = None  # (code, first line) of an open multi-line reply
        self._auth_sent = False

    def feed(self, to_server: bool, data: bytes) -> list[FtpMessage]:
        out: list[FtpMessage] = []
        for line in self.framers[to_server].feed(data):
            if self.done:
                break
            message = self._command(line) if to_server else self._reply(line)
            if message is not None:
                out.append(message)
        return out

    def gap(self, to_server: bool) -> None:
        self.framers[to_server].gap()

    def _command(self, line: bytes) -> Command:
        verb, _, argument = line.partition(b" ")
        command = Command(_text(verb).upper(), _text(argument))
        self._auth_sent = command.verb == "AUTH"
        return command

    def _reply(self, line: bytes) -> Reply | None:
        code, separator = line[:3], line[3:4]
        if self._multi is not None:
            if code != self._multi[0] or separator != b" ":
                return None
            code, line = self._multi
            self._multi = None
        elif not code.isdigit():
            return None
        elif separator == b"-":
            self._multi = (code, line)
            return None
        reply = Reply(int(code), _text(line[4:]))
        self.done = self._auth_sent and reply.code == AUTH_TLS_OK
        return reply
