"""Set up chia-blockchain roots for recording peer traffic in network namespaces (issue 15 data).

    CHIA_ROOT=ROOT chia init
    chia-venv/bin/python benchmarks/chia_peering.py peer ROOT --full-node-peer 10.79.N.2 [--farmer-peer IP]
        [--network-of SIMROOT]
    CHIA_KEYS_ROOT=SIMROOT/keys chia-venv/bin/python benchmarks/chia_peering.py simulator SIMROOT
    chia-venv/bin/python benchmarks/chia_peering.py churn ROOT --peer 10.79.N.1 --every 20 60

Run with chia-blockchain's own interpreter (it imports chia). `peer`: the full node dials the given peer on
8444 and nothing else: the introducer is an unused port of its own loopback (refused at once, and never on
the recorded link), no DNS seeders, UPnP off; a harvester given --farmer-peer dials that farmer on 8447;
--network-of joins the private network of a simulator root. `simulator`: a root for
`chia_full_node_simulator` (chia's own `chia dev sim create` steps, without starting anything): a key in
$CHIA_KEYS_ROOT, the private network simulator0 and the simulator's plots (minutes of CPU, made once).
`churn`: through the running full node's RPC, every `--every A B` seconds close its peer connections and
dial the peer again, as nodes drop and find peers on mainnet: one real peer connection after another.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
from pathlib import Path

from chia.util.config import load_config, lock_and_load_config, save_config

# Every service section names the network it is on.
SERVICES = (
    "full_node",
    "farmer",
    "harvester",
    "wallet",
    "timelord",
    "introducer",
    "seeder",
    "data_layer",
    "pool",
    "ui",
)


def follow_simulator(overrides: dict) -> None:
    """A plain node takes the network's overrides on top of mainnet's constants, the simulator on top of
    chia's test constants (easy plot filter, small sub-slots...): add what differs, or the node rejects the
    simulator's blocks (INVALID_POSPACE) and bans it."""
    from chia.consensus.default_constants import DEFAULT_CONSTANTS
    from chia.simulator.block_tools import test_constants

    mainnet = DEFAULT_CONSTANTS.to_json_dict()
    for name, value in test_constants.to_json_dict().items():
        if mainnet.get(name) != value:
            overrides.setdefault(name, value)


def peer(args: argparse.Namespace) -> None:
    with lock_and_load_config(args.root, "config.yaml") as config:
        if args.network_of:
            with lock_and_load_config(args.network_of, "config.yaml") as simulator:
                config["network_overrides"] = simulator["network_overrides"]
                network = simulator["selected_network"]
            follow_simulator(config["network_overrides"]["constants"][network])
            config["selected_network"] = network
            for service in SERVICES:
                config[service]["selected_network"] = network
                if "network_overrides" in config[service]:
                    config[service]["network_overrides"] = config["network_overrides"]
        config["network_overrides"]["config"][config["selected_network"]]["default_full_node_port"] = 8444
        node = config["full_node"]
        node["port"] = 8444
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
        if args.simulator_plots:  # chia's BlockTools wants them below the root's parent folder
            config["simulator"]["plot_directory"] = str(args.simulator_plots)
            config["harvester"]["plot_directories"] = [str(args.simulator_plots)]
        config["daemon_port"] = config["ui"]["daemon_port"] = 55400  # the simulator's root had a random one
        config["self_hostname"] = "127.0.0.1"
        save_config(args.root, "config.yaml", config)


def simulator(args: argparse.Namespace) -> None:
    from chia.cmds.sim_funcs import create_chia_directory, generate_plots, select_fingerprint

    if not os.environ.get("CHIA_KEYS_ROOT"):
        raise SystemExit("chia_peering.py simulator: set CHIA_KEYS_ROOT (the simulator's own keychain)")
    fingerprint = select_fingerprint(None, None, auto_generate_key=True)
    assert fingerprint is not None
    plots = str(args.root / "plots")
    config = create_chia_directory(args.root, fingerprint, None, plots, auto_farm=False, docker_mode=False)
    asyncio.run(generate_plots(config, args.root, fingerprint, bitfield=True))


async def churn(args: argparse.Namespace) -> None:
    from chia.full_node.full_node_rpc_client import FullNodeRpcClient
    from chia.protocols.outbound_message import NodeType

    config = load_config(args.root, "config.yaml")
    port = config["full_node"]["rpc_port"]
    while True:
        try:
            async with FullNodeRpcClient.create_as_context("127.0.0.1", port, args.root, config) as client:
                while True:
                    await asyncio.sleep(random.uniform(*args.every))
                    for connection in await client.get_connections(NodeType.FULL_NODE):
                        await client.close_connection(connection["node_id"])
                    await asyncio.sleep(random.uniform(1, 5))
                    await client.open_connection(args.peer, 8444)
        except Exception as exc:  # the node not up yet, or restarting: try again (its RPC says why)
            print(f"churn: {type(exc).__name__}: {exc}", flush=True)
            await asyncio.sleep(5)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("peer")
    p.add_argument("root", type=Path)
    p.add_argument("--full-node-peer", required=True, help="the other full node's address")
    p.add_argument("--farmer-peer", help="the farmer a harvester dials")
    p.add_argument("--network-of", type=Path, help="a simulator root whose private network to join")
    p.add_argument("--simulator-plots", type=Path, help="where a simulator root finds its plots")
    p = sub.add_parser("simulator")
    p.add_argument("root", type=Path)
    p = sub.add_parser("churn")
    p.add_argument("root", type=Path)
    p.add_argument("--peer", required=True, help="the full node to dial again after each drop")
    p.add_argument("--every", type=float, nargs=2, default=(20.0, 60.0), metavar=("LEAST", "MOST"))
    args = parser.parse_args()
    if args.command == "churn":
        asyncio.run(churn(args))
    else:
        {"peer": peer, "simulator": simulator}[args.command](args)


if __name__ == "__main__":
    main()
