"""Build a large, seeded, mixed capture: the input of benchmarks/bench_analyze.py.

    python benchmarks/make_mixed_capture.py OUT.pcap --packets 1100000 --seed 1

What is in it (same seed and packet count, same bytes; a summary is printed and written to OUT.json):
- Flows arrive as a Poisson process (default 55 new flows per capture second) and run concurrently: every
  flow is a generator of (timestamp, frame) and a heap merges them in time, so packets interleave as on a
  real link, and the timestamps (from 2024-06-10 06:13:20 UTC on) increase over minutes of capture time.
- The mix, by flows: DNS over UDP (about 40%, a query and an answer, real names and records), HTTPS
  (about 29%: TLS 1.3 ClientHello with SNI/ALPN, server flight, 1-6 request/response exchanges with
  lognormal sizes), plain HTTP/1.1 (about 12%, keep-alive GETs), bulk downloads over HTTP or TLS
  (about 2%, 0.3-12 MB, heavy-tailed), QUIC-like UDP/443 (about 7%), SSH sessions with small
  keystroke packets (about 3%), NTP (about 3%), JSON-lines log shipping over TCP/24224 (about 0.5%,
  the JSON that a miner detector must look at and then drop) and more.
- TCP is stateful: handshake, consistent sequence and acknowledgement numbers, 1460-byte (MSS)
  segments for bulk data, delayed ACKs (one per two segments), FIN or RST at the end; some flows are
  still open when the capture ends. Round-trip times 2-150 ms, per-flow bandwidth 2-400 Mbit/s.
- About 15% of flows are IPv6 and about 10% of the hosts sit on VLAN 20 (802.1Q-tagged frames).
- Mining sessions (default 6, each from its own internal host, after a DNS lookup of the pool name) start
  spread through the capture (at 5%, 20%, ... of the packets) and last to its end: Stratum v1
  (mining.subscribe/authorize/set_difficulty/notify/submit with pool answers) and CryptoNote (xmrig login
  with agent and algorithms, job pushes, submit, keepalived). One miner is IPv6, one is on the VLAN.
  Their hosts are listed in OUT.json (`miners`) so that the benchmark can check the verdicts.

Streaming: only the flows active at one time are held (memory stays flat), and frames are packed from
per-flow header templates made once with minerwatch.capture.writer (one struct.pack and one concatenation
per packet). About 10 s for 1.1M packets on one core.
"""

from __future__ import annotations

import argparse
import heapq
import itertools
import json
import random
import struct
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path

from minerwatch.capture.writer import (
    TCP_ACK,
    TCP_FIN,
    TCP_PSH,
    TCP_RST,
    TCP_SYN,
    PcapWriter,
    ethernet,
    ip_packet,
    tcp_segment,
    udp_datagram,
)

START_TS = 1_718_000_000.0  # 2024-06-10 06:13:20 UTC
MSS = 1460
M32 = 0xFFFFFFFF
Packet = tuple[float, bytes]
Maker = Callable[..., bytes]

# ---- frame templates: the project's own crafting, once per flow direction -------------------------------

_structs: dict[str, struct.Struct] = {}


def _struct(fmt: str) -> struct.Struct:
    s = _structs.get(fmt)
    if s is None:
        s = _structs[fmt] = struct.Struct(fmt)
    return s


def tcp_maker(src: str, dst: str, sport: int, dport: int, vlans: tuple[int, ...]) -> Maker:
    """A function (seq, ack, flags, payload) -> frame for one direction of a TCP flow."""
    ipv6 = ":" in src
    tmpl = ethernet(ip_packet(src, dst, 6, tcp_segment(sport, dport, 0, 0, 0)), ipv6=ipv6, vlans=vlans)
    l2 = 14 + 4 * len(vlans)
    lenoff, tcpoff = (l2 + 4, l2 + 40) if ipv6 else (l2 + 2, l2 + 20)
    a, b, c = tmpl[:lenoff], tmpl[lenoff + 2 : tcpoff + 4], tmpl[tcpoff + 14 : tcpoff + 20]
    pack = _struct(f">{len(a)}sH{len(b)}sIIBB{len(c)}s").pack
    base = 20 if ipv6 else 40  # IP length field: IPv6 payload length, IPv4 total length

    def make(seq: int, ack: int, flags: int, payload: bytes = b"") -> bytes:
        return pack(a, base + len(payload), b, seq & M32, ack & M32, 0x50, flags, c) + payload

    return make


