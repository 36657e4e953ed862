"""SSH-2 sans-IO: version banners, KEXINIT and NEWKEYS in clear, then the shape of the encrypted session.

Everything after a direction's NEWKEYS is encrypted, so a session is judged by its shape, the way Zeek's SSH
analyser infers authentication outcomes: the login's lock-step (the client's first encrypted chunk is its
service request, the server's next one SERVICE_ACCEPT; USERAUTH_SUCCESS carries one byte, so whatever the
cipher a later server reply smaller than SERVICE_ACCEPT is a success, while refusals, which carry a method
name-list, and banners are not), and how many chunks and bytes followed the keys. The parser reports
`LoggedIn` once, when the lock-step shows a success or the session passes the caller's bounds (more than a
failed login makes); `packets`, `bytes` and `long_session` are there for the caller's judgement when the
flow ends. Lines before the banner (RFC 4253 allows a server to send some) are skipped. Binary packets are
framed with a 4-byte length; buffers are bounded by `MAX_PACKET` (larger, or a missing banner, ends the
parser: `done`).
"""

from __future__ import annotations

from dataclasses import dataclass

MAX_BANNER = 255  # RFC 4253 section 4.2, CR LF included
MAX_PRE_BANNER_LINES = 16
MAX_PACKET = 64 * 1024  # KEXINIT and post-quantum key shares are a few KiB
MSG_KEXINIT, MSG_NEWKEYS = 20, 21


@dataclass(frozen=True, slots=True)
class Version:
    protocol: str  # "2.0"
    software: str  # "OpenSSH_9.6p1 Ubuntu-3", "libssh_0.9.6"...


@dataclass(frozen=True, slots=True)
class KexInit:
    pass


@dataclass(frozen=True, slots=True)
class NewKeys:
    pass


@dataclass(frozen=True, slots=True)
class LoggedIn:
    """The session's shape after the keys says the login succeeded."""


SshMessage = Version | KexInit | NewKeys | LoggedIn


# The reader is compiled (_ssh.pyx): every encrypted segment of an SSH session passes through it until the
# login is judged, and in Python each cost a message object and a handful of calls. It builds the types
# above, so it is imported once they exist.
from minerwatch.protocols._ssh import SshParser  # noqa: E402

__all__ = ["KexInit", "LoggedIn", "NewKeys", "SshMessage", "SshParser", "Version"]
