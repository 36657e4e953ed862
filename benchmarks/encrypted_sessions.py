"""What record_encrypted.py records: each session is one real program (or pair of programs) with one option
set, run between two network namespaces, and the label every connection of it gets.

Labels come from what ran, never from minerwatch: `tls_mining` (XMRig 6.16 `--tls` against
tests/fixtures/pool_emulator.py, directly or behind stunnel/socat), `chia` (chia-blockchain services peering
with each other), `benign` (HTTPS, WebSocket, MQTT, SSH, IMAP-IDLE-like and long-poll clients and servers).
The split is by session: the test sessions hold option sets (ports, fronts, cadences, algorithms, push
periods) that no train session has, so a model is judged on sessions it never saw.
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from netns import NamespacePair, in_ns, run

# The Monero project's public general-fund address (valid checksum): no one's miner.
WALLET = "44AFFq5kSiGBoZ4NMDwYtN18obc8AemS33DBLWs3H7otXft3XjrpDtQGv7SqSsaBYBb98uNbr2VBBEt7f2wfn3RVGQBEP3A"
POOL_HOST = "pool.test"
BROWSER_AGENT = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/96.0"
HERE = Path(__file__).resolve().parent
POOL_EMULATOR = HERE.parent / "tests" / "fixtures" / "pool_emulator.py"
PEERS = HERE / "benign_peers.py"
CHIA_PEERING = HERE / "chia_peering.py"
PYTHON = "/usr/bin/python3"  # Debian's, with python3-websockets


@dataclass(frozen=True)
class Tools:
    """What every session may use: the programs found by the recorder and one throw-away certificate."""

    xmrig: Path
    cert: Path
    key: Path
    chia_bin: Path  # the bin/ of chia-blockchain's own virtual environment
    chia_simulator: Path  # a prepared simulator: root/ and keys/ (chia_peering.py simulator)


@dataclass
class Context:
    """One running session: its namespaces, scratch folder and the processes (and command lines) started."""

    net: NamespacePair
    work: Path
    tools: Tools
    seconds: float
    quick: bool
    processes: list[subprocess.Popen] = field(default_factory=list)
    commands: list[str] = field(default_factory=list)

    def start(self, namespace: str, *command: str | Path, log: str, env: dict | None = None) -> None:
        argv = [str(part) for part in command]
        self.commands.append(
            f"[{'server' if namespace == self.net.server_ns else 'client'}] {shlex.join(argv)}"
        )
        with open(self.work / f"{log}.log", "ab") as out:
            self.processes.append(
                subprocess.Popen(
                    in_ns(namespace, *argv),
                    stdout=out,
                    stderr=subprocess.STDOUT,
                    env=env,
                    start_new_session=True,
                )
            )

    def server(self, *command: str | Path, log: str = "server", env: dict | None = None) -> None:
        self.start(self.net.server_ns, *command, log=log, env=env)

    def client(self, *command: str | Path, log: str = "client", env: dict | None = None) -> None:
        self.start(self.net.client_ns, *command, log=log, env=env)

    @property
    def scale(self) -> int:
        """How many times --quick cuts the volume of bulk transfers (their rate too, so they last as long)."""
        return QUICK_SCALE if self.quick else 1

    def serve(self, port: int, *command: str | Path, log: str = "server", env: dict | None = None) -> None:
        """Start a server and wait until it listens on `port`."""
        self.server(*command, log=log, env=env)
        self.listening(self.net.server_ns, port)

    def listening(self, namespace: str, port: int, timeout: float = 400.0) -> None:
        """Wait until something listens on `port` in `namespace` (servers start slowly on a busy machine)."""
        deadline = time.monotonic() + timeout
        while not run(*in_ns(namespace, "ss", "-Hltn", f"sport = :{port}"), check=False).stdout.strip():
            if time.monotonic() > deadline:
                raise RuntimeError(f"nothing listens on port {port} in {namespace} after {timeout:.0f} s")
            time.sleep(0.5)

    def script(self, name: str, text: str) -> Path:
        path = self.work / name
        path.write_text(text)
        return path


Starter = Callable[[Context], None]


@dataclass(frozen=True)
class Session:
    name: str
    label: str  # tls_mining | chia | benign
    kind: str  # the program family
    options: str  # the option set, as a reader would say it
    split: str  # train | test
    seconds: float  # default run; --quick runs the sessions marked quick for QUICK_SECONDS
    quick: bool
    start: Starter
    hosts: tuple[str, ...] = ()  # names the client resolves to the server (its /etc/hosts)


QUICK_SECONDS = 150.0
QUICK_SCALE = 100


# --- tls_mining: XMRig 6.16 --tls against the pool emulator ----------------------------------------------


def xmrig(
    port: int,
    algo: str = "rx/0",
    cadence: float = 120,
    difficulty: int = 5000,
    front: str = "direct",
    flags: tuple[str, ...] = (),
    drop_after: float = 0,
    host: str | None = None,
) -> Starter:
    """The pool emulator (TLS itself, or plain behind stunnel/socat terminating TLS) and one nice'd
    single-thread XMRig; `drop_after` makes the pool hang up so that XMRig reconnects (after 5 s)."""

    def start(ctx: Context) -> None:
        tools, pool_seconds = ctx.tools, ctx.seconds + 30
        pool = [
            PYTHON,
            POOL_EMULATOR,
            "--seconds",
            str(pool_seconds),
            "--job-interval",
            str(cadence),
            "--difficulty",
            str(difficulty),
            "--algo",
            algo,
            "--drop-after",
            str(drop_after),
        ]
        if front == "direct":
            ctx.serve(
                port,
                *pool,
                "--host",
                "0.0.0.0",
                "--port",
                str(port),
                "--tls",
                tools.cert,
                tools.key,
                log="pool",
            )
        else:
            ctx.serve(3333, *pool, "--port", "3333", log="pool")
            if front == "stunnel":
                conf = ctx.script(
                    "stunnel.conf",
                    f"foreground = yes\npid =\n[pool]\naccept = 0.0.0.0:{port}\n"
                    f"connect = 127.0.0.1:3333\ncert = {tools.cert}\nkey = {tools.key}\n",
                )
                ctx.serve(port, "stunnel4", conf, log="front")
            else:
                listen = f"OPENSSL-LISTEN:{port},reuseaddr,fork,cert={tools.cert},key={tools.key},verify=0"
                ctx.serve(port, "socat", listen, "TCP:127.0.0.1:3333", log="front")
        target = f"{host or ctx.net.server_ip}:{port}"
        ctx.client(
            "nice",
            "-n",
            "19",
            tools.xmrig,
            "-o",
            target,
            "--tls",
            "-u",
            WALLET,
            "-p",
            "rig1",
            "--threads",
            "1",
            "--no-color",
            "--donate-level",
            "1",
            "--randomx-mode",
            "light",
            "--cpu-priority",
            "0",
            "--retry-pause",
            "5",
            "--log-file",
            ctx.work / "xmrig.log",
            *flags,
            log="xmrig-stdout",
        )

    return start


def _mining(
    name: str,
    split: str,
    quick: bool,
    options: str,
    starter: Starter,
    host: bool = False,
    seconds: float = 480,
) -> Session:
    hosts = (POOL_HOST,) if host else ()
    return Session(name, "tls_mining", "xmrig-6.16.0", options, split, seconds, quick, starter, hosts)


MINING = [
    _mining(
        "m01",
        "train",
        False,
        "rx/0 keepalive port 443 jobs 120 s diff 5000",
        xmrig(443, cadence=120, difficulty=5000, flags=("--keepalive",)),
    ),
    _mining(
        "m02",
        "train",
        False,
        "rx/0 nicehash port 5555 jobs 60 s diff 1000",
        xmrig(5555, cadence=60, difficulty=1000, flags=("--nicehash",)),
    ),
    _mining(
        "m03",
        "train",
        True,
        "cn-pico port 9000 jobs 30 s diff 20000",
        xmrig(9000, algo="cn-pico", cadence=30, difficulty=20000),
    ),
    _mining(
        "m04",
        "train",
        True,
        "rx/0 keepalive socat port 20128 jobs 10 s diff 100000",
        xmrig(20128, cadence=10, difficulty=100000, front="socat", flags=("--keepalive",)),
    ),
    _mining(
        "m05",
        "train",
        False,
        "rx/0 stunnel port 443 jobs 90 s diff 200",
        xmrig(443, cadence=90, difficulty=200, front="stunnel"),
    ),
    _mining(
        "m06",
        "train",
        True,
        "rx/0 reconnects every 60 s port 5555 jobs 45 s diff 2000",
        xmrig(5555, cadence=45, difficulty=2000, drop_after=60),
    ),
    _mining(
        "m07",
        "test",
        False,
        "rx/0 spoofed agent stunnel port 20128 jobs 120 s diff 50000",
        xmrig(20128, cadence=120, difficulty=50000, front="stunnel", flags=("--user-agent", BROWSER_AGENT)),
    ),
    _mining(
        "m08",
        "test",
        True,
        "cn-pico nicehash socat port 9000 jobs 20 s diff 500",
        xmrig(9000, algo="cn-pico", cadence=20, difficulty=500, front="socat", flags=("--nicehash",)),
    ),
    _mining(
        "m09",
        "test",
        False,
        "argon2/chukwav2 keepalive host name port 443 jobs 100 s diff 10000",
        xmrig(
            443, algo="argon2/chukwav2", cadence=100, difficulty=10000, flags=("--keepalive",), host=POOL_HOST
        ),
        host=True,
    ),
    _mining(
        "m10",
        "test",
        True,
        "rx/0 spoofed agent reconnects every 50 s port 443 jobs 15 s diff 300",
        xmrig(443, cadence=15, difficulty=300, drop_after=50, flags=("--user-agent", BROWSER_AGENT)),
    ),
    _mining(
        "m11",
        "test",
        False,
        "rx/0 stunnel port 443 jobs 120 s diff 10000 reconnects every 150 s",
        xmrig(443, cadence=120, difficulty=10000, front="stunnel", drop_after=150),
        seconds=900,
    ),
    _mining(
        "m12",
        "test",
        True,
        "cn-pico keepalive socat port 3334 jobs 60 s diff 3000 reconnects every 90 s",
        xmrig(
            3334,
            algo="cn-pico",
            cadence=60,
            difficulty=3000,
            front="socat",
            flags=("--keepalive",),
            drop_after=90,
        ),
        seconds=900,
    ),
    _mining(
        "m13",
        "test",
        False,
        "argon2/chukwav2 port 5555 jobs 30 s diff 800 reconnects every 40 s",
        xmrig(5555, algo="argon2/chukwav2", cadence=30, difficulty=800, drop_after=40),
        seconds=900,
    ),
    _mining(
        "m14",
        "test",
        False,
        "rx/0 nicehash host name port 9000 jobs 90 s diff 60000 reconnects every 120 s",
        xmrig(9000, cadence=90, difficulty=60000, flags=("--nicehash",), drop_after=120, host=POOL_HOST),
        host=True,
        seconds=900,
    ),
    _mining(
        "m15",
        "test",
        False,
        "cn-pico spoofed agent port 20128 jobs 10 s diff 200 reconnects every 30 s",
        xmrig(
            20128,
            algo="cn-pico",
            cadence=10,
            difficulty=200,
            drop_after=30,
            flags=("--user-agent", BROWSER_AGENT),
        ),
        seconds=900,
    ),
    _mining(
        "m16",
        "test",
        False,
        "rx/0 keepalive port 443 jobs 120 s diff 100000",
        xmrig(443, cadence=120, difficulty=100000, flags=("--keepalive",)),
        seconds=900,
    ),
    _mining(
        "m17",
        "train",
        False,
        "rx/0 port 5555 jobs 60 s diff 5000 reconnects every 100 s",
        xmrig(5555, cadence=60, difficulty=5000, drop_after=100),
        seconds=600,
    ),
    _mining(
        "m18",
        "train",
        False,
        "cn-pico stunnel port 443 jobs 20 s diff 1000 reconnects every 60 s",
        xmrig(443, algo="cn-pico", cadence=20, difficulty=1000, front="stunnel", drop_after=60),
        seconds=600,
    ),
    _mining(
        "m19",
        "train",
        False,
        "argon2/chukwav2 socat port 9000 jobs 120 s diff 20000 reconnects every 180 s",
        xmrig(9000, algo="argon2/chukwav2", cadence=120, difficulty=20000, front="socat", drop_after=180),
        seconds=600,
    ),
]


# --- chia: chia-blockchain services peering with each other ---------------------------------------------


Churn = tuple[float, float] | None


def churn(ctx: Context, root: Path, every: Churn) -> None:
    """With `every` (least, most seconds): the client's node drops its peer and dials it again that often,
    through its RPC (chia_peering.py churn), so that a session holds many peer connections."""
    if every:
        chia_python = ctx.tools.chia_bin / "python"
        span = [str(every[0]), str(every[1])]
        ctx.client(
            chia_python,
            CHIA_PEERING,
            "churn",
            root,
            "--peer",
            ctx.net.server_ip,
            "--every",
            *span,
            log="churn",
        )


def chia(farm: bool, every: Churn = None) -> Starter:
    """A full node in each namespace, each the other's only peer (WebSocket over TLS on 8444); with `farm`,
    a farmer beside the server's node and a harvester beside the client's, dialling it on 8447 (the
    client's root shares the server's private CA, as `chia init -c` sets up a remote harvester); `every`:
    churn()."""

    def start(ctx: Context) -> None:
        chia_bin, net = ctx.tools.chia_bin, ctx.net
        env = {}
        for side, peer in (("server", net.client_ip), ("client", net.server_ip)):
            root = ctx.work / f"chia-{side}"
            env[side] = dict(os.environ, CHIA_ROOT=str(root))
            ca = ["-c", str(ctx.work / "chia-server" / "config" / "ssl" / "ca")] if side == "client" else []
            subprocess.run([chia_bin / "chia", "init", *ca], env=env[side], check=True, capture_output=True)
            farmer = ["--farmer-peer", net.server_ip] if side == "client" else []
            peering = [chia_bin / "python", CHIA_PEERING, "peer", root, "--full-node-peer", peer, *farmer]
            subprocess.run(peering, check=True)
        ctx.serve(55400, "nice", chia_bin / "chia_daemon", env=env["server"], log="daemon")  # as `chia start`
        ctx.client("nice", chia_bin / "chia_daemon", env=env["client"], log="daemon")
        ctx.listening(net.client_ns, 55400)
        if farm:  # the farmer first, so that the harvester finds it listening
            ctx.serve(8447, "nice", chia_bin / "chia_farmer", env=env["server"], log="farmer")
        ctx.serve(8444, "nice", chia_bin / "chia_full_node", env=env["server"], log="node")
        ctx.client("nice", chia_bin / "chia_full_node", env=env["client"], log="node")
        ctx.listening(net.client_ns, 8444)
        if farm:
            ctx.client("nice", chia_bin / "chia_harvester", env=env["client"], log="harvester")
        churn(ctx, ctx.work / "chia-client", every)

    return start


def chia_simulator(least: int, most: int, every: Churn = None) -> Starter:
    """chia's full node simulator on its private network (simulator0), farming a block every `least` to
    `most` seconds (mainnet: 18.75 s on average) through its RPC, and a plain full node that peers with it
    and follows: new peaks, block requests and blocks between two real nodes, which the chainless mainnet
    nodes of chia() lack. The simulator's key and plots are made once (chia_peering.py simulator)."""

    def start(ctx: Context) -> None:
        chia_bin, net, template = ctx.tools.chia_bin, ctx.net, ctx.tools.chia_simulator
        server_root, client_root = ctx.work / "sim" / "main", ctx.work / "chia-client"
        shutil.copytree(template / "root", server_root)  # its plots too (32 MB): it reads them below itself
        server_env = dict(os.environ, CHIA_ROOT=str(server_root), CHIA_KEYS_ROOT=str(template / "keys"))
        client_env = dict(os.environ, CHIA_ROOT=str(client_root))
        subprocess.run([chia_bin / "chia", "init"], env=client_env, check=True, capture_output=True)
        peering = [chia_bin / "python", CHIA_PEERING, "peer"]
        plots = ["--simulator-plots", str(server_root / "plots")]
        subprocess.run([*peering, server_root, "--full-node-peer", net.client_ip, *plots], check=True)
        follow = ["--full-node-peer", net.server_ip, "--network-of", server_root]
        subprocess.run([*peering, client_root, *follow], check=True)
        ctx.serve(55400, "nice", chia_bin / "chia_daemon", env=server_env, log="daemon")  # its keychain
        ctx.serve(8444, "nice", chia_bin / "chia_full_node_simulator", env=server_env, log="simulator")
        ctx.client("nice", chia_bin / "chia_full_node", env=client_env, log="node")
        ctx.listening(net.client_ns, 8444)
        farm = f"{chia_bin / 'chia'} dev sim --root-path {server_root.parent} -n main farm"
        pause = f"$(({least} + RANDOM % {most - least + 1}))"
        ctx.server("bash", "-c", f"while true; do {farm}; sleep {pause}; done", env=server_env, log="farm")
        churn(ctx, client_root, every)

    return start


