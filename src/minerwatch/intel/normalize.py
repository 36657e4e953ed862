"""One spelling per indicator value, so that import and lookup agree (case, IDN, IP forms, URLs).

Each function raises ValueError with a short reason; importers turn it into a per-line problem.
The ASCII fast path matters: a million domains go through `domain()` on import, and `idna` costs
tens of microseconds per name, so it is used only for names that are not already ASCII.
"""

from __future__ import annotations

import ipaddress
import re
import socket
from datetime import UTC, datetime
from urllib.parse import urlsplit

import idna

TYPES = ("domain", "ip", "wallet", "hash", "agent", "ja3", "ja4", "port")

_LABEL = r"[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?"
_NAME = re.compile(rf"(?:{_LABEL}\.)+{_LABEL}")
_HEX = re.compile(r"[0-9a-f]+")
_HASH_LENGTHS = {32: "md5", 40: "sha1", 64: "sha256"}
_JA4 = re.compile(r"[tqd][0-9a-z]{2}[di]\d{4}[0-9a-z]{2}_[0-9a-f]{12}_[0-9a-f]{12}")
_WALLET = re.compile(r"[A-Za-z0-9:]{20,200}")
_MAX_AGENT = 256

IpNet = ipaddress.IPv4Network | ipaddress.IPv6Network


def domain(value: str) -> str:
    """Lower-case A-label form without the root dot; a leading '*.' or '.' (suffix notation) is dropped."""
    name = value.strip().rstrip(".")
    if name.startswith("*."):
        name = name[2:]
    name = name.lstrip(".")
    if not name.isascii():
        try:
            name = idna.encode(name, uts46=True).decode("ascii")
        except idna.IDNAError as exc:
            raise ValueError(f"not a valid internationalised domain name: {exc}") from None
    name = name.lower()
    if len(name) > 253:
        raise ValueError("domain name longer than 253 characters")
    if "." not in name:
        raise ValueError("a domain indicator needs at least two labels (a bare TLD would match everything)")
    if not _NAME.fullmatch(name):
        raise ValueError("not a valid domain name")
    return name


def ip_network(value: str) -> IpNet:
    """An address or CIDR; IPv4-mapped IPv6 becomes IPv4, host bits are cleared."""
    try:
        net = ipaddress.ip_network(value.strip(), strict=False)
    except ValueError:
        raise ValueError("not an IP address or CIDR") from None
    if isinstance(net, ipaddress.IPv6Network) and net.network_address.ipv4_mapped and net.prefixlen >= 96:
        net = ipaddress.IPv4Network((net.network_address.ipv4_mapped, net.prefixlen - 96))
    return net


def _ipv4_fast(text: str) -> str | None:
    """The canonical form of a plain IPv4 address or CIDR, or None to take the general path.

    A million-line feed is mostly IPv4; inet_pton is as strict as ipaddress (four decimal parts, no
    leading zeros) and far cheaper, so the common case skips ipaddress entirely."""
    addr, slash, prefix = text.partition("/")
    try:
        packed = socket.inet_pton(socket.AF_INET, addr)
    except OSError:
        return None
    if not slash:
        return addr
    if not (prefix.isascii() and prefix.isdigit() and len(prefix) <= 2 and prefix[:1] != "0"):
        return None  # netmask notation, leading zeros, absurd lengths: let ipaddress decide
    length = int(prefix)
    if length > 32:
        return None
    if length == 32:
        return addr
    network = int.from_bytes(packed, "big") & ~(0xFFFFFFFF >> length)
    return f"{socket.inet_ntop(socket.AF_INET, network.to_bytes(4, 'big'))}/{length}"


def ip(value: str) -> str:
    fast = _ipv4_fast(value.strip())
    if fast is not None:
        return fast
    if "/" not in value:  # the common case, and ip_address is several times cheaper than ip_network
        try:
            addr = ipaddress.ip_address(value.strip())
        except ValueError:
            raise ValueError("not an IP address or CIDR") from None
        mapped = addr.ipv4_mapped if addr.version == 6 else None
        return str(mapped or addr)
    net = ip_network(value)
    full = net.prefixlen == net.max_prefixlen
    return str(net.network_address) if full else str(net)


def file_hash(value: str) -> str:
    text = value.strip().lower()
    if len(text) not in _HASH_LENGTHS or not _HEX.fullmatch(text):
        raise ValueError("a hash must be 32, 40 or 64 hex digits (md5, sha1, sha256)")
    return text


def ja3(value: str) -> str:
    text = value.strip().lower()
    if len(text) != 32 or not _HEX.fullmatch(text):
        raise ValueError("a JA3 fingerprint is 32 hex digits")
    return text


def ja4(value: str) -> str:
    text = value.strip().lower()
    if not _JA4.fullmatch(text):
        raise ValueError("not a JA4 fingerprint (e.g. t13d1516h2_8daaf6152771_b186095e22b6)")
    return text


