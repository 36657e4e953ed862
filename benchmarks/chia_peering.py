"""Point a chia-blockchain root at peers in network namespaces, with every way out closed (issue 15 data).

    CHIA_ROOT=ROOT chia init
    chia-venv/bin/python benchmarks/chia_peering.py ROOT --full-node-peer 10.79.N.2 [--farmer-peer IP]

Run with chia-blockchain's own interpreter (it imports chia's config module). The full node dials the given
peer on 8444 and nothing else: the introducer is an unused port of its own loopback (refused at once, and
never on the recorded link), no DNS seeders, UPnP off; a harvester given --farmer-peer dials that farmer on
8447.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from chia.util.config import lock_and_load_config, save_config


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("root", type=Path)
    parser.add_argument("--full-node-peer", required=True, help="the other full node's address")
    parser.add_argument("--farmer-peer", help="the farmer a harvester dials")
    args = parser.parse_args()
    with lock_and_load_config(args.root, "config.yaml") as config:
        node = config["full_node"]
        node["full_node_peers"] = [{"host": args.full_node_peer, "port": 8444}]
        node["introducer_peer"] = {"host": "127.0.0.1", "port": 8445, "enable_private_networks": True}
        node["dns_servers"] = []
        node["enable_upnp"] = False
        node["target_outbound_peer_count"] = 1
        config["farmer"]["full_node_peers"] = [{"host": "127.0.0.1", "port": 8444}]
        if args.farmer_peer:
            config["harvester"]["farmer_peers"] = [{"host": args.farmer_peer, "port": 8447}]
        for section in (config, node, config["farmer"], config["harvester"]):
            section["logging"]["log_level"] = "INFO"  # peer connections and messages in debug.log
        config["self_hostname"] = "127.0.0.1"
        save_config(args.root, "config.yaml", config)


if __name__ == "__main__":
    main()