CHIA = [
    Session(
        "c01",
        "chia",
        "chia-blockchain-2.7.5",
        "two mainnet full nodes peering on 8444",
        "train",
        600,
        True,
        chia(farm=False),
    ),
    Session(
        "c02",
        "chia",
        "chia-blockchain-2.7.5",
        "full nodes on 8444, farmer and harvester on 8447",
        "test",
        600,
        True,
        chia(farm=True),
    ),
    Session(
        "c03",
        "chia",
        "chia-simulator-2.7.5",
        "simulator farming a block every 10-28 s, a full node following on 8444",
        "train",
        600,
        True,
        chia_simulator(10, 28),
    ),
    Session(
        "c04",
        "chia",
        "chia-simulator-2.7.5",
        "simulator farming a block every 15-45 s, a full node following on 8444",
        "test",
        600,
        True,
        chia_simulator(15, 45),
    ),
    Session(
        "c05",
        "chia",
        "chia-blockchain-2.7.5",
        "two mainnet full nodes on 8444, the client dropping and re-dialling its peer every 15-60 s",
        "test",
        900,
        True,
        chia(farm=False, every=(15, 60)),
    ),
    Session(
        "c06",
        "chia",
        "chia-simulator-2.7.5",
        "simulator farming a block every 5-40 s, the following node dropping and re-dialling every 20-90 s",
        "test",
        900,
        False,
        chia_simulator(5, 40, every=(20, 90)),
    ),
    Session(
        "c07",
        "chia",
        "chia-blockchain-2.7.5",
        "full nodes, farmer and harvester on 8447, the client node re-dialling every 30-120 s",
        "test",
        900,
        False,
        chia(farm=True, every=(30, 120)),
    ),
    Session(
        "c08",
        "chia",
        "chia-simulator-2.7.5",
        "simulator farming a block every 20-60 s, the following node dropping and re-dialling every 10-40 s",
        "test",
        900,
        False,
        chia_simulator(20, 60, every=(10, 40)),
    ),
    Session(
        "c09",
        "chia",
        "chia-blockchain-2.7.5",
        "two mainnet full nodes on 8444, the client dropping and re-dialling its peer every 20-80 s",
        "train",
        600,
        False,
        chia(farm=False, every=(20, 80)),
    ),
    Session(
        "c10",
        "chia",
        "chia-simulator-2.7.5",
        "simulator farming a block every 10-30 s, the following node dropping and re-dialling every 15-50 s",
        "train",
        600,
        False,
        chia_simulator(10, 30, every=(15, 50)),
    ),
]


