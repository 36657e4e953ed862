"""Who is mining for whom: wallets, logins, miner agents, algorithms and coins, as pure functions.

All entry points take untrusted strings from the wire, never raise, and reject over-long input early.
"""

from minerwatch.identity.agent import AgentInfo, parse_agent
from minerwatch.identity.algorithm import AlgorithmGuess, algorithm_from_job, normalise_algorithm
from minerwatch.identity.coin import CoinGuess, infer_coin
from minerwatch.identity.login import LoginInfo, parse_login, split_password
from minerwatch.identity.wallet import WalletInfo, validate_wallet

__all__ = [
    "AgentInfo",
    "AlgorithmGuess",
    "CoinGuess",
    "LoginInfo",
    "WalletInfo",
    "algorithm_from_job",
    "infer_coin",
    "normalise_algorithm",
    "parse_agent",
    "parse_login",
    "split_password",
    "validate_wallet",
]
