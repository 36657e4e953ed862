"""Brute force end to end: constructed login sessions of every protocol, written as pcap with the project's
writer and run through the whole pipeline. Each protocol has a campaign with a final success, and
near-misses (a user mistyping, attempts below the threshold or spread beyond the window) raise nothing."""

from __future__ import annotations

import base64
import json
import struct
from collections.abc import Callable
from importlib import resources
from pathlib import Path

import jsonschema
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from minerwatch.capture.writer import PcapWriter, TcpConversation
from minerwatch.detectors.bruteforce import LOGINS, BruteForceSettings
from minerwatch.detectors.bruteforce.campaign import FAILED, SUCCEEDED, UNKNOWN, Attempt, BruteForceConfig
from minerwatch.detectors.bruteforce.logins.ssh import SshSession
from minerwatch.errors import UsageError
from minerwatch.events import Event
from minerwatch.pipeline import Analysis, AnalysisOptions

ATTACKER, VICTIM, T0 = "203.0.113.66", "10.0.0.5", 1_700_000_000.0
Login = Callable[[TcpConversation, int, bool], None]  # (conversation, attempt number, succeed?)


def run(tmp_path: Path, conversations: list[TcpConversation], **options) -> list[Event]:
    return [e for e in run_all(tmp_path, conversations, **options) if e["event_type"] == "bruteforce"]


def run_all(tmp_path: Path, conversations: list[TcpConversation], **options) -> list[Event]:
    path = tmp_path / "capture.pcap"
    packets = sorted((p for c in conversations for p in c.packets), key=lambda p: p[0])
    with path.open("wb") as fh:
        PcapWriter(fh).write_all(packets)
    events: list[Event] = []
    analysis = Analysis([events.append], AnalysisOptions(**options))
    analysis.feed_file(path)
    analysis.finish()
    return events


def campaign(
    login: Login, port: int, failures: int, success: bool = False, step: float = 5.0, start: float = T0
) -> list[TcpConversation]:
    """`failures` refused logins, then optionally one accepted, one connection each."""
    out = []
    for i in range(failures + success):
        conversation = TcpConversation(ATTACKER, 40000 + i, VICTIM, port, ts=start + i * step).open()
        login(conversation, i, i == failures)
        out.append(conversation.close())
    return out


# ---- one login per protocol ------------------------------------------------------------------------------


def ftp(c: TcpConversation, i: int, ok: bool) -> None:
    c.send(False, b"220 (vsFTPd 3.0.5)\r\n").send(True, b"USER admin\r\n")
    c.send(False, b"331 Please specify the password.\r\n").send(True, b"PASS guess%d\r\n" % i)
    c.send(False, b"230-Welcome\r\n230 Login successful.\r\n" if ok else b"530 Login incorrect.\r\n")


def mysql_packet(seq: int, payload: bytes) -> bytes:
    return len(payload).to_bytes(3, "little") + bytes([seq]) + payload


def mysql(c: TcpConversation, i: int, ok: bool) -> None:
    greeting = b"\x0a8.0.36\x00" + b"\x01\x00\x00\x00" + b"s" * 8 + b"\x00" + b"\xff\xf7" * 10
    c.send(False, mysql_packet(0, greeting))
    user = b"root" if i % 2 else b"admin"
    fixed = struct.pack("<IIB23s", 0x000FA285, 1 << 24, 33, b"\0" * 23)
    c.send(True, mysql_packet(1, fixed + user + b"\x00\x14" + b"h" * 20 + b"mysql_native_password\x00"))
    denied = b"\xff" + struct.pack("<H", 1045) + b"#28000Access denied for user 'root'@'x'"
    c.send(False, mysql_packet(2, b"\x00\x00\x00\x02\x00\x00\x00" if ok else denied))


def pg_message(kind: bytes, body: bytes) -> bytes:
    return kind + struct.pack("!I", 4 + len(body)) + body


