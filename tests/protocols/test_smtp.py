"""SMTP parser: commands and replies, dot-unstuffing, pipelining, BDAT, STARTTLS, refusals, cuts, bounds."""

from __future__ import annotations

from minerwatch.protocols.smtp import (
    MAX_LINE,
    MAX_WAITING,
    Command,
    Event,
    MessageData,
    MessageEnd,
    ProtocolError,
    Reply,
    SmtpConnection,
    TlsStarted,
)

Script = list[tuple[bool, bytes]]
GREETING: Script = [
    (False, b"220 mx.example ESMTP ready\r\n"),
    (True, b"EHLO pc\r\n"),
    (False, b"250 mx\r\n"),
]


def run(script: Script, eof: bool = True) -> list[tuple[bool, Event]]:
    connection = SmtpConnection()
    events = []
    for from_client, data in script:
        events += connection.feed(from_client, data)
    if eof:
        events += connection.feed_eof()
    return events


def message_bytes(events: list[tuple[bool, Event]]) -> bytes:
    return b"".join(e.data for _, e in events if isinstance(e, MessageData))


def kinds(events: list[tuple[bool, Event]]) -> list[str]:
    return [type(e).__name__ for _, e in events]


def test_pipelined_transaction_with_dot_stuffing() -> None:
    events = run(
        [
            *GREETING,
            (True, b"MAIL FROM:<a@x>\r\nRCPT TO:<b@y>\r\nDATA\r\n"),
            (False, b"250 ok\r\n250 ok\r\n354 send\r\n"),
            (True, b"Subject: s\r\n\r\n..leading dot\r\n.\r\nQUIT\r\n"),
            (False, b"250 queued\r\n221 bye\r\n"),
        ]
    )
    assert message_bytes(events) == b"Subject: s\r\n\r\n.leading dot\r\n"
    assert [e for _, e in events if isinstance(e, MessageEnd)] == [MessageEnd(True)]
    replies = [(e.code, e.command) for _, e in events if isinstance(e, Reply)]
    assert replies == [
        (220, None),
        (250, "EHLO"),
        (250, "MAIL"),
        (250, "RCPT"),
        (354, "DATA"),
        (250, "."),
        (221, "QUIT"),
    ]
    commands = [(e.verb, e.argument) for _, e in events if isinstance(e, Command)]
    assert commands[-1] == ("QUIT", "") and ("MAIL", "FROM:<a@x>") in commands


def test_refused_data_leaves_the_client_in_command_mode() -> None:
    events = run(
        [*GREETING, (True, b"DATA\r\n"), (False, b"554 no valid recipients\r\n"), (True, b"QUIT\r\n")]
    )
    assert "MessageStart" not in kinds(events)
    assert [e.verb for _, e in events if isinstance(e, Command)] == ["EHLO", "DATA", "QUIT"]


def test_client_bytes_sent_before_the_354_wait_for_it() -> None:
    events = run([*GREETING, (True, b"DATA\r\nbody line\r\n.\r\n"), (False, b"354 go\r\n")])
    assert message_bytes(events) == b"body line\r\n"
    assert kinds(events)[-1] == "MessageEnd"


def test_bdat_chunks_are_taken_raw_and_last_ends_the_message() -> None:
    events = run(
        [*GREETING, (True, b"BDAT 5\r\n.\r\nabBDAT 3 LAST\r\nxyz"), (False, b"250 ok\r\n250 ok\r\n")]
    )
    assert message_bytes(events) == b".\r\nabxyz"
    assert kinds(events).count("MessageStart") == 1 and (True, MessageEnd(True)) in events


def test_starttls_stops_parsing() -> None:
    events = run([*GREETING, (True, b"STARTTLS\r\n\x16\x03\x01\x02\x00"), (False, b"220 go\r\n\x16\x03\x03")])
    assert kinds(events)[-1] == "TlsStarted" and TlsStarted() in [e for _, e in events]
    assert [e.verb for _, e in events if isinstance(e, Command)] == ["EHLO", "STARTTLS"]


def test_connection_end_cuts_the_message_after_its_last_bytes() -> None:
    events = run([*GREETING, (True, b"DATA\r\n"), (False, b"354 go\r\n"), (True, b"line one\r\nhalf a li")])
    assert message_bytes(events) == b"line one\r\nhalf a li"
    assert events[-1] == (True, MessageEnd(False))


def test_gap_in_the_client_direction_cuts_the_message() -> None:
    connection = SmtpConnection()
    for from_client, data in [*GREETING, (True, b"DATA\r\n"), (False, b"354 go\r\n"), (True, b"abc\r\n")]:
        connection.feed(from_client, data)
    assert connection.gap(True) == [(True, MessageEnd(False))]
    assert connection.feed(True, b"more\r\n") == []


def test_without_the_server_direction_data_is_assumed_accepted() -> None:
    connection = SmtpConnection()
    connection.gap(False)
    events = connection.feed(True, b"DATA\r\nhello\r\n.\r\n")
    assert message_bytes(events) == b"hello\r\n" and events[-1] == (True, MessageEnd(True))


def test_overlong_message_lines_pass_through_in_pieces() -> None:
    line = b"." + b"A" * (MAX_LINE * 2) + b"\r\n"
    events = run([*GREETING, (True, b"DATA\r\n"), (False, b"354 go\r\n"), (True, line + b".\r\n")])
    assert message_bytes(events) == line[1:]


def test_bounds_are_errors_not_growth() -> None:
    connection = SmtpConnection()
    events = connection.feed(True, b"X" * (MAX_LINE + 1))
    assert isinstance(events[-1][1], ProtocolError) and len(connection._client) == 0
    waiting = SmtpConnection()
    events = waiting.feed(True, b"DATA\r\n" + b"y" * (MAX_WAITING + 10))
    assert isinstance(events[-1][1], ProtocolError)
    bad_server = SmtpConnection()
    assert isinstance(bad_server.feed(False, b"hello there\r\n")[0][1], ProtocolError)
