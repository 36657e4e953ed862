"""The login-protocol parsers used by brute-force detection, fed bytes: what each one extracts, that any
segmentation gives the same messages (where the protocol allows), and that hostile bytes never raise and
never grow a buffer past its bound."""

from __future__ import annotations

import struct
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from minerwatch.protocols import ftp, mysql, postgres, rdp, redis, ssh, tds, telnet
from minerwatch.protocols.records import RecordFramer

Transcript = list[tuple[bool, bytes]]  # (to_server, bytes) in order


def feed_all(parser: Any, transcript: Transcript) -> list[Any]:
    return [m for to_server, data in transcript for m in parser.feed(to_server, data)]


# ---- transcripts -----------------------------------------------------------------------------------------


def mysql_packet(seq: int, payload: bytes) -> bytes:
    return len(payload).to_bytes(3, "little") + bytes([seq]) + payload


MYSQL_FIXED = struct.pack("<IIB23s", mysql.CLIENT_PROTOCOL_41 | 0x8000, 1 << 24, 33, b"\0" * 23)
MYSQL: Transcript = [
    (False, mysql_packet(0, b"\x0a5.7.44-log\x00" + b"\x07\x00\x00\x00" + b"salt1234\x00")),
    (True, mysql_packet(1, MYSQL_FIXED + b"root\x00\x14" + b"h" * 20)),
    (
        False,
        mysql_packet(2, b"\xff\x15\x04#28000Access denied for user 'root'@'1.2.3.4' (using password: YES)"),
    ),
    (True, mysql_packet(0, b"\x03SELECT 1")),  # never parsed: the login is over
]


def pg(kind: bytes, body: bytes) -> bytes:
    return kind + struct.pack("!I", 4 + len(body)) + body


PG_STARTUP = b"user\0postgres\0database\0prod\0\0"
POSTGRES: Transcript = [
    (True, struct.pack("!II", 8, postgres.SSL_REQUEST)),
    (False, b"N"),
    (True, struct.pack("!II", 8 + len(PG_STARTUP), postgres.PROTOCOL_3) + PG_STARTUP),
    (False, pg(b"R", struct.pack("!I", postgres.AUTH_CLEARTEXT))),
    (True, pg(b"p", b"hunter2\0")),
    (False, pg(b"E", b"SFATAL\0C28P01\0Mpassword authentication failed\0\0")),
]


def tds_packets(kind: int, payload: bytes, size: int = 4096) -> bytes:
    """A TDS message split into packets of at most `size` bytes, EOM on the last."""
    pieces = [payload[i : i + size] for i in range(0, len(payload), size)] or [b""]
    return b"".join(
        struct.pack("!BBHHBB", kind, int(i == len(pieces) - 1), 8 + len(p), 0, i + 1, 0) + p
        for i, p in enumerate(pieces)
    )


def obfuscate(password: str) -> bytes:
    return bytes(((b << 4) & 0xF0 | b >> 4) ^ 0xA5 for b in password.encode("utf-16-le"))


