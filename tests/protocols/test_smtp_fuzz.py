"""Property tests: SMTP events do not depend on how the bytes are split; hostile bytes never raise and
stay within the bounds; MIME parsing of any bytes (also cut) never raises."""

from __future__ import annotations

import itertools
from email.message import EmailMessage

from hypothesis import given, settings
from hypothesis import strategies as st

from minerwatch.detectors.files.mime import leaf_parts, parse_form_data, parse_message
from minerwatch.protocols.smtp import MAX_LINE, MAX_WAITING, Event, MessageData, MessageEnd, SmtpConnection

SESSION: list[tuple[bool, bytes]] = [
    (False, b"220 mx ESMTP\r\n"),
    (True, b"EHLO a\r\nMAIL FROM:<a@b>\r\nRCPT TO:<c@d>\r\nDATA\r\n"),
    (False, b"250-mx\r\n250 PIPELINING\r\n250 ok\r\n250 ok\r\n354 go\r\n"),
    (True, b"Subject: x\r\n\r\n..dot\r\n.\r\n\r\nline\r\n.\r\nBDAT 4 LAST\r\nab\r\nRSET\r\n"),
    (False, b"250 queued\r\n250 ok\r\n250 reset\r\n"),
]


def merged(events: list[tuple[bool, Event]]) -> list[tuple[bool, Event]]:
    out: list[tuple[bool, Event]] = []
    for side, event in events:
        if isinstance(event, MessageData) and out and isinstance(out[-1][1], MessageData):
            out[-1] = (side, MessageData(out[-1][1].data + event.data))  # type: ignore[union-attr]
        else:
            out.append((side, event))
    return out


def feed_split(cuts: list[int]) -> list[tuple[bool, Event]]:
    connection = SmtpConnection()
    events = []
    for side, data in SESSION:
        points = sorted({0, len(data), *(c % (len(data) + 1) for c in cuts)})
        for a, b in itertools.pairwise(points):
            events += connection.feed(side, data[a:b])
    return merged(events + connection.feed_eof())


WHOLE = feed_split([])


@settings(max_examples=300, deadline=None)
@given(st.lists(st.integers(min_value=0, max_value=200), max_size=12))
def test_any_split_gives_the_same_events(cuts: list[int]) -> None:
    assert feed_split(cuts) == WHOLE


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(st.booleans(), st.binary(max_size=300)), max_size=30))
def test_garbage_never_raises_and_stays_bounded(script: list[tuple[bool, bytes]]) -> None:
    connection = SmtpConnection()
    for side, data in script:
        connection.feed(side, data)
        assert len(connection._client) <= max(MAX_LINE, MAX_WAITING) + 300
        assert len(connection._server) <= MAX_LINE + 300
    connection.feed_eof()


MIME_PIECES = st.sampled_from(
    [
        b'Content-Type: multipart/mixed; boundary="b"\r\n',
        b"Content-Transfer-Encoding: base64\r\n",
        b"Content-Transfer-Encoding: quoted-printable\r\n",
        b"Content-Disposition: attachment; filename*=utf-8''%C3%A9.bin\r\n",
        b"Subject: =?utf-8?b?broken\r\n",
        b"\r\n",
        b"--b\r\n",
        b"--b--\r\n",
        b"QUJD=\r\n",
        b"=E9=\r\n",
        b"\xff\xfe\x00",
    ]
)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.one_of(MIME_PIECES, st.binary(max_size=40)), max_size=40), st.booleans())
def test_mime_parsing_of_any_bytes_never_raises(pieces: list[bytes], cut: bool) -> None:
    raw = b"".join(pieces)
    for part in leaf_parts(parse_message(raw), cut):
        assert isinstance(part.data, bytes)
    leaf_parts(parse_form_data('multipart/form-data; boundary="b"', raw), cut)


def attachment_mail(payload: bytes, cte: str) -> bytes:
    message = EmailMessage()
    message["Subject"] = "files"
    message.set_content("body\n.\n")
    if cte == "base64":
        message.add_attachment(payload, maintype="application", subtype="octet-stream", filename="f.bin")
    else:
        message.add_attachment(payload, maintype="text", subtype="plain", filename="f.txt", cte=cte)
    return message.as_bytes().replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")


def through_smtp(mail: bytes, cuts: list[int], finish: bool) -> tuple[bytes, bool]:
    """Send `mail` (dot-stuffed) in pieces; returns what the parser delivered and whether it ended cleanly."""
    stuffed = b"".join(
        b"." + line if line.startswith(b".") else line for line in mail.splitlines(keepends=True)
    )
    stream = b"DATA\r\n" + stuffed + (b".\r\n" if finish else b"")
    connection = SmtpConnection()
    connection.gap(False)  # client side only: DATA is taken as accepted
    events = []
    points = sorted({0, len(stream), *(c % (len(stream) + 1) for c in cuts)})
    for a, b in itertools.pairwise(points):
        events += connection.feed(True, stream[a:b])
    events += connection.feed_eof()
    ends = [e for _, e in events if isinstance(e, MessageEnd)]
    return b"".join(e.data for _, e in events if isinstance(e, MessageData)), ends == [MessageEnd(True)]


@settings(max_examples=150, deadline=None)
@given(
    st.binary(min_size=1, max_size=3000),
    st.sampled_from(["base64", "quoted-printable"]),
    st.lists(st.integers(min_value=0, max_value=10_000), max_size=8),
)
def test_attachments_round_trip_through_smtp_and_mime(payload: bytes, cte: str, cuts: list[int]) -> None:
    mail = attachment_mail(payload, cte)
    delivered, clean = through_smtp(mail, cuts, finish=True)
    assert clean and delivered == mail
    [part] = [p for p in leaf_parts(parse_message(delivered), cut=False) if p.filename]
    assert part.data == payload and not part.partial  # bytes: quoted-printable encodes line ends too


@settings(max_examples=150, deadline=None)
@given(st.binary(min_size=64, max_size=3000), st.floats(min_value=0.05, max_value=0.95))
def test_a_cut_base64_attachment_yields_a_prefix(payload: bytes, fraction: float) -> None:
    mail = attachment_mail(payload, "base64")
    start = mail.index(b"\r\n\r\n", mail.index(b"f.bin")) + 4
    cut_at = start + int((len(mail) - start) * fraction)
    delivered, clean = through_smtp(mail[:cut_at], [], finish=False)
    assert not clean
    [part] = [p for p in leaf_parts(parse_message(delivered), cut=True) if p.filename]
    assert part.partial and payload.startswith(part.data)
    assert len(part.data) >= (cut_at - start) * 3 // 4 - 64  # all but the last line's few bytes