# --- benign: encrypted traffic of the same shapes ---------------------------------------------------------


def _objects(ctx: Context, sizes: dict[str, int]) -> Path:
    docroot = ctx.work / "www"
    docroot.mkdir(exist_ok=True)
    for name, size in sizes.items():
        (docroot / name).write_bytes(bytes(size) if size < 4096 else _random_bytes(size))
    return docroot


def _random_bytes(size: int) -> bytes:
    import random

    return random.Random(size).randbytes(size)


def https_poll(port: int, per_minute: int) -> Starter:
    """curl polling one small JSON object `per_minute` times a minute on one keep-alive connection."""

    def start(ctx: Context) -> None:
        docroot = _objects(ctx, {"status.json": 600})
        ctx.serve(port, PYTHON, PEERS, "https", docroot, ctx.tools.cert, ctx.tools.key, "--port", str(port))
        count = int(ctx.seconds * per_minute / 60) + 1
        urls = [f"https://{ctx.net.server_ip}:{port}/status.json"] * count
        ctx.client("sh", "-c", f"exec curl -sk --rate {per_minute}/m -o /dev/null {' '.join(urls)}")

    return start


def https_download(port: int, sizes: tuple[int, ...], rate: int) -> Starter:
    """curl fetching a few large objects on keep-alive at `rate` bytes/s (a download, an update); --quick
    cuts sizes and rate alike, so that the download lasts as long."""

    def start(ctx: Context) -> None:
        docroot = _objects(ctx, {f"file{n}.bin": size // ctx.scale for n, size in enumerate(sizes)})
        ctx.serve(port, PYTHON, PEERS, "https", docroot, ctx.tools.cert, ctx.tools.key, "--port", str(port))
        urls = [f"-o /dev/null https://{ctx.net.server_ip}:{port}/file{n}.bin" for n in range(len(sizes))]
        ctx.client("sh", "-c", f"exec curl -sk --limit-rate {rate // ctx.scale} {' '.join(urls)}")

    return start


def long_poll(port: int, hold: int) -> Starter:
    """curl long-polling: each request held `hold` seconds by the server, the next sent on the same
    keep-alive connection as soon as the answer comes."""

    def start(ctx: Context) -> None:
        docroot = _objects(ctx, {"index.html": 300})
        ctx.serve(port, PYTHON, PEERS, "https", docroot, ctx.tools.cert, ctx.tools.key, "--port", str(port))
        urls = [f"https://{ctx.net.server_ip}:{port}/hold/{hold}"] * (int(ctx.seconds / hold) + 1)
        ctx.client("sh", "-c", f"exec curl -sk --max-time {hold + 30} -o /dev/null {' '.join(urls)}")

    return start


def websocket(port: int, push: float) -> Starter:
    """A WebSocket-over-TLS server pushing a ticker every `push` seconds; the client pings every 20 s."""

    def start(ctx: Context) -> None:
        ctx.serve(
            port,
            PYTHON,
            PEERS,
            "wss",
            ctx.tools.cert,
            ctx.tools.key,
            "--port",
            str(port),
            "--push",
            str(push),
        )
        url = f"wss://{ctx.net.server_ip}:{port}/ticker"
        ctx.client(PYTHON, PEERS, "wss-client", url, "--seconds", str(ctx.seconds))

    return start


def mosquitto(ctx: Context, publish_every: float) -> str:
    """Mosquitto with a TLS listener on 8883 and a local publisher sending a reading every `publish_every`
    s; returns the client options that reach it over TLS."""
    conf = ctx.script(
        "mosquitto.conf",
        "per_listener_settings false\nallow_anonymous true\nuser root\n"
        "persistence false\nlistener 1883 127.0.0.1\nlistener 8883 0.0.0.0\n"
        f"certfile {ctx.tools.cert}\nkeyfile {ctx.tools.key}\n",
    )
    ctx.serve(8883, "mosquitto", "-c", conf, log="mosquitto")
    ctx.server(
        "sh",
        "-c",
        f"sleep 3; while true; do mosquitto_pub -p 1883 -t plant/line1 -m "
        f'"{{\\"t\\": $(date +%s), \\"rpm\\": 1450}}"; sleep {publish_every}; done',
        log="publisher",
    )
    return f"-h {ctx.net.server_ip} -p 8883 --cafile {ctx.tools.cert} --insecure"


def mqtt(keepalive: int, server_publish: float, client_publish: float) -> Starter:
    """A subscriber (keep-alive `keepalive` s) gets what a local publisher sends every `server_publish` s;
    a sensor publishes over TLS every `client_publish` s."""

    def start(ctx: Context) -> None:
        tls = f"{mosquitto(ctx, server_publish)} -k {keepalive}"
        ctx.client("sh", "-c", f"exec mosquitto_sub {tls} -i dash1 -t 'plant/#'", log="sub")
        ctx.client(
            "sh",
            "-c",
            f'while true; do echo "{{\\"temp\\": 21.5}}"; sleep {client_publish}; '
            f"done | mosquitto_pub {tls} -i sensor7 -t plant/sensor7 -l",
            log="pub",
        )

    return start


def sshd(ctx: Context) -> str:
    """OpenSSH's server on 22, root logging in with a key made for the run; returns the client's options."""
    key = ctx.work / "id_ed25519"
    hostkey = ctx.work / "host_ed25519"
    for path in (key, hostkey):
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(path)], check=True)
    (ctx.work / "authorized_keys").write_text(key.with_suffix(".pub").read_text())
    Path("/run/sshd").mkdir(exist_ok=True)  # OpenSSH's privilege-separation directory
    ctx.serve(
        22,
        "/usr/sbin/sshd",
        "-D",
        "-e",
        "-f",
        "/dev/null",
        "-h",
        hostkey,
        "-o",
        "ListenAddress=0.0.0.0",
        "-o",
        f"AuthorizedKeysFile={ctx.work}/authorized_keys",
        "-o",
        "PermitRootLogin=prohibit-password",
        "-o",
        "StrictModes=no",
        "-o",
        "PidFile=none",
        "-o",
        "Subsystem=sftp internal-sftp",
    )
    return f"-i {key} -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o BatchMode=yes"


