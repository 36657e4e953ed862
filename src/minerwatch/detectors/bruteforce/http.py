"""HTTP logins from the shared HTTP parse: Basic authentication and password forms, judged by the response.

Basic: a request with `Authorization: Basic` answered 401/403 is a refused login, 2xx/3xx an accepted
one. Forms: a POST whose urlencoded or JSON body has a password-like field. Their verdict is a heuristic:
401/403, a redirect back to a login/error page, or a page that again asks for a password (or says the
login was wrong) is a refusal; any other redirect is a success; anything else is of unknown outcome.
Nothing is kept per flow: each response is judged with the request it answers.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Callable
from urllib.parse import parse_qsl

import orjson

from minerwatch.detectors.bruteforce.campaign import FAILED, SUCCEEDED, UNKNOWN, Attempt
from minerwatch.flows.http import HttpConsumer, HttpMessage
from minerwatch.flows.http_interest import HttpInterest
from minerwatch.flows.info import FlowInfo
from minerwatch.protocols.http import Request, Response

MAX_FORM = 8 * 1024
MAX_FIELDS = 64
_PASSWORD_FIELD = re.compile(r"pass|pwd|passwd|^pw$|secret", re.IGNORECASE)
_USER_FIELD = re.compile(r"user|login|^log$|e-?mail|account|^name$|^uid$", re.IGNORECASE)
_REFUSED_PAGE = re.compile(
    rb"type=[\"']?password|invalid|incorrect|wrong|failed|denied|unauthori[sz]ed", re.IGNORECASE
)
_REFUSED_REDIRECT = re.compile(rb"login|signin|sign-in|error|fail|denied", re.IGNORECASE)


def _text(raw: bytes | str) -> str:
    value = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else raw
    return value[:256]


def basic_credentials(request: Request) -> tuple[str, str] | None:
    value = request.headers.get(b"authorization")
    if value is None or value[:6].lower() != b"basic ":
        return None
    try:
        decoded = base64.b64decode(value[6:].strip()[:1024], validate=True)
    except (binascii.Error, ValueError):
        return None
    user, _, password = decoded.partition(b":")
    return _text(user), _text(password)


def form_credentials(request: Request, body: bytes) -> tuple[str | None, str] | None:
    """(username, password) of a urlencoded or JSON login form, or None if no field looks like a password."""
    content_type = (request.headers.get(b"content-type") or b"").lower()
    fields: list[tuple[str, str]]
    if b"json" in content_type:
        try:
            document = orjson.loads(body[:MAX_FORM])
        except orjson.JSONDecodeError:
            return None
        if not isinstance(document, dict):
            return None
        fields = [(str(k), v) for k, v in list(document.items())[:MAX_FIELDS] if isinstance(v, str)]
    else:
        text = body[:MAX_FORM].decode("latin-1")
        fields = parse_qsl(text, max_num_fields=MAX_FIELDS, separator="&") if "=" in text else []
    password = next((v for k, v in fields if _PASSWORD_FIELD.search(k)), None)
    if password is None:
        return None
    user = next((v for k, v in fields if _USER_FIELD.search(k) and not _PASSWORD_FIELD.search(k)), None)
    return (_text(user) if user is not None else None), _text(password)


def form_outcome(response: Response, body: bytes) -> str:
    status = response.status
    if status in (401, 403):
        return FAILED
    if 300 <= status < 400:
        location = response.headers.get(b"location") or b""
        return FAILED if _REFUSED_REDIRECT.search(location) else SUCCEEDED
    if 200 <= status < 300 and _REFUSED_PAGE.search(body[:MAX_FORM]):
        return FAILED
    return UNKNOWN


class HttpLogins(HttpConsumer):
    """HttpConsumer: one attempt per answered Basic or form login."""

    def __init__(self, report: Callable[[Attempt], object]) -> None:
        self.report = report

    @property
    def interest(self) -> HttpInterest:
        """Basic logins carry Authorization; form logins are POSTed (which the gate hands over anyway)."""
        return HttpInterest(request_headers=frozenset({b"authorization"}), bodies=self._reads_body)

    def _reads_body(self, flow: FlowInfo, message: HttpMessage) -> bool:
        """Form logins are judged from the POSTed fields and the page that answers them: only POST bodies,
        and answers to a POST that carried a password, are read; other bodies can be skipped."""
        if message.from_client:
            return isinstance(message.head, Request) and message.head.method == b"POST"
        request = message.request
        return (
            request is not None
            and isinstance(request.head, Request)
            and request.head.method == b"POST"
            and form_credentials(request.head, bytes(request.body)) is not None
        )

    def on_http(self, flow: FlowInfo, message: HttpMessage) -> None:
        if message.from_client or message.request is None:
            return
        request, response = message.request.head, message.head
        if not isinstance(request, Request) or not isinstance(response, Response):
            return
        service, outcome = "http-basic", UNKNOWN
        credentials: tuple[str | None, str] | None = basic_credentials(request)
        if credentials is not None:
            if response.status in (401, 403):
                outcome = FAILED
            elif 200 <= response.status < 400:
                outcome = SUCCEEDED
        elif request.method == b"POST":
            credentials = form_credentials(request, bytes(message.request.body))
            service, outcome = "http-form", form_outcome(response, bytes(message.body))
        if credentials is None:
            return
        url = _text(request.target.partition(b"?")[0])
        self.report(
            Attempt(
                flow.client_ip,
                flow.server_ip,
                flow.server_port,
                service,
                message.request.ts,
                outcome,
                flow.flow_id,
                credentials[0],
                credentials[1],
                (("url", url),),
            )
        )
