"""Wallet address recognition: which coin, which kind, which network, and whether the checksum holds.

Runs on every login seen, so each format is tried only when cheap shape checks (length, alphabet,
leading characters) pass, and anything longer than any real address is rejected before decoding.
A string that has a wallet's shape but fails its checksum is still reported (checksum_valid False):
"looks like a Monero wallet, checksum wrong" is evidence too (typo, truncation, or a decoy).
"""

import hashlib
import re
from dataclasses import dataclass

import base58
from bech32m import codecs as bech32

from minerwatch.identity.addresses import (
    BASE58CHECK_PREFIX_LENGTHS,
    BASE58CHECK_VERSIONS,
    BECH32_HRPS,
    HASH160_LENGTH,
    AddressType,
)
from minerwatch.identity.monero import decode_monero, keccak256

MAX_WALLET_LENGTH = 128  # longest real address here is a 106-char Monero integrated address
BASE58CHECK_LENGTHS = range(25, 37)
BECH32_MAX_LENGTH = 90  # BIP-173
_BASE58 = frozenset(base58.BITCOIN_ALPHABET.decode())
_ETH = re.compile(r"0[xX][0-9a-fA-F]{40}")
_BECH32_DATA = frozenset(bech32.CHARSET)


@dataclass(frozen=True, slots=True)
class WalletInfo:
    """A recognised address. checksum_valid is None where the format has no checksum to check
    (an all-lower or all-upper Ethereum address); `also` names coins sharing the same format."""

    address: str
    coin: str
    kind: str
    network: str
    checksum_valid: bool | None
    also: tuple[str, ...] = ()


def _info(address: str, kind_of: AddressType, checksum_valid: bool | None, kind: str = "") -> WalletInfo:
    return WalletInfo(
        address, kind_of.coin, kind or kind_of.kind, kind_of.network, checksum_valid, kind_of.also
    )


def _monero(text: str) -> WalletInfo | None:
    found = decode_monero(text)
    if found is None:
        return None
    return WalletInfo(text, "XMR", found.kind, found.network, found.checksum_valid)


def _base58check(text: str) -> WalletInfo | None:
    if len(text) not in BASE58CHECK_LENGTHS or not _BASE58.issuperset(text):
        return None
    raw = base58.b58decode(text)
    for prefix_length in BASE58CHECK_PREFIX_LENGTHS:
        kind_of = BASE58CHECK_VERSIONS.get(raw[:prefix_length])
        if kind_of is not None and len(raw) == prefix_length + HASH160_LENGTH + 4:
            body, checksum = raw[:-4], raw[-4:]
            valid = hashlib.sha256(hashlib.sha256(body).digest()).digest()[:4] == checksum
            return _info(text, kind_of, valid)
    return None


def _segwit(text: str) -> WalletInfo | None:
    if len(text) > BECH32_MAX_LENGTH or (text != text.lower() and text != text.upper()):
        return None
    lowered = text.lower()
    hrp, sep, data = lowered.rpartition("1")
    if not sep or hrp not in BECH32_HRPS or len(data) < 7 or not _BECH32_DATA.issuperset(data):
        return None
    coin, network = BECH32_HRPS[hrp]
    # Witness version 0 ('q') must use bech32, versions 1-16 bech32m (BIP-350).
    kind = "bech32" if data[0] == "q" else "bech32m"
    try:
        bech32.decode(hrp, lowered)
    except bech32.DecodeError:
        return WalletInfo(text, coin, kind, network, False)
    return WalletInfo(text, coin, kind, network, True)


def _ethereum(text: str) -> WalletInfo | None:
    if len(text) != 42 or not _ETH.fullmatch(text):
        return None
    hexpart = text[2:]
    if hexpart == hexpart.lower() or hexpart == hexpart.upper():
        return WalletInfo(text, "ETH", "account", "any", None, ("ETC",))
    # EIP-55: a letter is upper-case exactly when the matching nibble of keccak(lowercase hex) >= 8.
    digest = keccak256(hexpart.lower().encode()).hex()
    valid = all(
        char.isupper() == (int(nibble, 16) >= 8)
        for char, nibble in zip(hexpart, digest[:40], strict=True)
        if char.isalpha()
    )
    return WalletInfo(text, "ETH", "account", "any", valid, ("ETC",))


_VALIDATORS = (_ethereum, _monero, _segwit, _base58check)


def validate_wallet(text: str) -> WalletInfo | None:
    """Return what `text` is as a wallet address, or None when it has no known address shape.

    Never raises; input longer than any real address is rejected before any decoding.
    """
    if not isinstance(text, str) or not 14 <= len(text) <= MAX_WALLET_LENGTH or not text.isascii():
        return None
    for validator in _VALIDATORS:
        found = validator(text)
        if found is not None:
            return found
    return None
