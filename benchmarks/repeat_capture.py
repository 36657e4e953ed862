"""A recorded capture repeated: copies one after another in time, each between its own pair of addresses,
so that a few real sessions become thousands (e.g. SSH brute force: tests/fixtures/recordings).

    python benchmarks/repeat_capture.py tests/fixtures/recordings/ssh-hydra-9.4.pcapng /tmp/hydra-x200.pcap \
        --copies 200 --server-port 22

IPv4 over Ethernet (what the recordings hold); in copy i the endpoint on --server-port gets 10.1.H.L and
the other side 10.2.H.L (i + 1 = H * 256 + L), checksums recomputed; other packets keep their addresses.
Needs dpkt (the test extra).
"""

from __future__ import annotations

import argparse
import socket
from pathlib import Path

import dpkt


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("recording", type=Path)
    parser.add_argument("out", type=Path)
    parser.add_argument("--copies", type=int, default=100)
    parser.add_argument("--server-port", type=int, default=22)
    args = parser.parse_args()
    with args.recording.open("rb") as f:
        frames = [(ts, buf) for ts, buf in dpkt.pcap.UniversalReader(f)]
    start, span = frames[0][0], frames[-1][0] - frames[0][0] + 1.0
    with args.out.open("wb") as out:
        writer = dpkt.pcap.Writer(out)
        for i in range(args.copies):
            server = socket.inet_aton(f"10.1.{(i + 1) >> 8 & 255}.{(i + 1) & 255}")
            client = socket.inet_aton(f"10.2.{(i + 1) >> 8 & 255}.{(i + 1) & 255}")
            for ts, buf in frames:
                eth = dpkt.ethernet.Ethernet(buf)
                ip, l4 = eth.data, getattr(eth.data, "data", None)
                if isinstance(ip, dpkt.ip.IP) and isinstance(l4, dpkt.tcp.TCP | dpkt.udp.UDP):
                    to_server = l4.dport == args.server_port
                    ip.src, ip.dst = (client, server) if to_server else (server, client)
                    ip.sum = l4.sum = 0  # recomputed when packed
                writer.writepkt(bytes(eth), ts=ts - start + i * span)
    print(f"{args.out}: {args.copies} copies of {len(frames)} frames")


if __name__ == "__main__":
    main()