def udp_maker(src: str, dst: str, sport: int, dport: int, vlans: tuple[int, ...]) -> Maker:
    """A function (payload) -> frame for one direction of a UDP flow."""
    ipv6 = ":" in src
    tmpl = ethernet(ip_packet(src, dst, 17, udp_datagram(sport, dport, b"")), ipv6=ipv6, vlans=vlans)
    l2 = 14 + 4 * len(vlans)
    lenoff, udpoff = (l2 + 4, l2 + 40) if ipv6 else (l2 + 2, l2 + 20)
    a, b = tmpl[:lenoff], tmpl[lenoff + 2 : udpoff + 4]
    pack = _struct(f">{len(a)}sH{len(b)}sHH").pack
    base = 8 if ipv6 else 28

    def make(payload: bytes) -> bytes:
        return pack(a, base + len(payload), b, 8 + len(payload), 0) + payload

    return make


# ---- application payloads -----------------------------------------------------------------------------

WORDS = tuple(
    [
        "cloud",
        "static",
        "cdn",
        "api",
        "img",
        "media",
        "login",
        "mail",
        "news",
        "shop",
        "video",
        "data",
        "edge",
        "assets",
        "app",
        "portal",
        "search",
        "maps",
        "docs",
        "update",
        "sync",
        "telemetry",
        "auth",
        "accounts",
        "store",
        "blog",
        "forum",
        "wiki",
        "status",
        "metrics",
        "ads",
        "fonts",
        "stream",
    ]
)
TLDS = ("com", "net", "org", "io", "de", "co.uk", "fr", "cloud", "dev", "info")
AGENTS = (
    b"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/125.0",
    b"Mozilla/5.0 (X11; Linux x86_64; rv:127.0) Gecko/20100101 Firefox/127.0",
    b"Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5",
    b"curl/8.5.0",
    b"Debian APT-HTTP/1.3 (2.6.1)",
)
CONTENT_TYPES = (b"text/html; charset=utf-8", b"application/javascript", b"image/jpeg", b"application/json")
# Pool names looked up before the mining sessions (answered with documentation-range addresses).
POOLS = (
    ("pool.supportxmr.com", "198.51.100.17", 3333, "cryptonote"),
    ("stratum.slushpool.com", "198.51.100.40", 3333, "stratum"),
    ("xmr-eu1.nanopool.org", "198.51.100.23", 14444, "cryptonote"),
    ("btc.viabtc.io", "198.51.100.51", 3333, "stratum"),
    ("gulf.moneroocean.stream", "2001:db8:ffff::10", 10128, "cryptonote"),
    ("ltc.f2pool.com", "198.51.100.62", 8888, "stratum"),
)
XMR_WALLET = "44AFFq5kSiGBoZ4NMDwYtN18obc8AemS33DBLWs3H7otXft3XjrpDtQGv7SqSsaBYBb98uNbr2VBBEt7f2wfn3RVGQBEP3A"
BTC_WALLET = "bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq"


def domain(rng: random.Random) -> str:
    return f"{rng.choice(WORDS)}.{rng.choice(WORDS)}{rng.randrange(100)}.{rng.choice(TLDS)}"


def qname(name: str) -> bytes:
    return b"".join(bytes([len(p)]) + p.encode() for p in name.split(".")) + b"\x00"


def dns_pair(rng: random.Random, name: str, qtype: int, answers: list[bytes]) -> tuple[bytes, bytes]:
    """A DNS query (with EDNS) and its answer: a CNAME sometimes, then A/AAAA records."""
    qid = rng.randrange(65536)
    question = qname(name) + struct.pack(">HH", qtype, 1)
    edns = b"\x00\x00\x29\x04\xd0\x00\x00\x00\x00\x00\x00"
    query = struct.pack(">HHHHHH", qid, 0x0100, 1, 0, 0, 1) + question + edns
    records = []
    if rng.random() < 0.3:
        target = qname(f"{rng.choice(WORDS)}.edgekey.net")
        records.append(struct.pack(">HHHIH", 0xC00C, 5, 1, 300, len(target)) + target)
    for rdata in answers:
        records.append(struct.pack(">HHHIH", 0xC00C, qtype, 1, rng.randrange(30, 3600), len(rdata)) + rdata)
    answer = struct.pack(">HHHHHH", qid, 0x8180, 1, len(records), 0, 1) + question + b"".join(records) + edns
    return query, answer


