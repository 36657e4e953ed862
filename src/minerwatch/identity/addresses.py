"""Address version tables: which leading bytes/prefixes mean which coin, kind and network.

Declared once as data so that adding a coin is one row, not new code. Sources: Bitcoin
`chainparams.cpp` (base58 prefixes 0/5/111/196), Litecoin, Dogecoin and Ravencoin `chainparams.cpp`,
Zcash protocol spec §5.6.1 (two-byte t-address prefixes), Monero `cryptonote_config.h`
(CRYPTONOTE_PUBLIC_*_BASE58_PREFIX), BIP-173/BIP-350 and SLIP-173 (bech32 human-readable parts).
"""

from typing import NamedTuple


class AddressType(NamedTuple):
    """What a version prefix says: `also` lists other coins that share the exact same prefix."""

    coin: str
    kind: str
    network: str
    also: tuple[str, ...] = ()


# Base58Check version prefix (bytes) -> address type. Prefixes shared by several coins name the most
# common one first; a `3...` address is Bitcoin or (legacy) Litecoin P2SH and cannot be told apart.
BASE58CHECK_VERSIONS: dict[bytes, AddressType] = {
    b"\x00": AddressType("BTC", "p2pkh", "mainnet", ("BCH",)),
    b"\x05": AddressType("BTC", "p2sh", "mainnet", ("LTC", "BCH")),
    b"\x6f": AddressType("BTC", "p2pkh", "testnet", ("LTC", "RVN", "BCH")),
    b"\xc4": AddressType("BTC", "p2sh", "testnet", ("LTC", "DOGE", "RVN", "BCH")),
    b"\x30": AddressType("LTC", "p2pkh", "mainnet"),
    b"\x32": AddressType("LTC", "p2sh", "mainnet"),
    b"\x3a": AddressType("LTC", "p2sh", "testnet"),
    b"\x1e": AddressType("DOGE", "p2pkh", "mainnet"),
    b"\x16": AddressType("DOGE", "p2sh", "mainnet"),
    b"\x71": AddressType("DOGE", "p2pkh", "testnet"),
    b"\x3c": AddressType("RVN", "p2pkh", "mainnet"),
    b"\x7a": AddressType("RVN", "p2sh", "mainnet"),
    b"\x1c\xb8": AddressType("ZEC", "p2pkh", "mainnet"),
    b"\x1c\xbd": AddressType("ZEC", "p2sh", "mainnet"),
    b"\x1d\x25": AddressType("ZEC", "p2pkh", "testnet"),
    b"\x1c\xba": AddressType("ZEC", "p2sh", "testnet"),
}

# Two-byte prefixes are tried first: Zcash's 0x1c/0x1d first byte is not a one-byte version in use.
BASE58CHECK_PREFIX_LENGTHS = (2, 1)
HASH160_LENGTH = 20

# Segwit human-readable part -> (coin, network).
BECH32_HRPS: dict[str, tuple[str, str]] = {
    "bc": ("BTC", "mainnet"),
    "tb": ("BTC", "testnet"),
    "bcrt": ("BTC", "regtest"),
    "ltc": ("LTC", "mainnet"),
    "tltc": ("LTC", "testnet"),
}

# Monero varint address prefix -> (kind, network).
MONERO_PREFIXES: dict[int, tuple[str, str]] = {
    18: ("standard", "mainnet"),
    19: ("integrated", "mainnet"),
    42: ("subaddress", "mainnet"),
    53: ("standard", "testnet"),
    54: ("integrated", "testnet"),
    63: ("subaddress", "testnet"),
    24: ("standard", "stagenet"),
    25: ("integrated", "stagenet"),
    36: ("subaddress", "stagenet"),
}
