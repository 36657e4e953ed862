"""Benign sessions of many connections for record_encrypted.py: a flow-level false-positive rate of 0.1% is
only shown on thousands of benign flows (0 in n bounds it to 3/n at 95%), and a network's benign flows are
mostly many short ones. Each session runs a few client workers, each opening connection after connection
of one shape (page visits, API polls, downloads, long-polls, WebSocket feeds, MQTT publishes and
subscriptions, SSH commands and copies, IMAP IDLE-like waits) with sizes, counts, lifetimes and pauses
drawn at random (bash's $RANDOM, seeded per worker), against the same real servers as the long sessions.

All are `test` sessions: held out of training, with option sets (one connection per visit, random lifetimes)
that no train session has.
"""

from __future__ import annotations

import random
from collections.abc import Callable

from encrypted_sessions import PEERS, PYTHON, Context, Session, Starter, idle_server, mosquitto, sshd

# Web-like object sizes, as record_real_traffic.py: 70% 0.5-8 KiB, 25% 8-64 KiB, 5% 64 KiB-1 MiB.
OBJECTS = 60


def workers(ctx: Context, count: int, body: str, log: str = "client") -> None:
    """`count` bash loops in the client's namespace (one with --quick: a fixture-sized capture), each
    running `body` over and over with its own random seed ($RANDOM), until the session stops them (one
    process group)."""
    script = (
        f"for w in $(seq {1 if ctx.quick else count}); do "
        f"(RANDOM=$((BASHPID * 31 + w)); while true; do {body}; done) & done; wait"
    )
    ctx.client("bash", "-c", script, log=log)


def pause(most: int) -> str:
    """A shell sleep of 0 to `most` seconds, tenths included."""
    return f"sleep $((RANDOM % {most})).$((RANDOM % 10))"


