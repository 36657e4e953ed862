"""Attachments of mails sent over SMTP: envelope from the commands, parts from the stdlib MIME parser.

The mail is held (within the flow's and the global memory budget) from DATA to its final dot, then parsed
once; a mail cut by the budget or by the end of the connection is still parsed, its last part flagged.
"""

from __future__ import annotations

import re

from minerwatch.decode import Flow
from minerwatch.detectors.files.carve import Budget, Carve, FileLimits
from minerwatch.detectors.files.mime import header_text, leaf_parts, parse_message
from minerwatch.detectors.files.report import FileReporter, Transfer
from minerwatch.flows.info import FlowInfo
from minerwatch.flows.opening import Opening, opening
from minerwatch.protocols.smtp import (
    Command,
    MessageData,
    MessageEnd,
    MessageStart,
    ProtocolError,
    SmtpConnection,
    TlsStarted,
)

SMTP_PORTS = frozenset({25, 587, 2525})
MAX_RECIPIENTS = 32
_ADDRESS = re.compile(r"(?:FROM|TO):\s*<?([^>\s]{0,320})>?", re.IGNORECASE)
_GREETING = re.compile(rb"220[ -][^\r\n]{0,200}smtp", re.IGNORECASE)
_HELLO = (b"EHLO ", b"HELO ", b"ehlo ", b"helo ")


def looks_like_smtp(info: FlowInfo, first: bytes, to_server: bool) -> bool:
    if info.server_port in SMTP_PORTS:  # unless it opens like another protocol (TLS, SSH, HTTP)
        return opening(first) is Opening.OTHER
    return bool(_GREETING.match(first)) if not to_server else first.startswith(_HELLO)


class SmtpFileAnalyzer:
    def __init__(self, info: FlowInfo, reporter: FileReporter, limits: FileLimits, budget: Budget) -> None:
        self.info = info
        self.reporter = reporter
        self.limits = limits
        self.budget = Budget(limits.max_flow, budget)
        self.connection = SmtpConnection()
        self.mail_from: str | None = None
        self.rcpt_to: list[str] = []
        self.message: bytearray | None = None
        self.cut = False  # the mail being received outgrew the memory budget
        self.lost = "connection-closed"  # why a mail may end incomplete: the connection ended, or a gap
        self.done = False
        self.last_ts = 0.0

    def data(self, to_server: bool, data: bytes, ts: float, gap: bool) -> None:
        self.last_ts = ts
        if gap:
            self.lost = "gap"
        events = self.connection.gap(to_server) if gap else []
        events += self.connection.feed(to_server, data)
        for _, event in events:
            self._event(event, ts)

    def _event(self, event: object, ts: float) -> None:
        if isinstance(event, Command):
            if event.verb == "MAIL":
                self.mail_from, self.rcpt_to = _address(event.argument), []
            elif event.verb == "RCPT" and len(self.rcpt_to) < MAX_RECIPIENTS:
                self.rcpt_to.append(_address(event.argument) or event.argument[:320])
            elif event.verb == "RSET":
                self.mail_from, self.rcpt_to = None, []
        elif isinstance(event, MessageStart):
            self.message, self.cut = bytearray(), False
        elif isinstance(event, MessageData) and self.message is not None:
            granted = self.budget.take(len(event.data))
            self.message += event.data[:granted]
            self.cut |= granted < len(event.data)
        elif isinstance(event, MessageEnd):
            self._message_end(ts, cut=self.cut or not event.complete)
        elif isinstance(event, TlsStarted):
            self.reporter.stats.smtp_starttls += 1
            self.done = True
        elif isinstance(event, ProtocolError) and event.from_client:
            self.done = True

    def _message_end(self, ts: float, cut: bool) -> None:
        raw, self.message = self.message, None
        if raw is None:
            return
        self.reporter.stats.smtp_messages += 1
        try:
            message = parse_message(bytes(raw))
            email = {
                "mail_from": self.mail_from,
                "rcpt_to": list(self.rcpt_to),
                "from": header_text(message, "from"),
                "to": header_text(message, "to"),
                "subject": header_text(message, "subject"),
                "message_id": header_text(message, "message-id"),
            }
            parts = [
                p
                for p in leaf_parts(message, cut)
                if _is_attachment(p.disposition, p.filename, p.content_type)
            ]
        finally:
            self.budget.give_back(len(raw))
        for part in parts:
            carve = Carve(self.budget, self.limits.max_file)
            carve.write(part.data)
            if part.partial:
                carve.mark_partial("memory-cap" if self.cut else self.lost)
            transfer = Transfer(
                "smtp", "upload", True, part.filename, {"email": email}, declared_type=part.content_type
            )
            self.reporter.report(self.info, ts, transfer, carve.close())
            carve.release()

    def wants_more(self, bytes_seen: int) -> bool:
        return not self.done

    def end(self, flow: Flow, ts: float, reason: str) -> None:
        for _, event in self.connection.feed_eof():
            self._event(event, self.last_ts or ts)


def _address(argument: str) -> str | None:
    match = _ADDRESS.match(argument)
    return match[1] if match else None


def _is_attachment(disposition: str | None, filename: str | None, content_type: str) -> bool:
    """A part that is a file rather than the mail's text: named, marked attachment, or not text at all."""
    return (
        disposition == "attachment"
        or filename is not None
        or content_type.split("/")[0] not in ("text", "multipart", "message")
    )
