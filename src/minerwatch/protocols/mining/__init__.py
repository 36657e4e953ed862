"""Mining-pool protocols over newline-delimited JSON-RPC: Stratum v1 (and its Equihash form),
EthereumStratum/1.0.0, eth-proxy, the CryptoNote (Monero/xmrig) pool protocol, and Bitcoin getwork /
getblocktemplate JSON-RPC (framed by HTTP, see detectors/mining_http.py).

`PoolSession` is the entry point: feed it one TCP connection's bytes per direction, get typed messages.
"""

from minerwatch.protocols.mining.messages import (
    Control,
    Difficulty,
    Hashrate,
    Job,
    Login,
    MiningMessage,
    Redirect,
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
    "Redirect",
    "Registration",
    "Reply",
    "Submit",
]
