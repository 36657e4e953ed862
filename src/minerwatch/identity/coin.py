"""Which coin is being mined, and on what evidence: wallet first, then algorithm, then pool host name.

A wallet names the payout coin; an algorithm narrows the mined coin; a pool's host name is the weakest
hint. The basis says which of these the guess rests on, and notes when they disagree (e.g. an XMR wallet
with kawpow: a multi-algo pool such as MoneroOcean or unMineable paying out in XMR).
"""

import re
from typing import NamedTuple

from minerwatch.identity.algorithm import normalise_algorithm
from minerwatch.identity.wallet import WalletInfo

MAX_HOST_LENGTH = 253  # DNS limit

# canonical algorithm -> coin it (almost only) serves
ALGORITHM_COINS: dict[str, str] = {
    "rx/0": "XMR",
    "cn/r": "XMR",
    "cn/2": "XMR",
    "rx/wow": "WOW",
    "rx/arq": "ARQ",
    "rx/keva": "KVA",
    "argon2/chukwa": "TRTL",
    "cn-heavy/xhv": "XHV",
    "kawpow": "RVN",
    "firopow": "FIRO",
    "ethash": "ETH",
    "etchash": "ETC",
    "equihash/200_9": "ZEC",
    "equihash/144_5": "BTG",
    "equihash/125_4": "FLUX",
    "sha256d": "BTC",
    "scrypt": "LTC",
    "x11": "DASH",
    "autolykos2": "ERG",
    "kheavyhash": "KAS",
    "ghostrider": "RTM",
    "astrobwt": "DERO",
}

# host label or label fragment -> coin; pools name coin-specific endpoints this way
# (xmr-eu1.nanopool.org, rvn.2miners.com, pool.supportxmr.com, gulf.moneroocean.stream).
HOST_TOKENS: dict[str, str] = {
    "xmr": "XMR",
    "monero": "XMR",
    "supportxmr": "XMR",
    "moneroocean": "XMR",
    "minexmr": "XMR",
    "hashvault": "XMR",
    "c3pool": "XMR",
    "xmrpool": "XMR",
    "eth": "ETH",
    "ethermine": "ETH",
    "etc": "ETC",
    "rvn": "RVN",
    "ravencoin": "RVN",
    "zec": "ZEC",
    "zcash": "ZEC",
    "ltc": "LTC",
    "litecoin": "LTC",
    "btc": "BTC",
    "bitcoin": "BTC",
    "nicehash": "BTC",  # NiceHash pays out in BTC whatever algorithm is sold
    "doge": "DOGE",
    "erg": "ERG",
    "ergo": "ERG",
    "kas": "KAS",
    "kaspa": "KAS",
}
_HOST_SPLIT = re.compile(r"[.\-]")
_DIGITS = re.compile(r"\d+")


class CoinGuess(NamedTuple):
    coin: str | None
    basis: tuple[str, ...]


def _coin_from_host(host: str) -> str | None:
    for label in _HOST_SPLIT.split(host.lower()):
        coin = HOST_TOKENS.get(_DIGITS.sub("", label))  # "xmr-eu1" -> "xmr", "eu"
        if coin is not None:
            return coin
    return None


def infer_coin(wallet: WalletInfo | None, algorithm: str | None, pool_host: str | None) -> CoinGuess:
    """Best guess of the coin and the evidence it rests on. Never raises."""
    algo = normalise_algorithm(algorithm) if isinstance(algorithm, str) else "unknown"
    algo_coin = ALGORITHM_COINS.get(algo)
    host_coin = (
        _coin_from_host(pool_host)
        if isinstance(pool_host, str) and len(pool_host) <= MAX_HOST_LENGTH
        else None
    )
    if wallet is not None and wallet.checksum_valid is not False:
        basis = [f"wallet address is {wallet.coin}"]
        if algo_coin is not None and algo_coin != wallet.coin and algo_coin not in wallet.also:
            basis.append(f"algorithm {algo} mines {algo_coin}: pool pays out in {wallet.coin}")
        return CoinGuess(wallet.coin, tuple(basis))
    if algo_coin is not None:
        basis = [f"algorithm {algo} is mined for {algo_coin}"]
        if host_coin is not None and host_coin != algo_coin:
            basis.append(f"pool host suggests {host_coin}")
        return CoinGuess(algo_coin, tuple(basis))
    if host_coin is not None:
        return CoinGuess(host_coin, (f"pool host name suggests {host_coin}",))
    if wallet is not None:
        return CoinGuess(wallet.coin, (f"address looks like {wallet.coin} but its checksum is wrong",))
    return CoinGuess(None, ("no wallet, algorithm or pool host evidence",))