def client_hello(rng: random.Random, sni: str) -> bytes:
    """A TLS 1.3 ClientHello record as browsers send it (SNI, ALPN, key share, padding to 512)."""
    suites = bytes.fromhex("130113021303c02bc02fc02cc030cca9cca8c013c014009c009d002f0035")
    name = sni.encode()
    ext = []

    def add(etype: int, body: bytes) -> None:
        ext.append(struct.pack(">HH", etype, len(body)) + body)

    add(0, struct.pack(">HBH", len(name) + 3, 0, len(name)) + name)
    add(23, b"")
    add(65281, b"\x00")
    add(10, bytes.fromhex("000a001d0017001e00180019"))
    add(11, b"\x01\x00")
    add(35, b"")
    add(16, bytes.fromhex("000c02683208687474702f312e31"))
    add(5, bytes.fromhex("0100000000"))
    add(13, bytes.fromhex("00120403080404010503080505010806060102 01".replace(" ", "")))
    add(51, struct.pack(">HHH", 36, 29, 32) + rng.randbytes(32))
    add(45, b"\x01\x01")
    add(43, bytes.fromhex("0403040303"))
    body = (
        b"\x03\x03"
        + rng.randbytes(32)
        + b"\x20"
        + rng.randbytes(32)
        + struct.pack(">H", len(suites))
        + suites
        + b"\x01\x00"
    )
    exts = b"".join(ext)
    pad = 512 - (len(body) + len(exts) + 2 + 4 + 4 + 5)
    if pad > 0:
        exts += struct.pack(">HH", 21, pad) + bytes(pad)
    body += struct.pack(">H", len(exts)) + exts
    hs = b"\x01" + len(body).to_bytes(3, "big") + body
    return b"\x16\x03\x01" + struct.pack(">H", len(hs)) + hs


def server_flight(rng: random.Random, size: int) -> bytes:
    """ServerHello, ChangeCipherSpec and the encrypted rest of the TLS 1.3 server flight."""
    sh = (
        b"\x03\x03"
        + rng.randbytes(32)
        + b"\x20"
        + rng.randbytes(32)
        + b"\x13\x01\x00"
        + struct.pack(">H", 46)
        + struct.pack(">HHH", 51, 36, 29)
        + struct.pack(">H", 32)
        + rng.randbytes(32)
        + struct.pack(">HHH", 43, 2, 0x0304)
    )
    hs = b"\x02" + len(sh).to_bytes(3, "big") + sh
    return (
        b"\x16\x03\x03" + struct.pack(">H", len(hs)) + hs + b"\x14\x03\x03\x00\x01\x01" + app_data(rng, size)
    )


def app_data(rng: random.Random, size: int) -> bytes:
    """TLS application-data records (16 KiB at most each) carrying `size` bytes in all."""
    out = []
    while size > 0:
        n = min(size, 16384 + 17)
        out.append(b"\x17\x03\x03" + struct.pack(">H", n) + rng.randbytes(n))
        size -= n
    return b"".join(out)


