"""The compiled SSH reader (protocols/_ssh.pyx) held to the Python reader and judgement it replaced
(tests/ssh_reference.py): the same messages after every chunk, the same shape counts and the same end of
the parse, on arbitrary chunks, on real recorded sessions (hydra's brute force, the SSH worm, scp and
command sessions), and on those mutated, resegmented and cut by gaps."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import ssh_reference
from minerwatch.protocols import ssh
from recorded_streams import segments

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
RECORDINGS = [
    FIXTURES / "recordings" / "ssh-hydra-9.4.pcapng",
    FIXTURES / "recordings" / "scenario-ssh-worm.pcapng",
    FIXTURES / "encrypted" / "b21.pcap",
]
Chunks = list[tuple[bool, bytes]]


def _state(parser: ssh.SshParser | ssh_reference.ReferenceShape) -> tuple[bool, int, int, bool]:
    return parser.done, parser.packets, parser.size, parser.long_session


def assert_same(
    chunks: Chunks,
    login_packets: int = 40,
    login_bytes: int = 32 * 1024,
    gaps: frozenset[int] = frozenset(),
) -> list[ssh.SshMessage]:
    """Feeds both readers the same chunks (a gap before those numbered in `gaps`); returns the messages."""
    compiled = ssh.SshParser(login_packets, login_bytes)
    reference = ssh_reference.ReferenceShape(login_packets, login_bytes)
    found: list[ssh.SshMessage] = []
    for i, (to_server, data) in enumerate(chunks):
        if i in gaps:
            compiled.gap(to_server)
            reference.gap(to_server)
        got = compiled.feed(to_server, data)
        assert got == reference.feed(to_server, data), (i, to_server, data[:40])
        assert _state(compiled) == _state(reference), i
        found += got
    return found


@pytest.fixture(scope="module")
def sessions() -> list[Chunks]:
    return [connection for path in RECORDINGS for connection in segments(path, 22)]


# Connections, and those that logged in (recordings/README.md): hydra finds the password in one connection
# and sshpass logs in with it; the worm does that on each of its two hops; every scp/command session of b21.
@pytest.mark.parametrize(
    ("path", "connections", "logins"), list(zip(RECORDINGS, (14, 28, 8), (2, 4, 8), strict=True))
)
def test_recorded_sessions_read_alike(path: Path, connections: int, logins: int) -> None:
    found = [assert_same(session) for session in segments(path, 22)]
    assert len(found) == connections
    assert sum(ssh.LoggedIn() in messages for messages in found) == logins


@settings(max_examples=300, deadline=None)
@given(
    data=st.data(),
    chunks=st.lists(st.tuples(st.booleans(), st.binary(max_size=300)), max_size=25),
    gaps=st.frozensets(st.integers(0, 40), max_size=2),
    login_packets=st.integers(1, 50),
    login_bytes=st.integers(1, 4096),
)
def test_arbitrary_chunks_after_a_real_opening(
    sessions: list[Chunks],
    data: st.DataObject,
    chunks: Chunks,
    gaps: frozenset[int],
    login_packets: int,
    login_bytes: int,
) -> None:
    """Random chunks after the first segments of a real session (nothing, banners, key exchange, keys)."""
    session = data.draw(st.sampled_from(sessions))
    opening = session[: data.draw(st.integers(0, 8))]
    assert_same(opening + chunks, login_packets, login_bytes, gaps)


@settings(max_examples=300, deadline=None)
@given(data=st.data(), login_packets=st.integers(1, 60), login_bytes=st.integers(1, 40_000))
def test_mutated_recorded_sessions(
    sessions: list[Chunks], data: st.DataObject, login_packets: int, login_bytes: int
) -> None:
    """A real session with bytes overwritten, segments split or joined, chunks dropped, and gaps."""
    session = list(data.draw(st.sampled_from(sessions)))
    for _ in range(data.draw(st.integers(0, 4))):
        i = data.draw(st.integers(0, len(session) - 1))
        to_server, payload = session[i]
        how = data.draw(st.sampled_from(["overwrite", "split", "join", "drop"]))
        if how == "overwrite" and payload:
            at = data.draw(st.integers(0, len(payload) - 1))
            patch = data.draw(st.binary(min_size=1, max_size=8))
            session[i] = (to_server, payload[:at] + patch + payload[at + len(patch) :])
        elif how == "split" and len(payload) > 1:
            at = data.draw(st.integers(1, len(payload) - 1))
            session[i : i + 1] = [(to_server, payload[:at]), (to_server, payload[at:])]
        elif how == "join" and i + 1 < len(session) and session[i + 1][0] == to_server:
            session[i : i + 2] = [(to_server, payload + session[i + 1][1])]
        elif how == "drop":
            del session[i]
    gaps = data.draw(st.frozensets(st.integers(0, len(session)), max_size=1))
    assert_same(session, login_packets, login_bytes, gaps)


def test_hydra_hanging_up_after_its_success_is_told_by_the_lock_step() -> None:
    """hydra leaves right after USERAUTH_SUCCESS: its connection is far below the size bounds, so only the
    reply smaller than SERVICE_ACCEPT can tell the login, and does."""
    hydra = segments(RECORDINGS[0], 22)
    told = []
    for session in hydra:
        parser = ssh.SshParser(40, 32 * 1024)
        if any(ssh.LoggedIn() in parser.feed(to_server, payload) for to_server, payload in session):
            told.append(parser.long_session)
    assert told and not all(told)
