"""Property tests: SMTP events do not depend on how the bytes are split; hostile bytes never raise and
stay within the bounds; MIME parsing of any bytes (also cut) never raises."""

from __future__ import annotations

import itertools

from hypothesis import given, settings
from hypothesis import strategies as st

from minerwatch.detectors.files.mime import leaf_parts, parse_form_data, parse_message
from minerwatch.protocols.smtp import MAX_LINE, MAX_WAITING, Event, MessageData, SmtpConnection

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