def ssh(remote: str, alive: int, download: int = 0) -> Starter:
    """One OpenSSH session running `remote` (ServerAliveInterval `alive`), and an scp of `download`
    bytes when asked."""

    def start(ctx: Context) -> None:
        options = sshd(ctx)
        ctx.client(
            "sh",
            "-c",
            f"exec ssh {options} -o ServerAliveInterval={alive} root@{ctx.net.server_ip} '{remote}'",
        )
        if download:
            (ctx.work / "backup.tar").write_bytes(_random_bytes(download // ctx.scale))
            ctx.client(
                "sh",
                "-c",
                f"sleep 20; exec scp -l {4000 // ctx.scale} {options} root@{ctx.net.server_ip}:"
                f"{ctx.work}/backup.tar {ctx.work}/copy.tar",
                log="scp",
            )

    return start


def idle_server(ctx: Context, port: int, push: float) -> None:
    """benign_peers.py's IMAP IDLE-like TLS server on `port`, saying it is still here every `push` s."""
    cert, key = ctx.tools.cert, ctx.tools.key
    ctx.serve(port, PYTHON, PEERS, "idle", cert, key, "--port", str(port), "--push", str(push))


def imap_idle(port: int, push: float) -> Starter:
    """An IMAP IDLE-like TLS connection: openssl s_client logs in, enters IDLE and waits; the server says
    '* OK Still here' every `push` seconds (Dovecot's default: 120 s)."""

    def start(ctx: Context) -> None:
        idle_server(ctx, port, push)
        ctx.client(
            "sh",
            "-c",
            f"(echo 'a1 LOGIN user secret'; sleep 1; echo 'a2 IDLE'; "
            f"sleep {ctx.seconds + 30}) | openssl s_client -quiet -connect {ctx.net.server_ip}:{port}",
        )

    return start


def _benign(name: str, kind: str, split: str, quick: bool, options: str, starter: Starter) -> Session:
    return Session(name, "benign", kind, options, split, 300, quick, starter)


BENIGN = [
    _benign("b01", "curl-https-poll", "train", True, "poll every 15 s, port 443", https_poll(443, 4)),
    _benign("b02", "curl-https-poll", "test", False, "poll every 60 s, port 8443", https_poll(8443, 1)),
    _benign(
        "b03",
        "curl-https-download",
        "train",
        True,
        "4 files 2-8 MB at 300 KB/s, port 443",
        https_download(443, (2 << 20, 8 << 20, 3 << 20, 4 << 20), 300_000),
    ),
    _benign(
        "b04",
        "curl-https-download",
        "test",
        True,
        "2 files 10 MB at 1 MB/s, port 9443",
        https_download(9443, (10 << 20, 10 << 20), 1_000_000),
    ),
    _benign("b05", "python-websockets", "train", True, "pushes every 5 s, port 443", websocket(443, 5)),
    _benign("b06", "python-websockets", "test", True, "pushes every 30 s, port 8443", websocket(8443, 30)),
    _benign(
        "b07",
        "mosquitto-tls",
        "train",
        True,
        "keep-alive 60 s, publishes every 10 s and 30 s",
        mqtt(60, 10, 30),
    ),
    _benign(
        "b08",
        "mosquitto-tls",
        "test",
        False,
        "keep-alive 30 s, publishes every 120 s and 45 s",
        mqtt(30, 120, 45),
    ),
    _benign(
        "b09",
        "openssh",
        "train",
        True,
        "remote loop printing every 5 s, alive 30 s",
        ssh("while sleep 5; do date; uptime; done", 30),
    ),
    _benign(
        "b10",
        "openssh",
        "test",
        True,
        "idle session alive 60 s and an scp of 6 MB",
        ssh("sleep 100000", 60, download=6 << 20),
    ),
    _benign("b11", "imap-idle-like", "train", True, "Still here every 120 s, port 993", imap_idle(993, 120)),
    _benign("b12", "imap-idle-like", "test", False, "Still here every 60 s, port 443", imap_idle(443, 60)),
    _benign("b13", "curl-long-poll", "train", True, "held 25 s, port 443", long_poll(443, 25)),
    _benign("b14", "curl-long-poll", "test", True, "held 55 s, port 8443", long_poll(8443, 55)),
]

SESSIONS: list[Session] = MINING + CHIA + BENIGN
