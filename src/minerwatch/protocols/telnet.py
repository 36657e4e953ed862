"""Telnet login dialogue, sans-IO: option negotiation stripped, prompts, typed lines and login verdicts.

Telnet has no login protocol: the server prints "login:" and "Password:" and the client types lines (often
one character per segment). The parser strips IAC negotiation (RFC 854/855), keeps the server's current
line (bounded) to recognise prompts and failure messages, and assembles the client's keystrokes into lines
(bounded, backspace honoured). Work is O(n); memory O(MAX_LINE) per direction.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

MAX_LINE = 512
PROMPT_TAIL = 64  # prompts are short: only the end of the current line is matched, however it grows
IAC, SB, SE = 0xFF, 0xFA, 0xF0
_WITH_OPTION = frozenset({0xFB, 0xFC, 0xFD, 0xFE})  # WILL, WONT, DO, DONT
_LOGIN_PROMPT = re.compile(r"(login|username|user name|user)\s*:\s*$", re.IGNORECASE)
_PASSWORD_PROMPT = re.compile(r"password\s*:\s*$", re.IGNORECASE)
_SHELL_PROMPT = re.compile(r"[$#%>]\s*$")
_FAILURE = re.compile(
    r"login incorrect|incorrect password|authentication fail|access denied|login failed"
    r"|invalid (login|password)|bad password|permission denied",
    re.IGNORECASE,
)
_LOGGED_IN = re.compile(r"last login:", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class Prompt:
    kind: str  # "login", "password" or "shell"


@dataclass(frozen=True, slots=True)
class LoginFailed:
    text: str


@dataclass(frozen=True, slots=True)
class LoggedIn:
    text: str


@dataclass(frozen=True, slots=True)
class Input:
    line: str


TelnetMessage = Prompt | LoginFailed | LoggedIn | Input


class IacStripper:
    """Removes telnet commands from one direction, also when they straddle chunks."""

    def __init__(self) -> None:
        self._state = 0  # 0 data, 1 after IAC, 2 after IAC+verb, 3 in SB, 4 in SB after IAC

    def feed(self, data: bytes) -> bytes:
        if self._state == 0 and IAC not in data:
            return data
        out = bytearray()
        state = self._state
        for byte in data:
            if state == 0:
                if byte == IAC:
                    state = 1
                else:
                    out.append(byte)
            elif state == 1:
                if byte == IAC:
                    out.append(IAC)
                    state = 0
                else:
                    state = 2 if byte in _WITH_OPTION else 3 if byte == SB else 0
            elif state == 2:
                state = 0
            elif state == 3:
                state = 4 if byte == IAC else 3
            else:
                state = 0 if byte == SE else 3
        self._state = state
        return bytes(out)


class TelnetParser:
    done = False  # free text: there is no framing to lose

    def __init__(self) -> None:
        self.strippers = {True: IacStripper(), False: IacStripper()}
        self._server_line = ""
        self._prompted = False  # the current server line was already reported as a prompt
        self._client_line: list[str] = []
        self._after_cr = False

    def feed(self, to_server: bool, data: bytes) -> list[TelnetMessage]:
        text = self.strippers[to_server].feed(data).decode("latin-1")
        return self._client(text) if to_server else self._server(text)

    def gap(self, to_server: bool) -> None:
        if to_server:
            self._client_line.clear()
        else:
            self._server_line = ""

    def _server(self, text: str) -> list[TelnetMessage]:
        out: list[TelnetMessage] = []
        *complete, partial = (self._server_line + text).split("\n")
        for line in complete:
            self._judge(line, out)
            self._prompted = False
        self._server_line = partial[-MAX_LINE:]
        tail = self._server_line[-PROMPT_TAIL:]
        if not self._prompted:
            for kind, pattern in (("password", _PASSWORD_PROMPT), ("login", _LOGIN_PROMPT)):
                if pattern.search(tail):
                    out.append(Prompt(kind))
                    self._prompted = True
                    return out
            if _SHELL_PROMPT.search(tail):
                out.append(Prompt("shell"))
                self._prompted = True
        return out

    @staticmethod
    def _judge(line: str, out: list[TelnetMessage]) -> None:
        if _FAILURE.search(line):
            out.append(LoginFailed(line.strip()[:MAX_LINE]))
        elif _LOGGED_IN.search(line):
            out.append(LoggedIn(line.strip()[:MAX_LINE]))

    def _client(self, text: str) -> list[TelnetMessage]:
        out: list[TelnetMessage] = []
        line = self._client_line
        for char in text:
            if char in "\r\n":
                if not (char == "\n" and self._after_cr):
                    out.append(Input("".join(line)))
                    line.clear()
                    self._server_line, self._prompted = "", False  # the prompt is answered
                self._after_cr = char == "\r"
                continue
            self._after_cr = False
            if char in "\x08\x7f":
                if line:
                    line.pop()
            elif char != "\0" and len(line) < MAX_LINE:
                line.append(char)
        return out
