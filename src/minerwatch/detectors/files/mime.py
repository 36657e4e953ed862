"""MIME parts out of a mail (SMTP) or a multipart/form-data body (HTTP uploads), via the stdlib parser.

The `email` package (compat32 policy: headers stay strings, nothing raises on odd ones) does the MIME
structure; transfer encodings are decoded here leniently, so a base64 attachment cut short by a lost
connection still yields the bytes it carried. A message known to be cut marks its last leaf part partial,
because that is where the cut fell.
"""

from __future__ import annotations

import binascii
import re
from dataclasses import dataclass
from email import policy
from email.header import decode_header, make_header
from email.message import Message
from email.parser import BytesParser

MAX_PARTS = 256  # leaf parts looked at per message: a mail of ten thousand empty parts costs no more
_BASE64_JUNK = re.compile(rb"[^A-Za-z0-9+/]")
_PARSER = BytesParser(policy=policy.compat32)


@dataclass(frozen=True, slots=True)
class MimePart:
    data: bytes
    filename: str | None
    content_type: str
    disposition: str | None  # "attachment", "inline", "form-data" or None
    field_name: str | None  # form-data field name
    partial: bool


def parse_message(raw: bytes) -> Message:
    return _PARSER.parsebytes(raw)


def parse_form_data(content_type: str, body: bytes) -> Message:
    """A multipart body as a message, by putting its Content-Type header in front of it."""
    return parse_message(b"Content-Type: " + content_type.encode("latin-1", "replace") + b"\r\n\r\n" + body)


def header_text(message: Message, name: str) -> str | None:
    """A header decoded from RFC 2047 words; the raw text when the encoded words are broken."""
    value = message.get(name)
    return None if value is None else _decode_words(str(value))


def leaf_parts(message: Message, cut: bool) -> list[MimePart]:
    """The non-multipart parts in document order, decoded; `cut` says the message itself is incomplete."""
    leaves = [part for part in message.walk() if not part.is_multipart()][:MAX_PARTS]
    out = []
    for i, part in enumerate(leaves):
        out.append(
            MimePart(
                data=decode_payload(part),
                filename=_filename(part),
                content_type=part.get_content_type(),
                disposition=part.get_content_disposition(),
                # a str here: get_param returns a tuple only for RFC 2231 values, which the policy decodes
                field_name=part.get_param("name", header="content-disposition") or None,  # type: ignore[arg-type]
                partial=cut and i == len(leaves) - 1,
            )
        )
    return out


def decode_payload(part: Message) -> bytes:
    """The part's bytes with its Content-Transfer-Encoding undone, tolerating a cut or sloppy encoding."""
    encoding = str(part.get("content-transfer-encoding", "")).strip().lower()
    if encoding in ("base64", "quoted-printable"):
        payload = part.get_payload(decode=False)
        if not isinstance(payload, str):
            return b""
        raw = payload.encode("utf-8", "surrogateescape")  # anything not ASCII is junk in these encodings
        if encoding == "quoted-printable":
            return binascii.a2b_qp(raw)
        # A last group of 2 or 3 characters holds 1 or 2 whole bytes (padded, or cut short): keep them.
        alphabet = _BASE64_JUNK.sub(b"", raw.split(b"=", 1)[0])
        if len(alphabet) % 4 == 1:
            alphabet = alphabet[:-1]
        return binascii.a2b_base64(alphabet + b"=" * (-len(alphabet) % 4))
    decoded = part.get_payload(decode=True)  # 7bit, 8bit, binary (the original bytes), uuencode
    return decoded if isinstance(decoded, bytes) else b""


def _filename(part: Message) -> str | None:
    name = part.get_filename() or part.get_param("name")
    return _decode_words(name) if isinstance(name, str) and name else None


def _decode_words(text: str) -> str:
    """RFC 2047 encoded words decoded; the text as it came when they are broken."""
    try:
        return str(make_header(decode_header(text)))
    except (ValueError, LookupError, UnicodeError, binascii.Error):
        return text


def disposition_filename(value: str) -> str | None:
    """The filename parameter of a Content-Disposition header value (RFC 6266, with RFC 2231 forms)."""
    holder = Message()
    holder["Content-Disposition"] = value
    return _filename(holder)
