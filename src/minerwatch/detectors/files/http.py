"""Files in HTTP: response bodies (downloads), request bodies and multipart/form-data parts (uploads).

Bodies come from the shared HTTP parse (flows/http.py), de-chunked and content-decoded (gzip, deflate)
up to its body cap. Not every body is a file: one is reported when the transfer names a file (a
Content-Disposition filename, a form part with a filename, a URL ending in a file name) or when its bytes
are notable (an executable, script, archive or document by magic, a YARA match, or a pool/wallet
indicator). Pages and API answers without any of these are only counted. Bodies that start as markup or
as unknown binary data (images, media) are declined at their first bytes (the body choice of the declared
interest), so the HTTP layer can skip them unread when no other detector wants them either.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import unquote, urlsplit

from minerwatch.decode import Flow
from minerwatch.detectors.files.carve import Budget, Carve, FileLimits
from minerwatch.detectors.files.magic import identify, signatures
from minerwatch.detectors.files.mime import disposition_filename, leaf_parts, parse_form_data
from minerwatch.detectors.files.report import FileReporter, Transfer
from minerwatch.flows.http import HttpConsumer, HttpMessage
from minerwatch.flows.http_interest import HttpInterest
from minerwatch.flows.info import FlowInfo
from minerwatch.protocols.http import Request, Response
from minerwatch.protocols.websocket import Message

# Last URL path segments with these extensions are pages or API endpoints, not named files.
PAGE_EXTENSIONS = frozenset({"", "htm", "html", "php", "asp", "aspx", "jsp", "cgi", "do", "action"})
SNIFF_BYTES = 4096  # first body bytes typed to decide whether the body is worth reading
IMPLANT_CATEGORIES = frozenset({"executable", "script", "archive", "config"})
# Commands that make text a script worth carving even without a shebang (dropper one-liners).
SHELL_HINTS = (b"wget ", b"curl ", b"chmod ", b"crontab", b"nohup ", b"/bin/sh", b"/bin/bash", b"powershell")


def _request_head(message: HttpMessage) -> Request | None:
    """The request a message is or answers, when known."""
    if isinstance(message.head, Request):
        return message.head
    answered = message.request.head if message.request is not None else None
    return answered if isinstance(answered, Request) else None


def _is_form_data(message: HttpMessage) -> bool:
    content_type = message.head.headers.get(b"content-type") or b""
    return message.from_client and content_type.strip().lower().startswith(b"multipart/form-data")


def _text(value: bytes | None) -> str | None:
    return None if value is None else value.decode("utf-8", "replace")


def url_filename(target: str) -> tuple[str | None, bool]:
    """The last path segment of a request target, and whether it names a file (`config.json`, not `x.php`)."""
    segment = unquote(urlsplit(target).path.rsplit("/", 1)[-1])
    extension = segment.rpartition(".")[2].lower() if "." in segment else ""
    return segment or None, extension not in PAGE_EXTENSIONS


class HttpFileConsumer(HttpConsumer):
    """An HttpConsumer (flows/http.py) that carves the bodies of complete messages."""

    def __init__(self, reporter: FileReporter, limits: FileLimits, budget: Budget, carve_all: bool = False):
        self.reporter = reporter
        self.limits = limits
        self.budget = budget
        self.carve_all = carve_all

    @property
    def interest(self) -> HttpInterest:
        """Bodies that start like an implant (a signature of IMPLANT_CATEGORIES) or hold no NUL byte (a
        config, or text with shell hints); uploads are request bodies, which the gate hands over anyway.
        With `carve_all` every named download counts: every message, no gate."""
        if self.carve_all:
            return HttpInterest(every_message=True, bodies=self._reads_body)
        return HttpInterest(
            typed_bodies=True,
            signatures=signatures(IMPLANT_CATEGORIES),
            typed_sample=SNIFF_BYTES,
            bodies=self._reads_body,
        )

    def _reads_body(self, flow: FlowInfo, message: HttpMessage) -> bool:
        """By default only what an implant is made of is read: uploads,
        and bodies that are executables, scripts, archives or configurations by their magic. Pages, media
        and other downloads are left unread, so the hot path skips them (like Suricata, which hashes files
        only when asked). With `carve_all`, every named transfer and other non-markup text is read too."""
        if _is_form_data(message):
            return True
        head = bytes(message.body[:SNIFF_BYTES])
        kind = identify(head)
        if kind.category in IMPLANT_CATEGORIES:
            return True
        if kind.category == "text" and any(hint in head for hint in SHELL_HINTS):
            return True  # a dropper script without a shebang
        if not self.carve_all:
            return False
        if self._name(message)[1]:
            return True
        if kind.category == "text":
            return message.body.lstrip()[:1] != b"<"
        return kind.category != "data"

    def on_http(self, flow: FlowInfo, message: HttpMessage) -> None:
        if not message.body:
            return
        if self not in message.wanted_by:
            self.reporter.stats.http_bodies_skipped += 1  # not a file worth carving: counted only
            return
        head = message.head
        app = self._app(head, _request_head(message))
        content_type = (_text(head.headers.get(b"content-type")) or "").strip()
        if _is_form_data(message):
            self._form_data(flow, message, app, content_type)
            return
        filename, named = self._name(message)
        reason = self._partial_reason(message)
        wire_size = message.end.body_length if message.end is not None else None
        self._carve(
            flow, message, app, bytes(message.body), filename, named, content_type or None, reason, wire_size
        )

    @staticmethod
    def _name(message: HttpMessage) -> tuple[str | None, bool]:
        """The file's name, and whether the transfer names a file (Content-Disposition, or the URL)."""
        filename = disposition_filename(_text(message.head.headers.get(b"content-disposition")) or "")
        if filename is not None:
            return filename, True
        request = _request_head(message)
        return url_filename(_text(request.target) or "") if request is not None else (None, False)

    def _form_data(
        self, flow: FlowInfo, message: HttpMessage, app: dict[str, Any], content_type: str
    ) -> None:
        cut = message.end is not None and message.end.truncated
        for part in leaf_parts(parse_form_data(content_type, bytes(message.body)), cut):
            if part.data:
                part_app = {"http": {**app["http"], "form_field": part.field_name}}
                reason = self._partial_reason(message) if part.partial else None
                named = part.filename is not None
                self._carve(
                    flow, message, part_app, part.data, part.filename, named, part.content_type, reason, None
                )

    def _carve(
        self,
        flow: FlowInfo,
        message: HttpMessage,
        app: dict[str, Any],
        data: bytes,
        filename: str | None,
        named: bool,
        declared_type: str | None,
        partial_reason: str | None,
        wire_size: int | None,
    ) -> None:
        findings = self.reporter.examine(data[: self.limits.max_file])
        if not named and not findings.notable:
            self.reporter.stats.http_bodies_skipped += 1
            return
        carve = Carve(self.budget, self.limits.max_file)  # the body is already held by the HTTP parse
        carve.write(data)
        if partial_reason is not None:
            carve.mark_partial(partial_reason)
        transfer = Transfer(
            "http",
            "upload" if message.from_client else "download",
            message.from_client,
            filename,
            app,
            transfer_size=wire_size,
            declared_type=declared_type,
        )
        self.reporter.report(flow, message.ts, transfer, carve.close(), findings)
        carve.release()

    @staticmethod
    def _partial_reason(message: HttpMessage) -> str | None:
        end = message.end
        if isinstance(message.head, Response) and message.head.status == 206:
            return "range"
        if end is None:
            return "connection-closed"
        if end.truncated:
            return "body-cap"
        return "decode-error" if end.decode_error else None

    @staticmethod
    def _app(head: Request | Response, request: Request | None) -> dict[str, Any]:
        http: dict[str, Any] = {}
        if request is not None:
            http.update(
                hostname=_text(request.headers.get(b"host")),
                url=_text(request.target),
                http_method=_text(request.method),
                http_user_agent=_text(request.headers.get(b"user-agent")),
            )
        if isinstance(head, Response):
            http["status"] = head.status
        http["http_content_type"] = _text(head.headers.get(b"content-type"))
        return {"http": {k: v for k, v in http.items() if v is not None}}

    def on_websocket(self, flow: FlowInfo, ts: float, from_client: bool, message: Message) -> None:
        """WebSocket messages are pool or C2 traffic, not file transfers: other detectors read them."""

    def on_http_end(self, flow: FlowInfo, flow_counters: Flow, reason: str) -> None:
        """Messages arrive complete, so nothing is pending at the end of a flow."""