def wallet(value: str) -> str:
    """Base58/bech32 addresses keep their case; 0x-hex (Ethereum) addresses are case-insensitive."""
    text = value.strip()
    if text[:2].lower() == "0x" and len(text) == 42 and _HEX.fullmatch(text[2:].lower()):
        return text.lower()
    if not _WALLET.fullmatch(text):
        raise ValueError("a wallet is 20-200 letters and digits")
    return text


def agent(value: str) -> str:
    """Lower-cased; matched against the product tokens of an agent string (see IntelMatcher)."""
    text = " ".join(value.split()).lower()
    if not text or len(text) > _MAX_AGENT:
        raise ValueError(f"an agent indicator is 1-{_MAX_AGENT} characters")
    return text


def port(value: str) -> str:
    text = value.strip().lower().removesuffix("/tcp")
    if not text.isdigit() or not 0 < int(text) < 65536:
        raise ValueError("a port is a number from 1 to 65535")
    return str(int(text))


NORMALISERS = {
    "domain": domain,
    "ip": ip,
    "wallet": wallet,
    "hash": file_hash,
    "agent": agent,
    "ja3": ja3,
    "ja4": ja4,
    "port": port,
}


def normalise(kind: str, value: str) -> str:
    try:
        return NORMALISERS[kind](value)
    except KeyError:
        raise ValueError(f"unknown indicator type {kind!r} (known: {', '.join(TYPES)})") from None


def host_of(text: str) -> str:
    """The host of a URL ('stratum+tcp://pool:3333', 'http://1.2.3.4/x') or of 'host:port'."""
    text = text.strip()
    if "://" in text:
        try:
            host = urlsplit(text).hostname
        except ValueError:
            host = None
        if not host:
            raise ValueError("URL without a host")
        return host
    if text.startswith("["):  # [v6]:port
        return text[1:].partition("]")[0]
    head, sep, tail = text.rpartition(":")
    if sep and tail.isdigit() and ":" not in head:
        return head
    return text


# Cheap tests that skip a normaliser that cannot succeed (exceptions are slow on a million lines).
_GUESSES = (
    ("ip", lambda t: t[:1].isdigit() or ":" in t),
    ("ja4", lambda t: "_" in t),
    ("hash", lambda t: len(t) in _HASH_LENGTHS),
)


def guess(token: str) -> tuple[str, str]:
    """(type, normalised value) of a bare token in a plain list; URLs and host:port reduce to the host."""
    text = token.strip()
    kind, sep, rest = text.partition(":")
    if sep and kind.lower() in NORMALISERS:
        return kind.lower(), normalise(kind.lower(), rest)
    host = host_of(text)
    for kind, plausible in _GUESSES:
        if plausible(host):
            try:
                return kind, NORMALISERS[kind](host)
            except ValueError:
                pass
    if "." in host:
        return "domain", domain(host)
    try:
        return "wallet", wallet(host)
    except ValueError:
        raise ValueError("cannot tell what kind of indicator this is; write it as TYPE:VALUE") from None


def text(name: str, value: object) -> str:
    """A string field of a feed entry, stripped; None is ''. Numbers are spelled as text (a JSON port or
    family may be one); lists, objects and booleans are refused rather than turned into their repr."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    raise ValueError(f"'{name}' must be a string, not {type(value).__name__}")


def tags(value: object) -> tuple[str, ...]:
    """Sorted unique tags from a comma-separated string or a list of strings."""
    items = value.split(",") if isinstance(value, str) else value
    if items is None or items == "":
        return ()
    if not isinstance(items, list | tuple):
        raise ValueError(f"'tags' must be a string or a list of strings, not {type(value).__name__}")
    return tuple(sorted({t for t in (text("tags", i) for i in items) if t}))


def timestamp(value: object) -> str | None:
    """ISO 8601 in UTC ('2024-05-01T00:00:00Z'); None or '' stays None."""
    spelled = text("time", value)
    if not spelled:
        return None
    try:
        moment = datetime.fromisoformat(spelled.replace("Z", "+00:00"))
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    except ValueError:
        raise ValueError(f"not an ISO 8601 time: {spelled[:40]!r}") from None
    except OverflowError:  # 0001-01-01T00:00:00+14:00 is before year 1 in UTC
        raise ValueError(f"time out of range in UTC: {spelled[:40]!r}") from None


def confidence(value: object, default: int = 50) -> int:
    spelled = text("confidence", value)
    if not spelled:
        return default
    try:
        number = int(spelled)
    except ValueError:
        raise ValueError(f"confidence must be an integer 0-100, not {spelled[:40]!r}") from None
    if not 0 <= number <= 100:
        raise ValueError(f"confidence must be 0-100, not {number}")
    return number
