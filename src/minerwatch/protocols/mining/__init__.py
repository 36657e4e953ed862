"""Mining-pool protocols over newline-delimited JSON-RPC: Stratum v1 (and its Equihash form),
EthereumStratum/1.0.0, eth-proxy, and the CryptoNote (Monero/xmrig) pool protocol.

`PoolSession` is the entry point: feed it one TCP connection's bytes per direction, get typed messages.
"""

from minerwatch.protocols.mining.messages import (
    Control,
    Difficulty,
    Hashrate,
    Job,
    Login,
    MiningMessage,
    Registration,
    Reply,
    Submit,
)
from minerwatch.protocols.mining.session import PoolSession

__all__ = [
    "Control",
    "Difficulty",
    "Hashrate",
    "Job",
    "Login",
    "MiningMessage",
    "PoolSession",
    "Registration",
    "Reply",
    "Submit",
]
