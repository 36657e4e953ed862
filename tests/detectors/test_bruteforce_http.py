"""HTTP logins: credentials from Basic headers and login forms, and how a form's response is judged."""

from __future__ import annotations

import base64

import pytest

from minerwatch.detectors.bruteforce.campaign import FAILED, SUCCEEDED, UNKNOWN
from minerwatch.detectors.bruteforce.http import basic_credentials, form_credentials, form_outcome
from minerwatch.protocols.http import Headers, Request, Response


def request(headers: list[tuple[bytes, bytes]], method: bytes = b"POST") -> Request:
    return Request(method, b"/login", b"1.1", Headers(headers))


def response(status: int, headers: list[tuple[bytes, bytes]]) -> Response:
    return Response(status, b"", b"1.1", Headers(headers))


def test_basic_credentials_are_decoded_and_bad_tokens_ignored() -> None:
    token = base64.b64encode("admin:pa:ss wörd".encode())
    assert basic_credentials(request([(b"Authorization", b"Basic " + token)])) == ("admin", "pa:ss wörd")
    assert basic_credentials(request([(b"authorization", b"basic !!notbase64")])) is None
    assert basic_credentials(request([(b"Authorization", b"Bearer abc")])) is None
    assert basic_credentials(request([])) is None


@pytest.mark.parametrize(
    ("content_type", "body", "expected"),
    [
        (b"application/x-www-form-urlencoded", b"log=admin&pwd=s3cret&wp-submit=Log+In", ("admin", "s3cret")),
        (b"application/x-www-form-urlencoded", b"email=a%40b.c&password=p%26w", ("a@b.c", "p&w")),
        (b"application/json", b'{"username": "root", "password": "toor"}', ("root", "toor")),
        (b"application/json; charset=utf-8", b'{"pass": "x"}', (None, "x")),
        (b"application/x-www-form-urlencoded", b"q=search&page=2", None),
        (b"application/json", b"[1, 2]", None),
        (b"application/json", b"{not json", None),
        (b"text/plain", b"\xff\xfe binary", None),
    ],
)
def test_form_credentials(content_type: bytes, body: bytes, expected: tuple | None) -> None:
    assert form_credentials(request([(b"Content-Type", content_type)]), body) == expected


@pytest.mark.parametrize(
    ("status", "headers", "body", "outcome"),
    [
        (401, [], b"", FAILED),
        (403, [], b"", FAILED),
        (302, [(b"Location", b"/wp-admin/")], b"", SUCCEEDED),
        (302, [(b"Location", b"/login?error=1")], b"", FAILED),
        (303, [(b"Location", b"https://x/signin")], b"", FAILED),
        (200, [], b'<form><input type="password" name="pwd"></form>', FAILED),
        (200, [], b'{"error": "Invalid credentials"}', FAILED),
        (200, [], b"<h1>Dashboard</h1>", UNKNOWN),
        (500, [], b"", UNKNOWN),
    ],
)
def test_form_outcome(status: int, headers: list, body: bytes, outcome: str) -> None:
    assert form_outcome(response(status, headers), body) == outcome
