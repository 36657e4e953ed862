"""Record the real-traffic benchmark capture: real servers and clients talking across a veth pair.

    python benchmarks/record_real_traffic.py /tmp/real.pcap --seconds 120 [--clients 8] [--seed 1]
    python benchmarks/bench_analyze.py /tmp/real.pcap --repeat 3

Synthetic captures flatter a sensor: their flows are regular, their segments full-sized, their handshakes
ideal. This one is made by real programs, so the kernel's TCP (delayed ACKs, window growth, Ethernet-sized
segments over MTU 1500), OpenSSL's TLS and real DNS messages shape every packet. Needs root (it makes two
network namespaces, `mwb-srv` and `mwb-cli`, joined by a veth pair with addresses 10.77.0.1 and 10.77.0.2
inside them; no other interface is touched and nothing leaves the machine) and the Debian packages curl,
tcpdump, openssl, dnsmasq-base and bind9-dnsutils.

- Server namespace: Python's http.server, HTTP/1.1 keep-alive, on port 80 and, behind TLS with a throw-away
  certificate for `*.bench.test`, on port 443; dnsmasq answers every `*.bench.test` name with 10.77.0.1.
- Client namespace: `--clients` loops, each repeating a "page visit": a DNS lookup of one of 40 host names
  (dig), then one connection (HTTPS for 70% of visits, HTTP otherwise; curl with SNI) that fetches 1 to 15
  objects on keep-alive. Object sizes are a web-like mix (70% 0.5-8 KiB, 25% 8-64 KiB, 5% 64 KiB-1 MiB), from
  a seeded generator, so the same seed gives the same object set (timing, and so packets, vary by run).
- tcpdump records the client's side of the veth for `--seconds`; a CAPTURE.json manifest beside the capture
  says how it was made, and which miners it holds (bench_analyze.py checks the verdicts against them, or
  that nothing is reported).
- `--per-visit N` bounds the objects fetched per connection (shorter flows, as on a busy network), and
  `--merge PCAP` (with `--miner HOST`) merges recordings of real miners in, moved into the capture's time:
  e.g. `--per-visit 4 --merge tests/fixtures/recordings/xmrig-6.16.0-cryptonote.pcapng --miner 127.0.0.1`.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shlex
import shutil
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

from netns import NamespacePair, exclusive, in_ns, run, stop

NET = NamespacePair("mwb-srv", "mwb-cli", "10.77.0.1", "10.77.0.2", "mwb-s", "mwb-c")
SERVER_NS, CLIENT_NS, SERVER_IP = NET.server_ns, NET.client_ns, NET.server_ip
HOSTS = [f"www{n}.bench.test" for n in range(40)]
TOOLS = ("ip", "curl", "tcpdump", "openssl", "dnsmasq", "dig")
MERGE_TOOLS = ("capinfos", "editcap", "mergecap")  # Debian: wireshark-common

SERVER = textwrap.dedent(
    """
    import http.server, ssl, sys, threading
    class Handler(http.server.SimpleHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        def log_message(self, *args): pass
    def serve(port, context=None):
        handler = lambda *a: Handler(*a, directory=sys.argv[1])
        httpd = http.server.ThreadingHTTPServer(("0.0.0.0", port), handler)
        if context: httpd.socket = context.wrap_socket(httpd.socket, server_side=True)
        httpd.serve_forever()
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(sys.argv[2], sys.argv[3])
    threading.Thread(target=serve, args=(80,), daemon=True).start()
    serve(443, context)
    """
)

CLIENT = textwrap.dedent(
    """
    import random, subprocess, sys, time
    seed, seconds, objects, server = int(sys.argv[1]), float(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
    per_visit, hosts = int(sys.argv[5]), sys.argv[6:]
    rng = random.Random(seed)
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        host = rng.choice(hosts)
        subprocess.run(["dig", "+short", "+tries=1", "+time=1", f"@{server}", host], capture_output=True)
        scheme = "https" if rng.random() < 0.7 else "http"
        urls = [f"{scheme}://{host}/o{rng.randrange(objects)}" for _ in range(rng.randint(1, per_visit))]
        resolve = ["--resolve", f"{host}:443:{server}", "--resolve", f"{host}:80:{server}"]
        subprocess.run(["curl", "-sk", "--max-time", "20", *resolve, *urls, "-o", "/dev/null"],
                       capture_output=True)
        time.sleep(rng.random() * 0.2)
    """
)


def make_objects(root: Path, count: int, seed: int) -> int:
    """The web objects: a seeded size mix; returns their total size."""
    rng = random.Random(seed)
    total = 0
    for n in range(count):
        kind = rng.random()
        size = (
            rng.randint(512, 8 << 10)
            if kind < 0.7
            else rng.randint(8 << 10, 64 << 10)
            if kind < 0.95
            else rng.randint(64 << 10, 1 << 20)
        )
        (root / f"o{n}").write_bytes(rng.randbytes(size))
        total += size
    return total


def merge(output: Path, recordings: list[Path]) -> None:
    """Move each recording's packets to start 10 s after the capture's first packet (editcap -t), then
    merge them in by time (mergecap), so that they are analysed amid the traffic, not after it."""
    first = float(run("capinfos", "-a", "-T", "-r", "-S", str(output)).stdout.split()[-1])
    with tempfile.TemporaryDirectory(prefix="mwb-merge-") as temp:
        moved = []
        for n, recording in enumerate(recordings):
            start = float(run("capinfos", "-a", "-T", "-r", "-S", str(recording)).stdout.split()[-1])
            shifted = Path(temp) / f"{n}.pcap"
            run("editcap", "-F", "pcap", "-t", f"{first + 10 - start:.6f}", str(recording), str(shifted))
            moved.append(str(shifted))
        merged = Path(temp) / "merged.pcap"
        run("mergecap", "-F", "pcap", "-w", str(merged), str(output), *moved)
        shutil.move(merged, output)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("output", type=Path, help="pcap file to write")
    parser.add_argument("--seconds", type=float, default=60.0, help="recording time (default 60)")
    parser.add_argument("--clients", type=int, default=8, help="parallel client loops (default 8)")
    parser.add_argument("--objects", type=int, default=400, help="web objects served (default 400)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--per-visit",
        type=int,
        default=15,
        help="most objects fetched on one connection (default 15; fewer makes shorter flows)",
    )
    parser.add_argument(
        "--merge",
        type=Path,
        action="append",
        default=[],
        metavar="PCAP",
        help="merge this recording (a real miner's, say) into the capture, moved to start 10 s after the"
        " capture's first packet (repeatable)",
    )
    parser.add_argument(
        "--miner",
        action="append",
        default=[],
        metavar="HOST",
        help="a mining host of the merged recordings, listed in the manifest for bench_analyze.py to check",
    )
    args = parser.parse_args()
    if os.geteuid() != 0:
        sys.exit("record_real_traffic.py: needs root (network namespaces)")
    tools = TOOLS + (MERGE_TOOLS if args.merge else ())
    if missing := [tool for tool in tools if shutil.which(tool) is None]:
        sys.exit(f"record_real_traffic.py: missing {', '.join(missing)} (apt-get install -y curl tcpdump "
                 "openssl dnsmasq-base bind9-dnsutils wireshark-common)")  # fmt: skip
    processes: list[subprocess.Popen] = []
    with exclusive("mwb"), tempfile.TemporaryDirectory(prefix="mwb-") as temp:
        work = Path(temp)
        docroot = work / "www"
        docroot.mkdir()
        served = make_objects(docroot, args.objects, args.seed)
        (work / "server.py").write_text(SERVER)
        (work / "client.py").write_text(CLIENT)
        key, cert = str(work / "key.pem"), str(work / "cert.pem")
        run(*shlex.split(f"openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=bench.test -addext "
                         f"subjectAltName=DNS:*.bench.test -keyout {key} -out {cert}"))  # fmt: skip
        dnsmasq = shlex.split("dnsmasq --no-daemon --no-resolv --no-hosts --bind-interfaces --log-facility=-")
        dnsmasq += [f"--listen-address={SERVER_IP}", f"--address=/bench.test/{SERVER_IP}"]
        tcpdump = [*shlex.split("tcpdump -i mwb-c -s 0 -B 65536 -q -w"), str(args.output)]
        NET.setup()
        try:
            server = [sys.executable, str(work / "server.py"), str(docroot), cert, key]
            processes.append(subprocess.Popen(in_ns(SERVER_NS, *server)))
            processes.append(subprocess.Popen(in_ns(SERVER_NS, *dnsmasq), stderr=subprocess.DEVNULL))
            capture = subprocess.Popen(in_ns(CLIENT_NS, *tcpdump), stderr=subprocess.PIPE)
            processes.append(capture)
            time.sleep(2)  # servers listening, tcpdump capturing
            loop = [sys.executable, str(work / "client.py")]
            common = [str(args.seconds), str(args.objects), SERVER_IP, str(args.per_visit), *HOSTS]
            clients = [
                subprocess.Popen(in_ns(CLIENT_NS, *loop, str(args.seed * 1000 + n), *common))
                for n in range(args.clients)
            ]
            processes += clients
            for client in clients:
                client.wait(timeout=args.seconds + 60)
            time.sleep(1)
        finally:
            stop(processes)
            NET.teardown()
    report = capture.stderr.read().decode(errors="replace") if capture.stderr else ""
    if args.merge:
        merge(args.output, args.merge)
    manifest = {
        "made_by": "benchmarks/record_real_traffic.py",
        "seconds": args.seconds,
        "clients": args.clients,
        "objects": args.objects,
        "object_bytes": served,
        "seed": args.seed,
        "per_visit": args.per_visit,
        "merged": [str(path) for path in args.merge],
        "miners": args.miner,
        "tcpdump": report.strip().splitlines()[-3:],
    }
    Path(str(args.output) + ".json").write_text(json.dumps(manifest, indent=1) + "\n")
    print(f"{args.output}: {' '.join(manifest['tcpdump'])}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
