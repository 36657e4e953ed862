"""Redis RESP2/RESP3 and inline commands, sans-IO: client commands, top-level server replies.

Only what pairing needs is kept: the first `MAX_ARGS` arguments of a command (each cut to `MAX_ARG` bytes)
and the first line of a simple or error reply. Bulk payloads are counted through, never buffered whole, and
aggregates only move a counter, so a hostile `*2147483647` costs nothing. A line longer than `MAX_LINE`
breaks the stream (`broken`). Worst case O(n) work and O(MAX_LINE) memory per direction.
"""

from __future__ import annotations

from dataclasses import dataclass

MAX_LINE = 64 * 1024
MAX_ARGS = 5  # enough for HELLO 3 AUTH <user> <password>
MAX_ARG = 512
_AGGREGATES = {ord("*"): 1, ord("~"): 1, ord(">"): 1, ord("%"): 2, ord("|"): 2}
_BULKS = frozenset(b"$=!")
_SIMPLE = frozenset(b"+-:_,#(")


@dataclass(frozen=True, slots=True)
class Command:
    args: tuple[bytes, ...]  # the command name first, as sent

    @property
    def name(self) -> bytes:
        return self.args[0].upper() if self.args else b""


@dataclass(frozen=True, slots=True)
class Reply:
    kind: str  # the RESP type character: "+", "-", "$", "*"...
    text: bytes  # first line of a simple or error reply, else b""

    @property
    def error(self) -> bool:
        return self.kind in "-!"


RedisMessage = Command | Reply


class RespReader:
    """One direction. `client=True` also accepts inline commands and collects command arguments."""

    def __init__(self, client: bool) -> None:
        self.client = client
        self.broken = False
        self._buffer = bytearray()
        self._scanned = 0  # bytes of the partial line at the buffer's start already searched for a newline
        self._pending = 0  # elements still missing in the current top-level message
        self._kind = ""
        self._text = b""
        self._args: list[bytes] = []
        self._bulk_left = -1  # bulk payload bytes (CRLF included) still to come, -1 when none
        self._bulk_size = 0
        self._bulk = bytearray()

    def feed(self, data: bytes) -> list[RedisMessage]:
        if self.broken:
            return []
        out: list[RedisMessage] = []
        buffer = self._buffer
        buffer += data
        pos = 0
        while pos < len(buffer):
            if self._bulk_left >= 0:
                take = min(self._bulk_left, len(buffer) - pos)
                room = MAX_ARG - len(self._bulk)
                self._bulk += buffer[pos : pos + min(take, room)]
                pos += take
                self._bulk_left -= take
                if self._bulk_left:
                    break
                self._bulk_left = -1
                self._element(bytes(self._bulk[: min(self._bulk_size, MAX_ARG)]), out)
                continue
            end = buffer.find(b"\n", pos + self._scanned)
            if end < 0:
                if len(buffer) - pos > MAX_LINE:
                    self.broken = True
                    buffer.clear()
                    return out
                self._scanned = len(buffer) - pos  # a line fed byte by byte is still searched once
                break
            self._scanned = 0
            self._line(bytes(buffer[pos:end]).rstrip(b"\r"), out)
            pos = end + 1
        del buffer[:pos]
        return out

    def _line(self, line: bytes, out: list[RedisMessage]) -> None:
        kind = line[0] if line else 0
        top = self._pending == 0
        if top:
            self._kind, self._text, self._args = chr(kind) if kind else "", b"", []
        if kind in _AGGREGATES or kind in _BULKS:
            digits = line[1:]
            count = int(digits) if len(digits) < 20 and digits.lstrip(b"-").isdigit() else -1
            if kind in _BULKS:
                if count >= 0:
                    self._pending += top
                    self._bulk_left, self._bulk_size, self._bulk = count + 2, count, bytearray()
                    return
            elif count > 0:
                self._pending += count * _AGGREGATES[kind] - (not top)
                return
            self._element(b"", out, top)
        elif kind in _SIMPLE or not self.client:
            if top:
                self._text = line[1:MAX_LINE]
            self._element(line[1:MAX_ARG], out, top)
        elif top and line.strip():
            out.append(Command(tuple(arg[:MAX_ARG] for arg in line.split()[:MAX_ARGS])))

    def _element(self, value: bytes, out: list[RedisMessage], alone: bool = False) -> None:
        """One element done; a top-level message is complete when none is missing any more."""
        if alone:
            self._complete(out)
            return
        if len(self._args) < MAX_ARGS:
            self._args.append(value)
        self._pending -= 1
        if self._pending <= 0:
            self._pending = 0
            self._complete(out)

    def _complete(self, out: list[RedisMessage]) -> None:
        if self.client:
            out.append(Command(tuple(self._args)))
        else:
            out.append(Reply(self._kind, self._text))


class RedisParser:
    def __init__(self) -> None:
        self.readers = {True: RespReader(client=True), False: RespReader(client=False)}

    @property
    def done(self) -> bool:
        """A direction lost its framing: replies can no longer be paired with commands."""
        return self.readers[True].broken or self.readers[False].broken

    def feed(self, to_server: bool, data: bytes) -> list[RedisMessage]:
        return self.readers[to_server].feed(data)

    def gap(self, to_server: bool) -> None:
        self.readers[to_server].broken = True