class Blob:
    """Random bytes for bodies: slices of one seeded 2 MiB buffer (compressed content looks random), taken
    at a moving offset (no random call per segment)."""

    def __init__(self, rng: random.Random) -> None:
        self.data = rng.randbytes(2 << 20)
        self.pos = 0

    def get(self, n: int) -> bytes:
        size = len(self.data)
        if n <= 0:
            return b""
        if n >= size:
            return self.data * (n // size) + self.data[: n % size]
        self.pos = (self.pos + 104_729) % (size - n + 1)
        return self.data[self.pos : self.pos + n]


# ---- flows ----------------------------------------------------------------------------------------------


class Tcp:
    """Sequence-number bookkeeping of one TCP connection, seen at the client side's uplink."""

    def __init__(self, g: Generator, client: str, cport: int, server: str, sport: int, vlans: tuple) -> None:
        self.c = tcp_maker(client, server, cport, sport, vlans)
        self.s = tcp_maker(server, client, sport, cport, vlans)
        self.cs = g.rng.randrange(1 << 32)
        self.ss = g.rng.randrange(1 << 32)
        self.rtt = g.rng.choice((0.002, 0.008, 0.015, 0.025, 0.04, 0.07, 0.15)) * (0.7 + 0.6 * g.rng.random())
        mbit = g.rng.choice((2, 10, 25, 50, 100, 200, 400))
        self.gap = MSS * 8 / (mbit * 1e6)  # seconds between back-to-back segments

    def open(self, t: float) -> Iterator[Packet]:
        yield t, self.c(self.cs, 0, TCP_SYN)
        self.cs += 1
        t += self.rtt
        yield t, self.s(self.ss, self.cs, TCP_SYN | TCP_ACK)
        self.ss += 1
        yield t + 0.00005, self.c(self.cs, self.ss, TCP_ACK)

    def client_sends(self, t: float, data: bytes) -> Iterator[Packet]:
        """Client data (requests, uploads): segments back to back; the server ACKs every second one."""
        make, n = self.c, len(data)
        for k, i in enumerate(range(0, n, MSS)):
            chunk = data[i : i + MSS]
            yield t, make(self.cs, self.ss, TCP_ACK | (TCP_PSH if i + MSS >= n else 0), chunk)
            self.cs += len(chunk)
            if k % 2 == 1 and i + MSS < n:
                yield t + self.gap * 0.5, self.s(self.ss, self.cs, TCP_ACK)
            t += self.gap

    def server_sends(
        self, t: float, data: bytes, ack_last: bool = True, body: int = 0, blob: Blob | None = None
    ) -> Iterator[Packet]:
        """Server data (`data`, then `body` random bytes made segment by segment, so that a 12 MB download
        is never held whole): segments arrive `gap` apart; the client ACKs every second one (delayed ACK)."""
        make, ackc, n = self.s, self.c, len(data) + body
        delay = min(self.gap * 0.4, 0.00004)
        for segs, i in enumerate(range(0, n, MSS), 1):
            if i < len(data):
                chunk = data[i : i + MSS]
                if body and len(chunk) < MSS:
                    chunk += blob.get(min(MSS, n - i) - len(chunk))  # type: ignore[union-attr]
            else:
                chunk = blob.get(min(MSS, n - i))  # type: ignore[union-attr]
            last = i + MSS >= n
            yield t, make(self.ss, self.cs, TCP_ACK | (TCP_PSH if last else 0), chunk)
            self.ss += len(chunk)
            if segs % 2 == 0 or (last and ack_last):
                yield t + delay, ackc(self.cs, self.ss, TCP_ACK)
            t += self.gap

    def close(self, t: float, rng: random.Random) -> Iterator[Packet]:
        if rng.random() < 0.06:
            yield t, self.c(self.cs, self.ss, TCP_RST | TCP_ACK)
            return
        yield t, self.c(self.cs, self.ss, TCP_FIN | TCP_ACK)
        self.cs += 1
        t += self.rtt
        yield t, self.s(self.ss, self.cs, TCP_FIN | TCP_ACK)
        self.ss += 1
        yield t + 0.00005, self.c(self.cs, self.ss, TCP_ACK)


class Generator:
    def __init__(self, seed: int, flow_rate: float) -> None:
        self.rng = random.Random(seed)
        self.blob = Blob(self.rng)
        self.flow_rate = flow_rate
        self.kinds: Counter[str] = Counter()
        self.port = itertools.count(32768)
        rng = self.rng
        self.clients4 = [
            f"10.{rng.randrange(1, 4)}.{rng.randrange(256)}.{rng.randrange(1, 255)}" for _ in range(1800)
        ]
        self.clients4 += [
            f"10.20.{rng.randrange(256)}.{rng.randrange(1, 255)}" for _ in range(200)
        ]  # VLAN 20
        self.clients6 = [f"2001:db8:10:{rng.randrange(4):x}::{rng.randrange(1, 65535):x}" for _ in range(400)]
        self.servers4 = [
            f"{rng.choice((23, 34, 52, 93, 104, 142, 151, 172, 185, 199))}.{rng.randrange(256)}."
            f"{rng.randrange(256)}.{rng.randrange(1, 255)}"
            for _ in range(6000)
        ]
        self.servers6 = [
            f"2a0{rng.randrange(1, 5)}:{rng.randrange(65536):x}:{rng.randrange(65536):x}::"
            f"{rng.randrange(1, 999):x}"
            for _ in range(1200)
        ]
        self.resolvers = ("10.0.0.53", "10.0.0.54")
        self.resolvers6 = ("2001:db8:10::53",)
        self.names = [domain(rng) for _ in range(3000)]
        self.hellos = [client_hello(rng, name) for name in self.names[:600]]
        self.dns = []
        for name in self.names[:2500]:
            v6 = rng.random() < 0.3
            answers = [
                bytes(rng.randbytes(16) if v6 else bytes([rng.choice((23, 104, 151)), *rng.randbytes(3)]))
                for _ in range(rng.randrange(1, 4))
            ]
            self.dns.append(dns_pair(rng, name, 28 if v6 else 1, answers))

    # -- endpoints --

    def endpoints(self, v6_share: float = 0.15) -> tuple[str, str, tuple[int, ...]]:
        rng = self.rng
        if rng.random() < v6_share:
            return rng.choice(self.clients6), rng.choice(self.servers6), ()
        client = rng.choice(self.clients4)
        return client, rng.choice(self.servers4), ((20,) if client.startswith("10.20.") else ())

    def ephemeral(self) -> int:
        return 32768 + next(self.port) % 28000

    # -- the flow mix --

    def spawn(self, t: float) -> tuple[str, Iterator[Packet]]:
        r = self.rng.random()
        for share, kind, make in (
            (0.42, "dns", self.dns_flow),
            (0.29, "https", self.https_flow),
            (0.12, "http", self.http_flow),
            (0.07, "quic", self.quic_flow),
            (0.02, "ssh", self.ssh_flow),
            (0.03, "ntp", self.ntp_flow),
            (0.008, "bulk", self.bulk_flow),
            (0.005, "jsonlines", self.jsonlines_flow),
        ):
            if r < share:
                self.kinds[kind] += 1
                return kind, make(t)
            r -= share
        self.kinds["https"] += 1
        return "https", self.https_flow(t)

    def dns_flow(self, t: float, name_pair: tuple[bytes, bytes] | None = None, v6: bool | None = None):
        rng = self.rng
        if v6 is None:
            v6 = rng.random() < 0.15
        client, _, vlans = self.endpoints(1.0 if v6 else 0.0)
        server = self.resolvers6[0] if v6 else rng.choice(self.resolvers)
        port = self.ephemeral()
        q, a = name_pair or rng.choice(self.dns)
        qid = struct.pack(">H", rng.randrange(65536))
        c, s = udp_maker(client, server, port, 53, vlans), udp_maker(server, client, 53, port, vlans)
        yield t, c(qid + q[2:])
        if rng.random() < 0.03:  # lost answer: the stub retries
            t += 1.0
            yield t, c(qid + q[2:])
        yield t + rng.uniform(0.0005, 0.04), s(qid + a[2:])

    def ntp_flow(self, t: float):
        client, _, vlans = self.endpoints(0.0)
        server = self.rng.choice(self.servers4)
        c, s = udp_maker(client, server, 123, 123, vlans), udp_maker(server, client, 123, 123, vlans)
        yield t, c(b"\x23" + bytes(39) + self.rng.randbytes(8))
        yield t + self.rng.uniform(0.005, 0.08), s(b"\x24\x02\x03\xe8" + self.rng.randbytes(44))

    def quic_flow(self, t: float):
        """UDP/443: a long-header Initial, then 1200-1350-byte datagrams down and small ACKs up."""
        rng, blob = self.rng, self.blob
        client, server, vlans = self.endpoints(0.3)
        port = self.ephemeral()
        c, s = udp_maker(client, server, port, 443, vlans), udp_maker(server, client, 443, port, vlans)
        rtt = rng.uniform(0.005, 0.08)
        dcid, scid = rng.randbytes(8), rng.randbytes(8)
        # Long-header Initials (version 1, connection ids, empty token, 2-byte length), then short headers.
        yield t, c(b"\xc3\x00\x00\x00\x01\x08" + dcid + b"\x08" + scid + b"\x00\x44\xc8" + blob.get(1224))
        t += rtt
        yield t, s(b"\xc1\x00\x00\x00\x01\x08" + scid + b"\x08" + dcid + b"\x00\x44\x90" + blob.get(1168))
        n = int(min(rng.paretovariate(1.1) * 8, 600))
        gap = rng.uniform(0.0001, 0.002)
        for k in range(n):
            t += gap
            yield t, s(b"\x41" + scid + blob.get(rng.randrange(1191, 1341)))
            if k % 2 == 1:
                yield t + gap * 0.3, c(b"\x41" + dcid + blob.get(rng.randrange(24, 52)))

    def https_flow(self, t: float, bulk: int = 0):
        rng, blob = self.rng, self.blob
        client, server, vlans = self.endpoints()
        tcp = Tcp(self, client, self.ephemeral(), server, 443, vlans)
        yield from tcp.open(t)
        t += tcp.rtt + 0.0001
        yield from tcp.client_sends(t, rng.choice(self.hellos))
        t += tcp.rtt
        yield from tcp.server_sends(t, server_flight(rng, rng.randrange(2500, 5200)))
        t += tcp.rtt + 4 * tcp.gap
        yield from tcp.client_sends(t, b"\x14\x03\x03\x00\x01\x01" + app_data(rng, 53))
        exchanges = 1 if bulk else rng.choice((1, 1, 2, 2, 3, 4, 6))
        for _ in range(exchanges):
            t += tcp.gap + rng.expovariate(1 / 0.3)
            yield from tcp.client_sends(t, app_data(rng, rng.randrange(60, 700)))
            size = bulk or int(min(rng.lognormvariate(8.3, 1.3), 600_000))
            t += tcp.rtt
            record = b"\x17\x03\x03" + struct.pack(">H", min(size, 16401))
            yield from tcp.server_sends(t, record, body=size, blob=blob)
            t += ((size + len(record)) // MSS + 1) * tcp.gap
        if rng.random() < 0.9:
            yield from tcp.close(t + rng.expovariate(1 / 2.0), rng)

    def http_flow(self, t: float, bulk: int = 0):
        rng, blob = self.rng, self.blob
        client, server, vlans = self.endpoints(0.1)
        tcp = Tcp(self, client, self.ephemeral(), server, 80, vlans)
        host = rng.choice(self.names).encode()
        yield from tcp.open(t)
        t += tcp.rtt
        for _ in range(1 if bulk else rng.choice((1, 1, 1, 2, 3, 5))):
            t += 0.0001 + rng.expovariate(1 / 0.2)
            path = b"/%s/%d.%s" % (
                rng.choice(WORDS).encode(),
                rng.randrange(10**6),
                rng.choice((b"js", b"css", b"jpg", b"deb", b"html")),
            )
            request = (
                b"GET %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: %s\r\nAccept: */*\r\n"
                b"Accept-Encoding: gzip, deflate\r\nConnection: keep-alive\r\n\r\n"
                % (path, host, rng.choice(AGENTS))
            )
            yield from tcp.client_sends(t, request)
            size = bulk or int(min(rng.lognormvariate(7.8, 1.4), 400_000))
            head = (
                b"HTTP/1.1 200 OK\r\nServer: nginx\r\nDate: Mon, 10 Jun 2024 06:13:20 GMT\r\n"
                b"Content-Type: %s\r\nContent-Length: %d\r\nCache-Control: max-age=3600\r\n"
                b"Connection: keep-alive\r\n\r\n" % (rng.choice(CONTENT_TYPES), size)
            )
            t += tcp.rtt
            yield from tcp.server_sends(t, head, body=size, blob=blob)
            t += (size // MSS + 1) * tcp.gap
        if rng.random() < 0.92:
            yield from tcp.close(t + rng.expovariate(1 / 1.0), rng)

    def bulk_flow(self, t: float):
        size = int(min(self.rng.paretovariate(1.2) * 300_000, 12_000_000))
        if self.rng.random() < 0.6:
            return self.https_flow(t, bulk=size)
        return self.http_flow(t, bulk=size)

    def ssh_flow(self, t: float):
        """Banners, key exchange, then keystrokes (36-100 bytes) echoed, with ACKs."""
        rng, blob = self.rng, self.blob
        client, server, vlans = self.endpoints(0.2)
        tcp = Tcp(self, client, self.ephemeral(), server, 22, vlans)
        yield from tcp.open(t)
        t += tcp.rtt
        yield from tcp.server_sends(t, b"SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u2\r\n", ack_last=False)
        t += 0.001
        yield from tcp.client_sends(t, b"SSH-2.0-OpenSSH_9.6\r\n")
        t += tcp.rtt
        yield from tcp.client_sends(t, blob.get(1500))
        yield from tcp.server_sends(t + tcp.rtt, blob.get(1100))
        t += 2 * tcp.rtt
        for _ in range(rng.randrange(10, 80)):
            t += rng.expovariate(1 / 0.25)
            yield from tcp.client_sends(t, blob.get(rng.choice((36, 36, 52, 100))))
            t += tcp.rtt
            yield from tcp.server_sends(t, blob.get(rng.choice((36, 52, 68, 180, 900))))
        yield from tcp.close(t + 0.5, rng)

    def jsonlines_flow(self, t: float):
        """A log shipper's JSON lines (fluent-bit style): JSON, but no pool protocol."""
        rng = self.rng
        client, server, vlans = self.endpoints(0.0)
        tcp = Tcp(self, client, self.ephemeral(), server, 24224, vlans)
        yield from tcp.open(t)
        t += tcp.rtt
        for _ in range(rng.randrange(10, 200)):
            lines = b"".join(
                json.dumps(
                    {
                        "@timestamp": t,
                        "host": client,
                        "level": rng.choice(("info", "warn", "debug")),
                        "message": f"GET /{rng.choice(WORDS)} {rng.randrange(200, 504)} {rng.random():.4f}",
                        "service": rng.choice(WORDS),
                    }
                ).encode()
                + b"\n"
                for _ in range(rng.randrange(1, 40))
            )
            yield from tcp.client_sends(t, lines)
            t += tcp.rtt
            yield t, tcp.s(tcp.ss, tcp.cs, TCP_ACK)
            t += rng.expovariate(1 / 0.5)
        yield from tcp.close(t, rng)

    # -- mining --

    def miner(self, t: float, index: int, end_guess: float) -> tuple[str, Iterator[Packet]]:
        rng = self.rng
        name, pool_ip, port, dialect = POOLS[index % len(POOLS)]
        v6 = ":" in pool_ip
        if v6:
            host = f"2001:db8:10:7::{index + 1:x}"
        elif index == 1:
            host = f"10.20.9.{100 + index}"  # on VLAN 20
        else:
            host = f"10.3.{index}.{200 + index}"
        vlans = (20,) if host.startswith("10.20.") else ()
        answer = (
            bytes.fromhex("20010db8ffff00000000000000000010") if v6 else bytes(map(int, pool_ip.split(".")))
        )
        pair = dns_pair(rng, name, 28 if v6 else 1, [answer])

        def session() -> Iterator[Packet]:
            resolver = self.resolvers6[0] if v6 else self.resolvers[0]
            yield t, udp_maker(host, resolver, 53001, 53, vlans)(pair[0])
            yield t + 0.008, udp_maker(resolver, host, 53, 53001, vlans)(pair[1])
            tcp = Tcp(self, host, self.ephemeral(), pool_ip, port, vlans)
            yield from tcp.open(t + 0.02)
            lines = stratum_lines if dialect == "stratum" else cryptonote_lines
            yield from lines(self, tcp, t + 0.03 + tcp.rtt, end_guess)

        self.kinds[f"mining-{dialect}"] += 1
        return host, f"mining-{dialect}", session()


def _exchange(tcp: Tcp, t: float, request: bytes, answers: list[bytes]) -> Iterator[Packet]:
    yield from tcp.client_sends(t, request)
    t += tcp.rtt
    for a in answers:
        yield from tcp.server_sends(t, a, ack_last=False)
        t += 0.0002
    yield t + 0.0001, tcp.c(tcp.cs, tcp.ss, TCP_ACK)


def _line(obj: dict) -> bytes:
    return json.dumps(obj, separators=(",", ":")).encode() + b"\n"


def stratum_lines(g: Generator, tcp: Tcp, t: float, end: float) -> Iterator[Packet]:
    rng = g.rng
    hexs = lambda n: rng.randbytes(n).hex()  # noqa: E731
    worker = f"{BTC_WALLET}.rig{rng.randrange(100)}"
    agent = rng.choice(("cgminer/4.12.1", "bfgminer/5.5.0", "cpuminer-opt/23.15"))
    yield from _exchange(
        tcp,
        t,
        _line({"id": 1, "method": "mining.subscribe", "params": [agent]}),
        [
            _line(
                {
                    "id": 1,
                    "result": [[["mining.set_difficulty", hexs(4)], ["mining.notify", hexs(4)]], hexs(4), 4],
                    "error": None,
                }
            )
        ],
    )
    t += tcp.rtt + 0.01

    def notify(clean: bool) -> bytes:
        branch = [hexs(32) for _ in range(rng.randrange(8, 13))]
        params = [hexs(4), hexs(32), hexs(60), hexs(50), branch, "20000000", "1705ae3a", hexs(4), clean]
        return _line({"id": None, "method": "mining.notify", "params": params})

    job = notify(True)
    yield from _exchange(
        tcp,
        t,
        _line({"id": 2, "method": "mining.authorize", "params": [worker, "x"]}),
        [
            _line({"id": 2, "result": True, "error": None}),
            _line({"id": None, "method": "mining.set_difficulty", "params": [65536]}),
            job,
        ],
    )
    ident = 3
    next_job = t + rng.uniform(20, 40)
    while t < end:
        t += rng.expovariate(1 / 12.0)
        if t >= next_job:
            yield from tcp.server_sends(next_job, notify(rng.random() < 0.3))
            next_job += rng.uniform(20, 40)
        request = _line(
            {
                "id": ident,
                "method": "mining.submit",
                "params": [worker, hexs(4), hexs(4), "6671a2c0", hexs(4)],
            }
        )
        ok = rng.random() < 0.97
        reply = {"id": ident, "result": ok, "error": None if ok else [23, "Low difficulty share", None]}
        yield from _exchange(tcp, t, request, [_line(reply)])
        ident += 1


def cryptonote_lines(g: Generator, tcp: Tcp, t: float, end: float) -> Iterator[Packet]:
    rng = g.rng
    hexs = lambda n: rng.randbytes(n).hex()  # noqa: E731
    session_id = hexs(16)
    height = 3_160_000 + rng.randrange(1000)
    seed_hash = hexs(32)

    def job() -> dict:
        return {
            "blob": hexs(76),
            "job_id": hexs(8),
            "target": "b88d0600",
            "algo": "rx/0",
            "height": height,
            "seed_hash": seed_hash,
        }

    login = {
        "id": 1,
        "jsonrpc": "2.0",
        "method": "login",
        "params": {
            "login": XMR_WALLET,
            "pass": f"rig{rng.randrange(100)}",
            "agent": "XMRig/6.21.3 (Linux x86_64) libuv/1.48.0 gcc/13.2.0",
            "algo": ["rx/0", "rx/wow", "rx/arq", "cn/r", "cn-lite/1", "argon2/chukwav2", "ghostrider"],
            "rigid": "",
        },
    }
    reply = {
        "id": 1,
        "jsonrpc": "2.0",
        "error": None,
        "result": {
            "id": session_id,
            "job": job(),
            "extensions": ["algo", "nicehash", "connect", "tls", "keepalive"],
            "status": "OK",
        },
    }
    yield from _exchange(tcp, t, _line(login), [_line(reply)])
    ident = 2
    next_job = t + rng.uniform(15, 60)
    next_keepalive = t + 60
    while t < end:
        t += rng.expovariate(1 / 15.0)
        if t >= next_job:
            height += 1
            yield from tcp.server_sends(next_job, _line({"jsonrpc": "2.0", "method": "job", "params": job()}))
            next_job += rng.uniform(15, 60)
        if t >= next_keepalive:
            yield from _exchange(
                tcp,
                next_keepalive,
                _line({"id": ident, "jsonrpc": "2.0", "method": "keepalived", "params": {"id": session_id}}),
                [_line({"id": ident, "jsonrpc": "2.0", "error": None, "result": {"status": "KEEPALIVED"}})],
            )
            ident += 1
            next_keepalive += 60
        params = {"id": session_id, "job_id": hexs(8), "nonce": hexs(4), "result": hexs(32), "algo": "rx/0"}
        request = _line({"id": ident, "jsonrpc": "2.0", "method": "submit", "params": params})
        yield from _exchange(
            tcp,
            t,
            request,
            [_line({"id": ident, "jsonrpc": "2.0", "error": None, "result": {"status": "OK"}})],
        )
        ident += 1


PACKETS_PER_FLOW = 35.0
SIZE_NAMES = ("<=127", "128-575", "576-1279", "1280-1518")
SIZE_CLASS = [SIZE_NAMES[0]] * 2 + [SIZE_NAMES[1]] * 7 + [SIZE_NAMES[2]] * 11 + [SIZE_NAMES[3]] * 5

# ---- the merge ------------------------------------------------------------------------------------------


def build(out_path: Path, packets: int, seed: int, flow_rate: float, miners: int) -> dict:
    g = Generator(seed, flow_rate)
    rng = g.rng
    heap: list[tuple[float, int, bytes, Iterator[Packet], str]] = []
    tiebreak = itertools.count()
    # Where the capture will end (measured: ~PACKETS_PER_FLOW packets per flow), so mining lasts to the end.
    end_guess = START_TS + packets / (flow_rate * PACKETS_PER_FLOW) * 1.2
    miner_hosts = []
    miner_at = [int(packets * (0.05 + 0.15 * k)) for k in range(miners)]
    sizes: Counter[str] = Counter()
    by_kind: Counter[str] = Counter()
    wire = 0

    def push(kind: str, gen: Iterator[Packet]) -> None:
        for ts, fr in gen:
            heapq.heappush(heap, (ts, next(tiebreak), fr, gen, kind))
            return

    next_flow = last_ts = START_TS
    written = 0
    with out_path.open("wb", buffering=1 << 20) as fh:
        write = PcapWriter(fh).write
        while written < packets:
            if not heap or next_flow <= heap[0][0]:
                push(*g.spawn(next_flow))
                next_flow += rng.expovariate(flow_rate)
                continue
            if miner_at and written >= miner_at[0]:
                miner_at.pop(0)
                host, kind, gen = g.miner(heap[0][0], len(miner_hosts), end_guess)
                miner_hosts.append(host)
                push(kind, gen)
                continue
            ts, _, fr, gen, kind = heap[0]
            write(ts, fr)
            n = len(fr)
            wire += n
            sizes[SIZE_CLASS[n >> 6]] += 1
            by_kind[kind] += 1
            written += 1
            for nts, nfr in gen:
                # A flow's packets are in time order; the max() only guards the merge against slips.
                heapq.heapreplace(heap, (nts if nts > ts else ts, next(tiebreak), nfr, gen, kind))
                break
            else:
                heapq.heappop(heap)
            last_ts = ts
    return {
        "path": str(out_path),
        "seed": seed,
        "packets": written,
        "wire_bytes": wire,
        "first_ts": START_TS,
        "last_ts": last_ts,
        "span_seconds": round(last_ts - START_TS, 3),
        "flows_started": sum(g.kinds.values()),
        "flows_by_kind": dict(g.kinds.most_common()),
        "packets_by_kind": dict(by_kind.most_common()),
        "flows_open_at_end": len(heap),
        "frame_sizes": {k: sizes[k] for k in SIZE_NAMES},
        "mean_frame_bytes": round(wire / max(written, 1), 1),
        "miners": miner_hosts,
    }


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawTextHelpFormatter
    )
    p.add_argument("out", type=Path, help="pcap file to write")
    p.add_argument("--packets", type=int, default=1_100_000, help="packets to write (default 1100000)")
    p.add_argument("--seed", type=int, default=1, help="random seed (default 1)")
    p.add_argument("--flow-rate", type=float, default=55.0, help="new flows per capture second (default 55)")
    p.add_argument("--miners", type=int, default=6, help="mining sessions, one host each (default 6)")
    args = p.parse_args(argv)
    started = time.perf_counter()
    summary = build(args.out, args.packets, args.seed, args.flow_rate, args.miners)
    summary["generation_seconds"] = round(time.perf_counter() - started, 2)
    Path(str(args.out) + ".json").write_text(json.dumps(summary, indent=2) + "\n")
    json.dump(summary, sys.stdout, indent=2)
    print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