def postgres(c: TcpConversation, i: int, ok: bool) -> None:
    params = b"user\0postgres\0database\0prod\0\0"
    c.send(True, struct.pack("!II", 8 + len(params), 196608) + params)
    c.send(False, pg_message(b"R", struct.pack("!I", 3)))
    c.send(True, pg_message(b"p", b"guess%d\0" % i))
    failed = b'SFATAL\0C28P01\0Mpassword authentication failed for user "postgres"\0\0'
    c.send(False, pg_message(b"R", struct.pack("!I", 0)) if ok else pg_message(b"E", failed))


def tds_packet(kind: int, payload: bytes) -> bytes:
    return struct.pack("!BBHHBB", kind, 1, 8 + len(payload), 0, 1, 0) + payload


def login7(user: str, password: str, host: str = "kali", app: str = "hydra") -> bytes:
    fields = [f.encode("utf-16-le") for f in (host, user, password, app, "10.0.0.5")]
    fields[2] = bytes(((b << 4) & 0xF0 | b >> 4) ^ 0xA5 for b in fields[2])
    table, data, offset = b"", b"", 36 + 4 * 9 + 6 + 4 * 4  # fixed part, 9 pairs, client id, 4 more
    for raw in fields + [b""] * 4:
        table += struct.pack("<HH", offset + len(data), len(raw) // 2)
        data += raw
    table += b"\0" * 6 + struct.pack("<HHHHHHHH", 0, 0, 0, 0, 0, 0, 0, 0)
    fixed = struct.pack("<IIIIIIBBBBiI", 0, 0x74000004, 4096, 7, 1234, 0, 0xE0, 3, 0, 0, 0, 0x409)
    body = fixed + table + data
    return struct.pack("<I", len(body)) + body[4:]


def tds_error(number: int, text: str) -> bytes:
    message = text.encode("utf-16-le")
    body = struct.pack("<IBBH", number, 1, 14, len(text)) + message + b"\x00\x00" + struct.pack("<I", 1)
    return b"\xaa" + struct.pack("<H", len(body)) + body + b"\xfd" + b"\0" * 12


def tds_login_ack() -> bytes:
    name = "Microsoft SQL Server".encode("utf-16-le")
    body = b"\x01" + struct.pack(">I", 0x74000004) + bytes([len(name) // 2]) + name + b"\x10\x00\x00\x00"
    return b"\xad" + struct.pack("<H", len(body)) + body + b"\xfd" + b"\0" * 12


def mssql(c: TcpConversation, i: int, ok: bool) -> None:
    c.send(True, tds_packet(0x12, b"\x00\x00\x06\x00\x01\xff\x0f\x00\x07\xd0\x00\x00"))
    c.send(False, tds_packet(0x04, b"\x00\x00\x06\x00\x01\xff\x0f\x00\x07\xd0\x00\x00"))
    c.send(True, tds_packet(0x10, login7("sa", f"Guess{i}!")))
    answer = tds_login_ack() if ok else tds_error(18456, "Login failed for user 'sa'.")
    c.send(False, tds_packet(0x04, answer))


def redis_auth(c: TcpConversation, i: int, ok: bool) -> None:
    password = b"guess%d" % i
    if i % 3 == 1:
        c.send(True, b"*2\r\n$4\r\nAUTH\r\n$%d\r\n%s\r\n" % (len(password), password))
        c.send(False, b"+OK\r\n" if ok else b"-WRONGPASS invalid username-password pair\r\n")
    elif i % 3 == 2:  # RESP3 handshake with credentials: a map on success
        c.send(True, b"HELLO 3 AUTH default " + password + b"\r\n")
        c.send(False, b"%1\r\n+server\r\n+redis\r\n" if ok else b"-WRONGPASS invalid password\r\n")
    else:
        c.send(True, b"AUTH " + password + b"\r\n")  # inline command
        c.send(False, b"+OK\r\n" if ok else b"-ERR invalid password\r\n")


def telnet(c: TcpConversation, i: int, ok: bool) -> None:
    c.send(False, b"\xff\xfd\x18\xff\xfd\x20\xff\xfb\x01\r\nrouter login: ")
    for char in b"admin\r\n":  # character at a time, echoed
        c.send(True, bytes([char])).send(False, bytes([char]))
    c.send(False, b"Password: ").send(True, b"guess%d\r\n" % i)
    c.send(False, b"\r\nLast login: Mon Nov 13\r\n$ " if ok else b"\r\nLogin incorrect\r\nrouter login: ")


def ssh_packet(kind: int, body: bytes = b"") -> bytes:
    payload = bytes([kind]) + body
    padding = 8 - (5 + len(payload)) % 8 + 4
    return struct.pack("!IB", 1 + len(payload) + padding, padding) + payload + b"\0" * padding


def ssh_key_exchange(c: TcpConversation) -> None:
    c.send(True, b"SSH-2.0-libssh_0.9.6\r\n").send(False, b"SSH-2.0-OpenSSH_8.9p1 Ubuntu-3\r\n")
    c.send(True, ssh_packet(20, b"c" * 16 + b"\0" * 300)).send(False, ssh_packet(20, b"s" * 16 + b"\0" * 300))
    c.send(True, ssh_packet(30, b"e" * 36)).send(False, ssh_packet(31, b"f" * 500) + ssh_packet(21))
    c.send(True, ssh_packet(21) + b"\x8a" * 52)  # NEWKEYS and the first encrypted packet together


def ssh(c: TcpConversation, i: int, ok: bool) -> None:
    ssh_key_exchange(c)
    for _ in range(3):  # service accept, password refused, ...
        c.send(False, b"\x17" * 68).send(True, b"\x42" * 100)
    if ok:  # an interactive shell: keystrokes and their echo, then output
        for _ in range(30):
            c.send(True, b"\x33" * 36, dt=0.3).send(False, b"\x44" * 36)
        c.send(False, b"\x55" * 20000)


def rdp_request(cookie: bytes) -> bytes:
    negotiation = struct.pack("<BBHI", 1, 0, 8, 3)  # RDP_NEG_REQ: TLS | CredSSP
    x224 = b"\xe0\x00\x00\x00\x00\x00" + b"Cookie: mstshash=" + cookie + b"\r\n" + negotiation
    return struct.pack("!BBH", 3, 0, 4 + 1 + len(x224)) + bytes([len(x224)]) + x224


def rdp_confirm(selected: int) -> bytes:
    x224 = b"\xd0\x00\x00\x12\x34\x00" + struct.pack("<BBHI", 2, 0, 8, selected)
    return struct.pack("!BBH", 3, 0, 4 + 1 + len(x224)) + bytes([len(x224)]) + x224


def rdp(c: TcpConversation, i: int, ok: bool, selected: int = 2) -> None:
    c.send(True, rdp_request(b"administrator")).send(False, rdp_confirm(selected))
    c.send(True, b"\x16\x03\x01" + b"h" * 300).send(False, b"\x16\x03\x03" + b"c" * 3000)  # TLS
    c.send(True, b"\x17\x03\x03" + b"n" * 400).send(False, b"\x17\x03\x03" + b"t" * 600)  # NTLM
    c.send(True, b"\x17\x03\x03" + b"a" * 700)
    c.send(False, b"\x17\x03\x03" + b"d" * 120000 if ok else b"\x17\x03\x03" + b"e" * 40)


def http_basic(c: TcpConversation, i: int, ok: bool) -> None:
    token = base64.b64encode(b"admin:guess%d" % i)
    c.send(True, b"GET /manager/html HTTP/1.1\r\nHost: tomcat\r\nAuthorization: Basic " + token + b"\r\n\r\n")
    status = b"200 OK" if ok else b"401 Unauthorized"
    c.send(False, b"HTTP/1.1 " + status + b"\r\nContent-Length: 2\r\n\r\nok")


def http_form(c: TcpConversation, i: int, ok: bool) -> None:
    body = b"log=admin&pwd=guess%d&wp-submit=Log+In" % i
    c.send(
        True,
        b"POST /wp-login.php HTTP/1.1\r\nHost: blog\r\nContent-Type: application/x-www-form-urlencoded\r\n"
        b"Content-Length: %d\r\n\r\n%s" % (len(body), body),
    )
    if ok:
        c.send(
            False,
            b"HTTP/1.1 302 Found\r\nLocation: /wp-admin/\r\nSet-Cookie: a=b\r\nContent-Length: 0\r\n\r\n",
        )
    else:
        page = b'<div id="login_error">Incorrect password</div><input type="password" name="pwd">'
        c.send(False, b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s" % (len(page), page))


PROTOCOLS: dict[str, tuple[Login, int, set[str], bool]] = {
    # service: (login, port, usernames seen, passwords seen)
    "ftp": (ftp, 21, {"admin"}, True),
    "mysql": (mysql, 3306, {"root", "admin"}, False),
    "postgresql": (postgres, 5432, {"postgres"}, True),
    "mssql": (mssql, 1433, {"sa"}, True),
    "redis": (redis_auth, 6379, {"default"}, True),
    "telnet": (telnet, 23, {"admin"}, True),
    "ssh": (ssh, 22, set(), False),
    "rdp": (rdp, 3389, {"administrator"}, False),
    "http-basic": (http_basic, 80, {"admin"}, True),
    "http-form": (http_form, 80, {"admin"}, True),
}


@pytest.mark.parametrize("service", sorted(PROTOCOLS))
def test_campaign_with_final_success(tmp_path: Path, service: str) -> None:
    login, port, usernames, passwords = PROTOCOLS[service]
    threshold, final = run(tmp_path, campaign(login, port, failures=14, success=True))
    assert [e["bruteforce"]["phase"] for e in (threshold, final)] == ["threshold", "final"]
    assert (threshold["src_ip"], threshold["dest_ip"], threshold["dest_port"]) == (ATTACKER, VICTIM, port)
    body = threshold["bruteforce"]
    assert body["service"] == service and body["failed"] == 10
    # SSH and RDP logins are judged when their connection ends, so the success may already be counted
    assert body["attempts"] == 10 + body["succeeded"]
    body = final["bruteforce"]
    assert (body["attempts"], body["failed"], body["succeeded"]) == (15, 14, 1)
    assert body["start"] == threshold["bruteforce"]["start"] < body["end"]
    assert body["duration"] == pytest.approx(70, abs=1)
    assert body["rate_per_minute"] == pytest.approx(15 * 60 / body["duration"], abs=0.001)
    assert set(body["usernames"]) == usernames and body["usernames_count"] == len(usernames)
    assert body["success"]["flow_id"] == max(body["flow_ids"])
    assert body["success"]["username"] in (usernames or {None})
    if passwords:
        assert body["passwords_masked"] and set(body["passwords"]) == {"********"}
        assert body["passwords_count"] == 15
    else:
        assert "passwords" not in body
    if port != 80:
        assert body["connections"] == 15


@pytest.mark.parametrize("service", sorted(PROTOCOLS))
def test_a_user_mistyping_is_no_brute_force(tmp_path: Path, service: str) -> None:
    login, port, _, _ = PROTOCOLS[service]
    assert run(tmp_path, campaign(login, port, failures=2, success=True)) == []


@pytest.mark.parametrize("service", ["ftp", "ssh", "mssql", "http-basic"])
def test_below_threshold_or_too_slow_is_no_brute_force(tmp_path: Path, service: str) -> None:
    login, port, _, _ = PROTOCOLS[service]
    assert run(tmp_path, campaign(login, port, failures=9)) == []
    # ten failures, but spread over 360 s: no ten of them fall within the 300 s window
    assert run(tmp_path, campaign(login, port, failures=10, step=40.0)) == []


def test_failures_only_raise_at_the_threshold_and_report_at_the_end(tmp_path: Path) -> None:
    events = run(tmp_path, campaign(ftp, 21, failures=30))
    assert [e["bruteforce"]["phase"] for e in events] == ["threshold", "final"]
    assert events[1]["bruteforce"]["attempts"] == 30 and events[1]["bruteforce"]["success"] is None


def test_passwords_are_shown_only_when_asked(tmp_path: Path) -> None:
    events = run(tmp_path, campaign(mssql, 1433, failures=10), show_secrets=True)
    assert events[-1]["bruteforce"]["passwords"][:3] == ["Guess0!", "Guess1!", "Guess2!"]
    assert events[-1]["bruteforce"]["passwords_masked"] is False


def test_thresholds_are_configurable(tmp_path: Path) -> None:
    settings = BruteForceSettings(BruteForceConfig(threshold=3, window=20.0))
    options = AnalysisOptions(detector_options={"bruteforce": settings})
    path = tmp_path / "c.pcap"
    with path.open("wb") as fh:
        PcapWriter(fh).write_all(sorted(p for c in campaign(ftp, 21, failures=3) for p in c.packets))
    events: list[Event] = []
    analysis = Analysis([events.append], options)
    analysis.feed_file(path)
    analysis.finish()
    assert [e["bruteforce"]["attempts"] for e in events if e["event_type"] == "bruteforce"] == [3, 3]


def test_a_port_mapped_to_an_unknown_protocol_is_a_usage_error() -> None:
    options = AnalysisOptions(detector_options={"bruteforce": BruteForceSettings(ports={22: "shh"})})
    with pytest.raises(UsageError, match="shh"):
        Analysis([], options)


def test_output_is_deterministic(tmp_path: Path) -> None:
    conversations = campaign(ssh, 22, failures=12, success=True) + campaign(redis_auth, 6379, failures=11)
    assert run(tmp_path, conversations) == run(tmp_path, conversations)


def test_many_attempts_in_one_connection_count_each(tmp_path: Path) -> None:
    """Redis pipelining and telnet retries: several logins per connection."""
    redis_flow = TcpConversation(ATTACKER, 50000, VICTIM, 6379, ts=T0).open()
    commands = b"".join(b"*2\r\n$4\r\nAUTH\r\n$5\r\npass%d\r\n" % (i % 10) for i in range(12))
    redis_flow.send(True, commands).send(False, b"-ERR invalid password\r\n" * 12).close()
    telnet_flow = TcpConversation(ATTACKER, 50001, VICTIM, 23, ts=T0).open()
    for i in range(11):
        telnet(telnet_flow, i, False)
    events = run(tmp_path, [redis_flow, telnet_flow.close()])
    finals = {e["bruteforce"]["service"]: e["bruteforce"] for e in events[2:]}
    assert finals["redis"]["failed"] == 12 and finals["redis"]["connections"] == 1
    assert finals["telnet"]["failed"] == 11 and finals["telnet"]["usernames"] == ["admin"]


def test_rdp_without_credssp_counts_attempts_of_unknown_outcome(tmp_path: Path) -> None:
    def standard_security(c: TcpConversation, i: int, ok: bool) -> None:
        rdp(c, i, ok, selected=1)

    _, final = run(tmp_path, campaign(standard_security, 3389, failures=12))
    assert final["bruteforce"]["unknown"] == 12 and final["bruteforce"]["failed"] == 0


def test_ssh_scans_without_key_exchange_are_connections_not_attempts(tmp_path: Path) -> None:
    def banner_grab(c: TcpConversation, i: int, ok: bool) -> None:
        c.send(False, b"SSH-2.0-OpenSSH_8.9p1\r\n").send(True, b"SSH-2.0-Go\r\n")

    assert run(tmp_path, campaign(banner_grab, 22, failures=30)) == []


def test_a_long_quiet_ssh_session_after_failures_is_a_probable_success(tmp_path: Path) -> None:
    def quiet(c: TcpConversation, i: int, ok: bool) -> None:
        ssh(c, i, False)
        if ok:
            c.send(True, b"\x01" * 36, dt=200.0)  # one keep-alive after minutes: past LoginGraceTime

    final = run(tmp_path, campaign(quiet, 22, failures=10, success=True))[-1]["bruteforce"]
    assert final["succeeded"] == 1 and final["client_software"] == ["libssh_0.9.6"]


def test_campaigns_are_per_attacker_victim_and_service(tmp_path: Path) -> None:
    """Six failures against one victim, six against another, six on another service: nothing raised."""
    other_victim = []
    for i in range(6):
        conversation = TcpConversation(ATTACKER, 41000 + i, "10.0.0.6", 21, ts=T0 + 1 + 5 * i).open()
        ftp(conversation, i, False)
        other_victim.append(conversation.close())
    other_service = campaign(mysql, 3306, failures=6, start=T0 + 2)
    conversations = campaign(ftp, 21, failures=6) + other_victim + other_service
    assert run(tmp_path, conversations) == []


@pytest.mark.parametrize("service", ["redis", "http-basic", "ftp"])
def test_one_credential_retried_is_a_misconfigured_client_not_guessing(tmp_path: Path, service: str) -> None:
    """A miner with a wrong pool password or an app with a stale Redis password retries the same pair."""
    login, port, _, _ = PROTOCOLS[service]

    def same_credentials(c: TcpConversation, i: int, ok: bool) -> None:
        login(c, 1, ok)

    assert run(tmp_path, campaign(same_credentials, port, failures=20)) == []


def test_ssh_session_gives_up_on_what_is_not_ssh_framing() -> None:
    """Cost: a flow on port 22 whose bytes after the banner are not SSH packets is bypassed at once."""

    class Info:
        client_ip, server_ip, server_port, flow_id = ATTACKER, VICTIM, 22, 1

    session = SshSession(lambda attempt: None, Info(), 256 * 1024)  # type: ignore[arg-type]
    session.data(False, b"SSH-2.0-OpenSSH_9.2p1\r\n", T0, False)
    assert session.wants_more(100)
    session.data(False, b"\xff" * 1500, T0, False)
    assert not session.wants_more(1600)


def test_events_follow_the_published_schema_and_serialise(tmp_path: Path) -> None:
    schema = json.loads(resources.files("minerwatch").joinpath("schema/events.schema.json").read_text())
    validator = jsonschema.Draft202012Validator(schema)
    conversations = campaign(ssh, 22, failures=11, success=True) + campaign(http_form, 80, failures=10)
    events = run(tmp_path, conversations)
    assert len(events) == 4
    for event in events:
        assert not list(validator.iter_errors(event))
        assert json.loads(json.dumps(event)) == event


def postgres_tls(c: TcpConversation, i: int, ok: bool) -> None:
    c.send(True, struct.pack("!II", 8, 80877103)).send(False, b"S").send(True, b"\x16\x03\x01" + b"h" * 200)


def mysql_tls(c: TcpConversation, i: int, ok: bool) -> None:
    c.send(False, mysql_packet(0, b"\x0a8.0.36\x00" + b"\x01\x00\x00\x00"))
    c.send(True, mysql_packet(1, struct.pack("<IIB23s", 0x000FAA85, 1 << 24, 33, b"\0" * 23)))
    c.send(True, b"\x16\x03\x01" + b"h" * 200)


def ftp_tls(c: TcpConversation, i: int, ok: bool) -> None:
    c.send(False, b"220 ready\r\n").send(True, b"AUTH TLS\r\n").send(False, b"234 go\r\n")
    c.send(True, b"\x16\x03\x01" + b"h" * 200)


@pytest.mark.parametrize(("login", "port"), [(postgres_tls, 5432), (mysql_tls, 3306), (ftp_tls, 21)])
def test_logins_inside_tls_are_not_judged(tmp_path: Path, login: Login, port: int) -> None:
    assert run(tmp_path, campaign(login, port, failures=20)) == []


class FakeInfo:
    client_ip, server_ip, server_port, flow_id = ATTACKER, VICTIM, 1, 1


class FakeFlow:
    last_ts = T0 + 1


class Recorder:
    """Stands in for a TcpConversation: keeps what each side sends, in order."""

    def __init__(self) -> None:
        self.chunks: list[tuple[bool, bytes]] = []

    def send(self, from_client: bool, data: bytes, dt: float = 0.0) -> Recorder:
        self.chunks.append((from_client, data))
        return self


@pytest.mark.parametrize("service", sorted(LOGINS))
@settings(max_examples=80, deadline=None)
@given(
    chunks=st.lists(st.tuples(st.booleans(), st.binary(max_size=300)), max_size=25), opening=st.integers(0, 6)
)
def test_sessions_never_raise_on_hostile_bytes(
    service: str, chunks: list[tuple[bool, bytes]], opening: int
) -> None:
    """Random bytes after a valid opening of each protocol: no exception, only well-formed attempts."""
    attempts: list[Attempt] = []
    recorder = Recorder()
    PROTOCOLS[service][0](recorder, 0, False)  # type: ignore[arg-type]
    session = LOGINS[service].session(attempts.append, FakeInfo(), 4096)  # type: ignore[arg-type]
    for to_server, data in recorder.chunks[:opening] + chunks:
        session.data(to_server, data, T0, False)
        session.wants_more(4096)
    session.end(FakeFlow(), T0 + 1, "end-of-capture")  # type: ignore[arg-type]
    assert all(a.outcome in (FAILED, SUCCEEDED, UNKNOWN) and a.service == service for a in attempts)


def test_postgres_logins_inside_tls_are_counted_not_judged(tmp_path: Path) -> None:
    """An SSLRequest answered 'S' hides the login: no attempt, no campaign, but the stats say how many."""
    events = run_all(tmp_path, campaign(postgres_tls, 5432, 12))
    assert not [e for e in events if e["event_type"] == "bruteforce"]
    [stats] = [e["stats"]["bruteforce"] for e in events if e["event_type"] == "stats"]
    assert stats["encrypted_logins"] == 12 and stats["attempts"] == 0


def ssh_lockstep(*replies: int) -> Login:
    """An SSH login whose server replies (sizes, chacha20-poly1305) follow the service request: 44 is
    SERVICE_ACCEPT, 52 USERAUTH_FAILURE, 28 USERAUTH_SUCCESS; the client hangs up after the last."""

    def login(c: TcpConversation, i: int, ok: bool) -> None:
        ssh_key_exchange(c)
        for size in replies[:-1] if not ok else (*replies[:-1], 28):
            c.send(False, b"\x17" * size).send(True, b"\x42" * 84)
        c.send(False, b"\x17" * replies[-1])

    return login


def test_ssh_success_seen_in_the_login_lockstep(tmp_path: Path) -> None:
    """hydra hangs up right after USERAUTH_SUCCESS, and a bot's `uname -a` session is short: the shape
    judged both failed. The success reply is smaller than SERVICE_ACCEPT whatever the cipher."""
    [_, event] = run(tmp_path, campaign(ssh_lockstep(44, 52, 52, 52), 22, failures=11, success=True))
    final = event["bruteforce"]
    assert (final["failed"], final["succeeded"]) == (11, 1) and final["success"] is not None


def test_ssh_banner_and_refusals_are_not_successes(tmp_path: Path) -> None:
    """A banner sent with the first refusal makes that reply big; later refusals are smaller than it but
    not smaller than SERVICE_ACCEPT."""
    [_, event] = run(tmp_path, campaign(ssh_lockstep(44, 400, 52, 52), 22, failures=12))
    final = event["bruteforce"]
    assert (final["failed"], final["succeeded"]) == (12, 0)
