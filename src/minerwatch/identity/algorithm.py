"""Mining algorithm names and what a job's shape says about the algorithm.

Canonical names follow xmrig's (`rx/0`, `cn/r`, `argon2/chukwa`, ...) because cryptojacking traffic is
mostly xmrig; other families use the name their miners and pools use (`kawpow`, `etchash`,
`equihash/144_5`). Aliases come from xmrig `src/base/crypto/Algorithm.cpp` and pools' algo lists.
"""

import re
from collections.abc import Mapping, Sequence
from typing import NamedTuple

MAX_NAME_LENGTH = 64

# canonical name -> aliases miners, pools and configs use for it
ALGORITHMS: dict[str, tuple[str, ...]] = {
    "rx/0": ("randomx", "randomxmonero", "rx", "randomx-monero"),
    "rx/wow": ("randomwow", "randomx-wow"),
    "rx/arq": ("randomarq",),
    "rx/sfx": ("randomsfx",),
    "rx/keva": ("randomkeva",),
    "rx/graft": ("randomgrft",),
    "cn/0": ("cryptonight", "cn", "cryptonight/0", "cryptonight-monero"),
    "cn/1": ("cryptonight/1", "cryptonight-monerov7", "cryptonightv7"),
    "cn/2": ("cryptonight/2", "cryptonight-monerov8", "cryptonightv8"),
    "cn/r": ("cryptonight/r", "cryptonightr", "cryptonight-r", "cryptonight-monerov9"),
    "cn/half": ("cryptonight/half", "cryptonight-half", "cryptonighthalf"),
    "cn/fast": ("cryptonight/fast", "cryptonight-fast", "cryptonight-masari", "cn/msr"),
    "cn/rwz": ("cryptonight/rwz",),
    "cn/zls": ("cryptonight/zls",),
    "cn/double": ("cryptonight/double",),
    "cn/ccx": ("cryptonight/ccx", "cryptonight-conceal", "cn/conceal"),
    "cn-lite/1": ("cryptonight-lite", "cryptonight-light", "cryptonight-lite/1"),
    "cn-heavy/0": ("cryptonight-heavy", "cryptonight-heavy/0", "cn-heavy"),
    "cn-heavy/xhv": ("cryptonight-heavy/xhv", "cryptonight-haven"),
    "cn-pico": ("cryptonight-turtle", "cn-pico/trtl", "cryptonight-pico"),
    "argon2/chukwa": ("chukwa", "argon2-chukwa"),
    "argon2/chukwav2": ("chukwav2", "argon2/chukwa2"),
    "argon2/ninja": ("ninja",),
    "astrobwt": ("astrobwt/v2",),
    "ghostrider": ("gr",),
    "kawpow": ("kawpow-rvn",),
    "firopow": (),
    "ethash": ("daggerhashimoto", "dagger"),
    "etchash": (),
    "equihash/200_9": ("equihash", "equihash200_9"),
    "equihash/144_5": ("zhash", "equihash144_5", "equihash1445"),
    "equihash/192_7": ("equihash192_7",),
    "equihash/125_4": ("zelhash", "equihash125_4"),
    "sha256d": ("sha256", "sha-256", "sha256asicboost"),
    "scrypt": ("scrypt-n",),
    "x11": (),
    "autolykos2": ("autolykos", "autolykosv2"),
    "kheavyhash": ("heavyhash",),
    "blake3": (),
    "octopus": (),
    "yescrypt": (),
    "lyra2rev3": ("lyra2v3",),
    "x16r": (),
    "x16rv2": (),
}

_SEPARATORS = re.compile(r"[\s_\-/,.]+")
_SANE_NAME = re.compile(r"[a-z0-9/_\-.,]{1,32}")
_HEX64 = re.compile(r"(?:0x)?[0-9a-fA-F]{64}")
_HEX8 = re.compile(r"[0-9a-fA-F]{8}")
_HEX = re.compile(r"[0-9a-fA-F]+")
CRYPTONOTE_MIN_BLOB_HEX = 152  # 76-byte hashing blob: the smallest a CryptoNote block header makes


def _key(name: str) -> str:
    return _SEPARATORS.sub("", name.lower())


_LOOKUP: dict[str, str] = {
    _key(alias): canonical for canonical, aliases in ALGORITHMS.items() for alias in (canonical, *aliases)
}


def normalise_algorithm(name: str) -> str:
    """Map any spelling of an algorithm to its canonical name.

    Unknown but plausible names come back lower-cased; anything else is "unknown". Never raises.
    """
    if not isinstance(name, str) or len(name) > MAX_NAME_LENGTH:
        return "unknown"
    found = _LOOKUP.get(_key(name))
    if found is not None:
        return found
    cleaned = name.strip().lower()
    return cleaned if _SANE_NAME.fullmatch(cleaned) else "unknown"


class AlgorithmGuess(NamedTuple):
    algorithm: str
    basis: str


def _is_hex(value: object, pattern: re.Pattern[str] = _HEX) -> bool:
    return isinstance(value, str) and len(value) <= 4096 and pattern.fullmatch(value) is not None


def _from_cryptonote_job(job: Mapping[str, object]) -> AlgorithmGuess | None:
    algo = job.get("algo")
    if isinstance(algo, str):
        return AlgorithmGuess(normalise_algorithm(algo), "job names its algo")
    blob = job.get("blob")
    if not (isinstance(blob, str) and len(blob) >= CRYPTONOTE_MIN_BLOB_HEX and _is_hex(blob)):
        return None
    if _is_hex(job.get("seed_hash"), _HEX64):
        return AlgorithmGuess("rx/0", "CryptoNote blob with a seed_hash: RandomX")
    return AlgorithmGuess("cn/0", "CryptoNote blob without seed_hash: CryptoNight family, variant unknown")


def _from_notify(params: Sequence[object]) -> AlgorithmGuess | None:
    hashes = sum(1 for value in params[:10] if _is_hex(value, _HEX64))
    if len(params) == 9 and isinstance(params[4], list) and _is_hex(params[6], _HEX8):
        return AlgorithmGuess(
            "sha256d",
            "Bitcoin-style notify (coinbase parts, merkle branch, nbits); scrypt/x11 coins share it",
        )
    if len(params) == 8 and hashes == 3 and _is_hex(params[1], _HEX8):
        return AlgorithmGuess(
            "equihash/200_9", "Zcash-style notify with 8 params (ZIP-301); n,k from pool/coin"
        )
    if len(params) in (6, 7) and hashes >= 2 and isinstance(params[5], int):
        return AlgorithmGuess("kawpow", "notify with header hash, seed hash, target and block height")
    if len(params) in (3, 4) and hashes >= 2:
        return AlgorithmGuess("ethash", "notify/getWork with header hash and seedhash (ethash DAG epoch)")
    return None


def algorithm_from_job(job: object) -> AlgorithmGuess | None:
    """Infer the algorithm from a job's shape: a CryptoNote/xmrig job object or a Stratum notify params list.

    Returns None when the shape says nothing. Never raises.
    """
    if isinstance(job, Mapping):
        return _from_cryptonote_job(job)
    if isinstance(job, Sequence) and not isinstance(job, str | bytes):
        return _from_notify(job)
    return None