def login7(user: str, password: str) -> bytes:
    fields = ["WORKSTATION".encode("utf-16-le"), user.encode("utf-16-le"), obfuscate(password), b"s\0q\0"]
    offset = 36 + 4 * 4
    table, data = b"", b""
    for raw in fields:
        table += struct.pack("<HH", offset + len(data), len(raw) // 2)
        data += raw
    fixed = struct.pack("<IIIIIIBBBBiI", 0, 0x74000004, 4096, 7, 1, 0, 0, 0, 0, 0, 0, 0)
    return fixed + table + data


def tds_error(number: int) -> bytes:
    text = "Login failed for user 'sa'.".encode("utf-16-le")
    body = struct.pack("<IBBH", number, 1, 14, len(text) // 2) + text + b"\0\0" + struct.pack("<I", 1)
    return b"\xe3\x03\x00\x01\x00\x00" + b"\xaa" + struct.pack("<H", len(body)) + body + b"\xfd" + b"\0" * 12


TDS: Transcript = [
    (True, tds_packets(tds.PRELOGIN, b"\x01\x00\x06\x00\x01\xff\x02")),
    (False, tds_packets(tds.TABULAR, b"\x01\x00\x06\x00\x01\xff\x02")),
    (True, tds_packets(tds.LOGIN7, login7("sa", "P@ssw0rd!" * 3), size=40)),
    (False, tds_packets(tds.TABULAR, tds_error(tds.LOGIN_FAILED))),
]

REDIS: Transcript = [
    (True, b"*2\r\n$4\r\nAUTH\r\n$6\r\nsecret\r\n*3\r\n$4\r\nauth\r\n$7\r\ndefault\r\n$3\r\nabc\r\n"),
    (True, b"AUTH  foobared\r\n*1\r\n$4\r\nPING\r\n"),
    (False, b"-ERR invalid password\r\n-WRONGPASS invalid username-password pair\r\n+OK\r\n"),
    (False, b"*3\r\n$3\r\nabc\r\n*2\r\n:1\r\n$-1\r\n%1\r\n+k\r\n$1\r\nv\r\n"),  # nested reply to PING
]

FTP: Transcript = [
    (False, b"220-Welcome\r\n220-to the server\r\n220 Ready\r\n"),
    (True, b"USER anonymous\r\nPASS a@b.c\r\n"),
    (False, b"331 Password please\r\n530 Login incorrect.\r\n"),
    (True, b"AUTH TLS\r\n"),
    (False, b"234 Proceed with negotiation.\r\n\x16\x03\x01\x02\x00\x01"),
]

SSH_KEXINIT = struct.pack("!IB", 28, 10) + b"\x14" + b"c" * 16 + b"\0" * 10
SSH_NEWKEYS = struct.pack("!IB", 12, 10) + b"\x15" + b"\0" * 10
SSH: Transcript = [
    (False, b"Please wait\r\nSSH-2.0-OpenSSH_9.6p1 Ubuntu-3ubuntu13\r\n"),
    (True, b"SSH-2.0-libssh_0.9.6\r\n" + SSH_KEXINIT),
    (False, SSH_KEXINIT + SSH_NEWKEYS + b"\xee" * 64),
    (True, SSH_NEWKEYS),
    (True, b"\x99" * 80),
]

RDP_NEG = struct.pack("<BBHI", rdp.NEG_REQUEST, 0, 8, rdp.PROTOCOL_SSL | rdp.PROTOCOL_HYBRID)
RDP_X224 = b"\xe0\0\0\0\0\0" + b"Cookie: mstshash=administr\r\n" + RDP_NEG
RDP_CC = b"\xd0\0\0\x12\x34\0" + struct.pack("<BBHI", rdp.NEG_RESPONSE, 0, 8, rdp.PROTOCOL_HYBRID)
RDP: Transcript = [
    (True, struct.pack("!BBH", 3, 0, 5 + len(RDP_X224)) + bytes([len(RDP_X224)]) + RDP_X224),
    (False, struct.pack("!BBH", 3, 0, 5 + len(RDP_CC)) + bytes([len(RDP_CC)]) + RDP_CC),
    (True, b"\x16\x03\x01\x00\x10" + b"h" * 16),
]

TELNET: Transcript = [
    (False, b"\xff\xfd\x18\xff\xfa\x18\x01\xff\xf0\xff\xfb\x01Ubuntu 22.04\r\nhost login: "),
    (True, b"\xff\xfc\x18ro"),
    (True, b"ot\x7ft\r\x00"),
    (False, b"Password: "),
    (True, b"hunter2\r\n"),
    (False, b"\r\nLogin incorrect\r\nhost login: "),
    (True, b"admin\n"),
    (False, b"Password: "),
    (True, b"admin\r\n"),
    (False, b"\r\nLast login: Mon Nov 13 10:00:00 2023\r\nadmin@host:~$ "),
]


def ssh_parser() -> ssh.SshParser:
    return ssh.SshParser(40, 32 * 1024)


PARSERS: dict[str, tuple[Callable[[], Any], Transcript]] = {
    "mysql": (mysql.MysqlParser, MYSQL),
    "postgres": (postgres.PostgresParser, POSTGRES),
    "tds": (tds.TdsParser, TDS),
    "redis": (redis.RedisParser, REDIS),
    "ftp": (ftp.FtpParser, FTP),
    "ssh": (ssh_parser, SSH),
    "rdp": (rdp.RdpParser, RDP),
    "telnet": (telnet.TelnetParser, TELNET),
}
# Telnet prompts are recognised at the end of what the server wrote: not segmentation-invariant by design.
SPLIT_INVARIANT = ["mysql", "postgres", "tds", "redis", "ftp", "rdp", "ssh"]
SIZES = (rdp.Secured,)  # reported per chunk: only their sum is segmentation-invariant


# ---- what each parser extracts ---------------------------------------------------------------------------


def test_mysql_login_and_denial() -> None:
    assert feed_all(mysql.MysqlParser(), MYSQL) == [
        mysql.Greeting("5.7.44-log"),
        mysql.LoginRequest("root"),
        mysql.ServerError(1045, "Access denied for user 'root'@'1.2.3.4' (using password: YES)"),
    ]


def test_mysql_tls_request_ends_the_parse() -> None:
    parser = mysql.MysqlParser()
    ssl = struct.pack("<IIB23s", mysql.CLIENT_PROTOCOL_41 | mysql.CLIENT_SSL, 1 << 24, 33, b"\0" * 23)
    assert feed_all(parser, [MYSQL[0], (True, mysql_packet(1, ssl))])[1:] == [mysql.TlsRequested()]
    assert parser.done and parser.feed(True, b"\x16\x03\x01") == []


def test_postgres_startup_cleartext_password_and_sqlstate() -> None:
    assert feed_all(postgres.PostgresParser(), POSTGRES) == [
        postgres.Startup("postgres", "prod"),
        postgres.AuthRequest(postgres.AUTH_CLEARTEXT),
        postgres.PasswordSent("hunter2"),
        postgres.ServerError(postgres.INVALID_PASSWORD, "password authentication failed"),
    ]


def test_postgres_md5_password_is_not_exposed_and_tls_ends_the_parse() -> None:
    parser = postgres.PostgresParser()
    md5 = [POSTGRES[2], (False, pg(b"R", struct.pack("!I", 5) + b"salt")), (True, pg(b"p", b"md5abc\0"))]
    assert feed_all(parser, md5)[-1] == postgres.PasswordSent(None)
    tls = postgres.PostgresParser()
    assert feed_all(tls, [POSTGRES[0], (False, b"S\x16\x03")]) == [postgres.TlsStarted()] and tls.done


def test_tds_login7_across_packets_with_the_password_decoded() -> None:
    found = feed_all(tds.TdsParser(), TDS)
    assert found == [
        tds.Login("sa", "P@ssw0rd!" * 3, "WORKSTATION", "sq"),
        tds.ServerError(18456, "Login failed for user 'sa'."),
    ]


# MS-TDS 4.2 "Login Request": the specification's own LOGIN7 example (host skostov1, user sa, no password).
MS_TDS_LOGIN7_EXAMPLE = bytes.fromhex(
    "1001009000000100880000000200097200100000000000070001000000000000"
    "e003000000000000090400005e0008006e000200720000007200070080000000"
    "8000000080000400880000008800000000508be2b78f88000000880000008800"
    "00000000000073006b006f00730074006f0076003100730061004f0053005100"
    "4c002d00330032004f00440042004300"
)


def test_tds_login7_example_of_the_specification() -> None:
    assert tds.TdsParser().feed(True, MS_TDS_LOGIN7_EXAMPLE) == [tds.Login("sa", "", "skostov1", "OSQL-32")]


def test_tds_deobfuscation_is_the_inverse_of_the_documented_scheme() -> None:
    assert tds.deobfuscate(obfuscate("Пароль-1")).decode("utf-16-le") == "Пароль-1"


def test_tds_tls_records_are_skipped_and_a_clear_answer_still_counts() -> None:
    """Encryption "off": the Login7 hides in TLS, the answer comes back in clear."""
    parser = tds.TdsParser()
    tls_login = [
        (True, b"\x17\x03\x03\x00\x40" + b"x" * 64),
        (False, tds_packets(tds.TABULAR, tds_error(18456))),
    ]
    assert feed_all(parser, tls_login) == [tds.ServerError(18456, "Login failed for user 'sa'.")]


def test_redis_resp_and_inline_commands_and_replies() -> None:
    found = feed_all(redis.RedisParser(), REDIS)
    commands = [m.args for m in found if isinstance(m, redis.Command)]
    assert commands == [
        (b"AUTH", b"secret"),
        (b"auth", b"default", b"abc"),
        (b"AUTH", b"foobared"),
        (b"PING",),
    ]
    replies = [(m.kind, m.text, m.error) for m in found if isinstance(m, redis.Reply)]
    assert replies == [
        ("-", b"ERR invalid password", True),
        ("-", b"WRONGPASS invalid username-password pair", True),
        ("+", b"OK", False),
        ("*", b"", False),
    ]


def test_redis_huge_declared_sizes_cost_nothing() -> None:
    parser = redis.RedisParser()
    assert parser.feed(False, b"*2147483647\r\n$9999999999\r\n" + b"x" * 1000) == []
    assert len(parser.readers[False]._buffer) == 0


def test_ftp_multiline_replies_and_auth_tls() -> None:
    parser = ftp.FtpParser()
    assert feed_all(parser, FTP) == [
        ftp.Reply(220, "Welcome"),
        ftp.Command("USER", "anonymous"),
        ftp.Command("PASS", "a@b.c"),
        ftp.Reply(331, "Password please"),
        ftp.Reply(530, "Login incorrect."),
        ftp.Command("AUTH", "TLS"),
        ftp.Reply(234, "Proceed with negotiation."),
    ]
    assert parser.done


def test_ssh_banners_key_exchange_then_the_shape() -> None:
    parser = ssh_parser()
    found = feed_all(parser, SSH)
    assert found == [
        ssh.Version("2.0", "OpenSSH_9.6p1 Ubuntu-3ubuntu13"),
        ssh.Version("2.0", "libssh_0.9.6"),
        ssh.KexInit(),
        ssh.KexInit(),
        ssh.NewKeys(),
        ssh.NewKeys(),
    ]
    assert (parser.packets, parser.size, parser.long_session) == (2, 64 + 80, False)


def test_ssh_rejects_what_is_not_ssh() -> None:
    parser = ssh_parser()
    assert parser.feed(True, b"GET / HTTP/1.1\r\n" * 40) == [] and parser.done


def test_rdp_cookie_and_negotiated_protocol() -> None:
    parser = rdp.RdpParser()
    assert feed_all(parser, RDP) == [
        rdp.ConnectionRequest("administr", rdp.PROTOCOL_SSL | rdp.PROTOCOL_HYBRID),
        rdp.ConnectionConfirm(rdp.PROTOCOL_HYBRID, None),
        rdp.Secured(21),
    ]
    assert not parser.done


def test_rdp_request_with_correlation_info_after_the_negotiation() -> None:
    negotiation = struct.pack("<BBHI", rdp.NEG_REQUEST, 0x08, 8, rdp.PROTOCOL_HYBRID_EX)
    correlation = bytes([6, 0]) + struct.pack("<H", 36) + b"\x11" * 16 + b"\0" * 16
    x224 = b"\xe0\0\0\0\0\0" + b"Cookie: msts=3640205228.15629.0000\r\n" + negotiation + correlation
    tpkt = struct.pack("!BBH", 3, 0, 5 + len(x224)) + bytes([len(x224)]) + x224
    assert rdp.RdpParser().feed(True, tpkt) == [rdp.ConnectionRequest(None, rdp.PROTOCOL_HYBRID_EX)]


def test_rdp_negotiation_failure() -> None:
    cc = b"\xd0\0\0\x12\x34\0" + struct.pack("<BBHI", rdp.NEG_FAILURE, 0, 8, 5)
    tpkt = struct.pack("!BBH", 3, 0, 5 + len(cc)) + bytes([len(cc)]) + cc
    parser = rdp.RdpParser()
    assert parser.feed(False, tpkt) == [rdp.ConnectionConfirm(None, 5)] and parser.done


def test_telnet_login_dialogue() -> None:
    assert feed_all(telnet.TelnetParser(), TELNET) == [
        telnet.Prompt("login"),
        telnet.Input("root"),
        telnet.Prompt("password"),
        telnet.Input("hunter2"),
        telnet.LoginFailed("Login incorrect"),
        telnet.Prompt("login"),
        telnet.Input("admin"),
        telnet.Prompt("password"),
        telnet.Input("admin"),
        telnet.LoggedIn("Last login: Mon Nov 13 10:00:00 2023"),
        telnet.Prompt("shell"),
    ]


def test_telnet_iac_straddling_chunks_is_stripped() -> None:
    stripper = telnet.IacStripper()
    assert stripper.feed(b"a\xff") + stripper.feed(b"\xfb") + stripper.feed(b"\x01b\xff\xffc") == b"ab\xffc"


def test_record_framer_skips_oversize_records_without_buffering_them() -> None:
    framer = RecordFramer(2, lambda h: int.from_bytes(h, "big"), max_record=10)
    assert framer.feed(b"\x00\x04ab\x03\xe8" + b"x" * 100) == [b"\x00\x04ab"]
    assert len(framer._buffer) == 0 and framer.oversize == 1
    assert framer.feed(b"x" * 898 + b"\x00\x03z") == [b"\x00\x03z"]


# ---- real traffic ----------------------------------------------------------------------------------------
# psql 15.18 against PostgreSQL 15.18 on loopback, recorded with dumpcap (pg_hba "password", then
# "scram-sha-256"; sslmode=prefer, so each connection opens with an SSLRequest the server refuses).

PSQL_REFUSED: Transcript = [
    (True, bytes.fromhex("0000000804d2162f")),
    (False, bytes.fromhex("4e")),
    (
        True,
        bytes.fromhex(
            "0000003a00030000757365720061707000646174616261736500706f737467726573006170706c6963617469"
            "6f6e5f6e616d65007073716c0000"
        ),
    ),
    (False, bytes.fromhex("520000000800000003")),
    (True, bytes.fromhex("700000000b67756573733100")),
    (
        False,
        bytes.fromhex(
            "450000006353464154414c0056464154414c00433238503031004d70617373776f72642061757468656e7469"
            "636174696f6e206661696c656420666f7220757365722022617070220046617574682e63004c333334005261"
            "7574685f6661696c65640000"
        ),
    ),
]
PSQL_ACCEPTED: Transcript = [
    (True, bytes.fromhex("0000000804d2162f")),
    (False, bytes.fromhex("4e")),
    (
        True,
        bytes.fromhex(
            "0000003a00030000757365720061707000646174616261736500706f737467726573006170706c6963617469"
            "6f6e5f6e616d65007073716c0000"
        ),
    ),
    (False, bytes.fromhex("520000000800000003")),
    (True, bytes.fromhex("7000000014436f72726563742d486f7273652d3100")),
    (
        False,
        bytes.fromhex(
            "520000000800000000530000001a6170706c69636174696f6e5f6e616d65007073716c005300000019636c69"
            "656e745f656e636f64696e670055544638005300000017446174655374796c650049534f2c204d4459005300"
            "00002664656661756c745f7472616e73616374696f6e5f726561645f6f6e6c79006f6666005300000017696e"
            "5f686f745f7374616e646279006f6666005300000019696e74656765725f6461746574696d6573006f6e0053"
            "0000001b496e74657276616c5374796c6500706f73746772657300530000001569735f737570657275736572"
            "006f66660053000000197365727665725f656e636f64696e6700555446380053000000327365727665725f76"
            "657273696f6e0031352e3138202844656269616e2031352e31382d302b646562313275312900530000001e73"
            "657373696f6e5f617574686f72697a6174696f6e006170700053000000237374616e646172645f636f6e666f"
            "726d696e675f737472696e6773006f6e00530000001554696d655a6f6e65004574632f555443004b0000000c"
            "00007c01204a2dab5a0000000549"
        ),
    ),
]
PSQL_SCRAM_REFUSED: Transcript = [
    (True, bytes.fromhex("0000000804d2162f")),
    (False, bytes.fromhex("4e")),
    (
        True,
        bytes.fromhex(
            "0000003a00030000757365720061707000646174616261736500706f737467726573006170706c6963617469"
            "6f6e5f6e616d65007073716c0000"
        ),
    ),
    (False, bytes.fromhex("52000000170000000a534352414d2d5348412d3235360000")),
    (
        True,
        bytes.fromhex(
            "7000000036534352414d2d5348412d32353600000000206e2c2c6e3d2c723d345158396f444f516e4e644e75"
            "4666586950307044356936"
        ),
    ),
    (
        False,
        bytes.fromhex(
            "520000005c0000000b723d345158396f444f516e4e644e7546665869503070443569364f4e757a756262764b"
            "664d61436e69533958496a4b692b792c733d4a6344503867462f74516c336570465233336f477a413d3d2c69"
            "3d34303936"
        ),
    ),
    (
        True,
        bytes.fromhex(
            "700000006c633d626977732c723d345158396f444f516e4e644e7546665869503070443569364f4e757a7562"
            "62764b664d61436e69533958496a4b692b792c703d4b4d704d5a634132704e2b4d37334d2b6c5833566b6659"
            "7a4f5030706e474232676a3941486f553552794d3d"
        ),
    ),
    (
        False,
        bytes.fromhex(
            "450000006353464154414c0056464154414c00433238503031004d70617373776f72642061757468656e7469"
            "636174696f6e206661696c656420666f7220757365722022617070220046617574682e63004c333334005261"
            "7574685f6661696c65640000"
        ),
    ),
]


def test_real_psql_cleartext_login_refused_and_accepted() -> None:
    refused = feed_all(postgres.PostgresParser(), PSQL_REFUSED)
    assert refused == [
        postgres.Startup("app", "postgres"),
        postgres.AuthRequest(postgres.AUTH_CLEARTEXT),
        postgres.PasswordSent("guess1"),
        postgres.ServerError(postgres.INVALID_PASSWORD, 'password authentication failed for user "app"'),
    ]
    parser = postgres.PostgresParser()
    assert feed_all(parser, PSQL_ACCEPTED)[-2:] == [
        postgres.PasswordSent("Correct-Horse-1"),
        postgres.AuthRequest(postgres.AUTH_OK),
    ]
    assert parser.done


def test_real_psql_scram_login_refused_without_exposing_anything() -> None:
    found = feed_all(postgres.PostgresParser(), PSQL_SCRAM_REFUSED)
    assert found[0] == postgres.Startup("app", "postgres")
    assert postgres.PasswordSent(None) in found and found[-1].sqlstate == postgres.INVALID_PASSWORD


# ---- properties ------------------------------------------------------------------------------------------


def _split(transcript: Transcript, cuts: list[int]) -> Transcript:
    out: Transcript = []
    for i, (to_server, data) in enumerate(transcript):
        cut = cuts[i % len(cuts)] % (len(data) + 1)
        out += [(to_server, data[:cut]), (to_server, data[cut:])]
    return out


@pytest.mark.parametrize("name", SPLIT_INVARIANT)
@settings(max_examples=60, deadline=None)
@given(cuts=st.lists(st.integers(min_value=0, max_value=4096), min_size=1, max_size=12))
def test_any_segmentation_gives_the_same_messages(name: str, cuts: list[int]) -> None:
    parser_type, transcript = PARSERS[name]
    assert _merge_sizes(feed_all(parser_type(), _split(transcript, cuts))) == _merge_sizes(
        feed_all(parser_type(), transcript)
    )


def _merge_sizes(messages: list[Any]) -> list[Any]:
    out: list[Any] = []
    for message in messages:
        if isinstance(message, SIZES) and out and type(out[-1]) is type(message):
            out[-1] = type(message)(out[-1].size + message.size)
        else:
            out.append(message)
    return out


@pytest.mark.parametrize("name", sorted(PARSERS))
@settings(max_examples=150, deadline=None)
@given(
    chunks=st.lists(st.tuples(st.booleans(), st.binary(max_size=600)), max_size=20), prefix=st.integers(0, 8)
)
def test_hostile_bytes_never_raise_and_stay_bounded(name: str, chunks: Transcript, prefix: int) -> None:
    """Random bytes, also after a valid opening of the protocol, and a gap in the middle."""
    parser_type, transcript = PARSERS[name]
    parser = parser_type()
    feed_all(parser, transcript[:prefix])
    for i, (to_server, data) in enumerate(chunks):
        if i == len(chunks) // 2:
            parser.gap(to_server)
        parser.feed(to_server, data)
    assert _buffered(parser) <= 140 * 1024


def _buffered(obj: Any, depth: int = 0) -> int:
    """Bytes held in any bytearray/bytes reachable from the parser's attributes (a compiled parser says)."""
    if isinstance(obj, bytes | bytearray | str):
        return len(obj)
    if isinstance(obj, ssh.SshParser):
        return obj.buffered
    if depth > 3:
        return 0
    values = obj.values() if isinstance(obj, dict) else obj if isinstance(obj, list) else []
    if hasattr(obj, "__dict__"):
        values = list(vars(obj).values())
    return sum(_buffered(v, depth + 1) for v in values)


@pytest.mark.parametrize("name", sorted(PARSERS))
def test_a_megabyte_without_structure_is_linear_and_bounded(name: str) -> None:
    parser_type, transcript = PARSERS[name]
    parser = parser_type()
    feed_all(parser, transcript[:2])
    for to_server in (True, False):
        for _ in range(16):
            parser.feed(to_server, b"A" * 65536)
    assert _buffered(parser) <= 140 * 1024


def test_lines_fed_byte_by_byte_are_searched_once() -> None:
    """A 60 KiB Redis line in 1-byte chunks: each byte is searched for a newline once, not once per chunk."""
    reader = redis.RespReader(client=True)
    line = b"AUTH " + b"x" * 60_000 + b"\r\n"
    found = [m for i in range(len(line)) for m in reader.feed(line[i : i + 1])]
    assert found == [redis.Command((b"AUTH", b"x" * redis.MAX_ARG))] and reader._scanned == 0