def web_objects(ctx: Context) -> None:
    """OBJECTS files o0.bin... in the session's document root, web-like sizes (seeded: the same every run;
    --quick cuts them, at least 200 bytes)."""
    draw = random.Random(15)
    docroot = ctx.work / "www"
    docroot.mkdir(exist_ok=True)
    for n in range(OBJECTS):
        kind = draw.random()
        low, high = (
            (512, 8 << 10) if kind < 0.7 else (8 << 10, 64 << 10) if kind < 0.95 else (64 << 10, 1 << 20)
        )
        (docroot / f"o{n}.bin").write_bytes(draw.randbytes(max(200, draw.randint(low, high) // ctx.scale)))


def https_server(ctx: Context, port: int) -> str:
    """Python's https server on `port` over the session's document root; returns its base URL."""
    ctx.serve(
        port, PYTHON, PEERS, "https", ctx.work / "www", ctx.tools.cert, ctx.tools.key, "--port", str(port)
    )
    return f"https://{ctx.net.server_ip}:{port}"


def https_clients(port: int, count: int, most_pause: int, body: Callable[[str], str]) -> Starter:
    """Web-sized objects behind Python's https server; `count` workers run the curl `body(base URL)` and
    pause 0 to `most_pause` s."""

    def start(ctx: Context) -> None:
        web_objects(ctx)
        workers(ctx, count, body(https_server(ctx, port)) + pause(most_pause))

    return start


def visits(port: int, count: int, most_objects: int, most_pause: int) -> Starter:
    """Page visits: each a new connection fetching 1 to `most_objects` objects on keep-alive."""
    return https_clients(
        port,
        count,
        most_pause,
        lambda base: (
            f"u=; for i in $(seq $((1 + RANDOM % {most_objects}))); do "
            f'u="$u -o /dev/null {base}/o$((RANDOM % {OBJECTS})).bin"; done; curl -sk $u; '
        ),
    )


def polls(port: int, count: int) -> Starter:
    """API clients: each connection polls one object every 2 to 20 s, 2 to 15 times, then closes."""
    return https_clients(
        port,
        count,
        10,
        lambda base: (
            'n=$((2 + RANDOM % 14)); u=; for i in $(seq $n); do u="$u -o /dev/null '
            f'{base}/o$((RANDOM % {OBJECTS})).bin"; done; curl -sk --rate $((3 + RANDOM % 28))/m $u; '
        ),
    )


def downloads(port: int, count: int) -> Starter:
    """Downloads: one object of 0.2 to 16 MB per connection at 0.2 to 3 MB/s (--quick: 100 times less of
    both, so they last as long)."""

    def start(ctx: Context) -> None:
        docroot = ctx.work / "www"
        docroot.mkdir(exist_ok=True)
        draw = random.Random(16)
        for n in range(8):
            size = draw.randint(200_000, 16_000_000) // ctx.scale
            (docroot / f"d{n}.bin").write_bytes(draw.randbytes(size))
        base = https_server(ctx, port)
        rate = f"$(( (200 + RANDOM % 2800) * 1000 / {ctx.scale} ))"
        body = f"curl -sk --limit-rate {rate} -o /dev/null {base}/d$((RANDOM % 8)).bin; "
        workers(ctx, count, body + pause(15))

    return start


def long_polls(port: int, count: int) -> Starter:
    """Long-polls: each connection sends 1 to 4 requests that the server holds 1 to 50 s each."""
    return https_clients(
        port,
        count,
        8,
        lambda base: (
            "u=; for i in $(seq $((1 + RANDOM % 4))); do "
            f'u="$u -o /dev/null {base}/hold/$((1 + RANDOM % 50))"; done; curl -sk --max-time 300 $u; '
        ),
    )


def feeds(port: int, count: int) -> Starter:
    """WebSocket over TLS: each client subscribes to a feed pushed every 1 to 30 s and leaves after 5 to
    150 s (python3-websockets both sides; the client pings every 20 s and acknowledges some pushes)."""

    def start(ctx: Context) -> None:
        cert, key = ctx.tools.cert, ctx.tools.key
        ctx.serve(port, PYTHON, PEERS, "wss", cert, key, "--port", str(port))
        url = f"wss://{ctx.net.server_ip}:{port}/ticker/$((1 + RANDOM % 30))"
        body = f'{PYTHON} {PEERS} wss-client "{url}" --seconds $((5 + RANDOM % 146)); '
        workers(ctx, count, body + pause(10))

    return start


def mqtt_clients(publishers: int, subscribers: int) -> Starter:
    """MQTT over TLS: sensors that connect, publish one reading of 20 to 2,000 bytes and disconnect, and
    dashboards that subscribe for 10 to 120 s (keep-alive 5 to 60 s) to what a local publisher sends every
    2 s."""

    def start(ctx: Context) -> None:
        tls = mosquitto(ctx, publish_every=2)
        reading = "head -c $((15 + RANDOM % 1486)) /dev/urandom | base64 -w0"
        publish = f'mosquitto_pub {tls} -k 30 -i s$RANDOM -t plant/s$w -m "$({reading})"; '
        workers(ctx, publishers, publish + pause(8), log="pub")
        subscribe = (
            f"mosquitto_sub {tls} -k $((5 + RANDOM % 56)) -i d$RANDOM -t 'plant/#' -W $((10 + RANDOM % 111))"
            " > /dev/null; "
        )
        workers(ctx, subscribers, subscribe + pause(10), log="sub")

    return start


def ssh_clients(count: int, command: str) -> Starter:
    """OpenSSH: each connection runs `command` (a listing, a status page), copies a file of 10 KB to 4 MB
    at 200 to 2,000 KB/s with scp, or stays 10 to 90 s printing every 1 to 10 s."""

    def start(ctx: Context) -> None:
        options = sshd(ctx)
        draw = random.Random(17)
        for n in range(6):
            (ctx.work / f"f{n}.bin").write_bytes(draw.randbytes(draw.randint(10_000, 4_000_000) // ctx.scale))
        host = f"root@{ctx.net.server_ip}"
        commands = {
            0: f"ssh {options} {host} '{command}' > /dev/null",
            1: (
                f"scp -q -l $((1600 + RANDOM % 14400)) {options} "
                f"{host}:{ctx.work}/f$((RANDOM % 6)).bin {ctx.work}/copy$w"
            ),
            2: (  # the local shell draws the count and period
                f'ssh {options} {host} "for i in \\$(seq $((1 + RANDOM % 9))); do date; '
                'sleep $((1 + RANDOM % 10)); done" > /dev/null'
            ),
        }
        cases = " ".join(f"{n}) {command};;" for n, command in commands.items())
        workers(ctx, count, f"case $((RANDOM % 3)) in {cases} esac; " + pause(10))

    return start


def idle_waits(count: int, pushes: tuple[float, ...]) -> Starter:
    """IMAP IDLE-like: each client logs in over TLS (openssl s_client), idles 10 to 300 s on one of the
    servers (one per 'Still here' period, ports 993 and up) and leaves (-no_ign_eof: at the end of its
    input; -quiet alone would keep it forever)."""

    def start(ctx: Context) -> None:
        for n, push in enumerate(pushes):
            idle_server(ctx, 993 + n, push)
        body = (
            "(echo 'a1 LOGIN user secret'; sleep 1; echo 'a2 IDLE'; sleep $((10 + RANDOM % 291))) | "
            "openssl s_client -quiet -no_ign_eof "
            f"-connect {ctx.net.server_ip}:$((993 + RANDOM % {len(pushes)})) > /dev/null 2>&1; "
        )
        workers(ctx, count, body + pause(10))

    return start


def _many(
    name: str,
    kind: str,
    quick: bool,
    options: str,
    starter: Starter,
    split: str = "test",
    seconds: float = 900,
) -> Session:
    return Session(name, "benign", kind, options, split, seconds, quick, starter)


MANY = [
    _many(
        "b15",
        "curl-https-visits",
        True,
        "8 visitors, 1-8 objects a connection, pauses 0-5 s, port 443",
        visits(443, 8, 8, 6),
    ),
    _many(
        "b16",
        "curl-https-poll",
        False,
        "4 pollers, 2-15 polls a connection every 2-20 s, port 8443",
        polls(8443, 4),
    ),
    _many(
        "b17",
        "curl-https-download",
        False,
        "2 downloaders, 0.2-16 MB at 0.2-3 MB/s, port 443",
        downloads(443, 2),
    ),
    _many(
        "b18",
        "curl-long-poll",
        False,
        "5 clients, 1-4 requests held 1-50 s a connection, port 443",
        long_polls(443, 5),
    ),
    _many(
        "b19",
        "python-websockets",
        True,
        "5 clients, pushes every 1-30 s, 5-150 s a connection, port 443",
        feeds(443, 5),
    ),
    _many(
        "b20",
        "mosquitto-tls",
        True,
        "4 publish-and-leave sensors, 2 dashboards 10-120 s, keep-alive 5-60 s",
        mqtt_clients(4, 2),
    ),
    _many(
        "b21",
        "openssh",
        True,
        "3 clients: uname/df/ls, scp 10 KB-4 MB, sessions of 10-90 s",
        ssh_clients(3, "uname -a; uptime; df -h; ls -la /etc | head -40"),
    ),
    _many(
        "b22",
        "imap-idle-like",
        False,
        "4 clients idling 10-300 s, Still here every 20, 60 or 120 s, ports 993-995",
        idle_waits(4, (20, 60, 120)),
    ),
    # Train twins: the same shapes with other ports, worker counts, pauses or commands, recorded apart.
    _many(
        "b23",
        "openssh",
        False,
        "2 clients: meminfo/ps, scp 10 KB-4 MB, sessions of 10-90 s",
        ssh_clients(2, "cat /proc/meminfo; ps aux | head -20"),
        "train",
        600,
    ),
    _many(
        "b24",
        "curl-https-visits",
        False,
        "4 visitors, 1-4 objects a connection, pauses 0-9 s, port 8443",
        visits(8443, 4, 4, 10),
        "train",
        600,
    ),
    _many(
        "b25",
        "mosquitto-tls",
        False,
        "2 publish-and-leave sensors, 1 dashboard 10-120 s, keep-alive 5-60 s",
        mqtt_clients(2, 1),
        "train",
        600,
    ),
    _many(
        "b26",
        "python-websockets",
        False,
        "3 clients, pushes every 1-30 s, 5-150 s a connection, port 8443",
        feeds(8443, 3),
        "train",
        600,
    ),
    _many(
        "b27",
        "curl-long-poll",
        False,
        "3 clients, 1-4 requests held 1-50 s a connection, port 8443",
        long_polls(8443, 3),
        "train",
        600,
    ),
    _many(
        "b28",
        "curl-https-download",
        False,
        "1 downloader, 0.2-16 MB at 0.2-3 MB/s, port 9443",
        downloads(9443, 1),
        "train",
        600,
    ),
    _many(
        "b29",
        "curl-https-poll",
        False,
        "3 pollers, 2-15 polls a connection every 2-20 s, port 443",
        polls(443, 3),
        "train",
        600,
    ),
    _many(
        "b30",
        "imap-idle-like",
        False,
        "3 clients idling 10-300 s, Still here every 30 or 90 s, ports 993-994",
        idle_waits(3, (30, 90)),
        "train",
        600,
    ),
]
