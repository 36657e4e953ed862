"""Wallet validation against published addresses and spec test vectors, plus one-character corruptions."""

import base58
import pytest

from minerwatch.identity.wallet import validate_wallet

# (address, coin, kind, network, source)
VALID = [
    # Monero General Fund (getmonero.org) standard and subaddress; integrated example from Monero docs.
    (
        "44AFFq5kSiGBoZ4NMDwYtN18obc8AemS33DBLWs3H7otXft3XjrpDtQGv7SqSsaBYBb98uNbr2VBBEt7f2wfn3RVGQBEP3A",
        "XMR",
        "standard",
        "mainnet",
    ),
    (
        "888tNkZrPN6JsEgekjMnABU4TBzc2Dt29EPAvkRxbANsAnjyPbb3iQ1YBRk1UXcdRsiKc9dhwMVgN5S9cQUiyoogDavup3H",
        "XMR",
        "subaddress",
        "mainnet",
    ),
    (
        "4LL9oSLmtpccfufTMvppY6JwXNouMBzSkbLYfpAV5Usx3skxNgYeYTRj5UzqtReoS44qo9mtmXCqY45DJ852K5Jv2bYXZKKQePHES9khPK",
        "XMR",
        "integrated",
        "mainnet",
    ),
    ("1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa", "BTC", "p2pkh", "mainnet"),  # genesis block coinbase
    ("3J98t1WpEZ73CNmQviecrnyiWrnqRhWNLy", "BTC", "p2sh", "mainnet"),  # Bitcoin wiki P2SH example
    ("tb1qrp33g0q5c5txsp9arysrx4k6zdkfs4nce4xj0gdcccefvpysxf3q0sl5k7", "BTC", "bech32", "testnet"),  # BIP-173
    ("bc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vqzk5jj0", "BTC", "bech32m", "mainnet"),  # BIP-86
    ("BC1SW50QGDZ25J", "BTC", "bech32m", "mainnet"),  # BIP-350 upper-case vector
    # BIP-350
    ("tb1pqqqqp399et2xygdj5xreqhjjvcmzhxw4aywxecjdzew6hylgvsesf3hn0c", "BTC", "bech32m", "testnet"),
    ("LVg2kJoFNg45Nbpy53h7Fe1wKyeXVRhMH9", "LTC", "p2pkh", "mainnet"),
    ("ltc1qn39l4h59x4s0hr90pn3p4qflhhm5ahe6x9u6jg", "LTC", "bech32", "mainnet"),
    ("DH5yaieqoZN36fDVciNyRueRGvGLR3mr7L", "DOGE", "p2pkh", "mainnet"),
    ("t1Hsc1LR8yKnbbe3twRp88p6vFfC5t7DLbs", "ZEC", "p2pkh", "mainnet"),  # Zcash docs t-address
    ("0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed", "ETH", "account", "any"),  # EIP-55 vectors
    ("0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359", "ETH", "account", "any"),
    ("0xdbF03B407c01E7cD3CBea99509d93f8DDDC8C6FB", "ETH", "account", "any"),
    ("0xD1220A0cf47c7B9Be7A2E6BA89F429762e7b9aDb", "ETH", "account", "any"),
]

# Coins without a published example at hand: built with the base58 library's own encoder from a fixed
# hash160 and the coin's version bytes (chainparams / Zcash spec), so the validator is checked against an
# encoder it does not share code with.
HASH160 = bytes(range(20))
ENCODED = [
    (b"\x3c", "R", "RVN", "p2pkh"),
    (b"\x32", "M", "LTC", "p2sh"),
    (b"\x16", "9", "DOGE", "p2sh"),
    (b"\x1c\xbd", "t3", "ZEC", "p2sh"),
]

BASE58_SAMPLE = "23456789abcdefABCDEF"  # valid in base58 and hex alike


def _corrupt(address: str, alphabet: str) -> str:
    """Change one character near the end (so the version prefix survives) to another of the same case."""
    index = len(address) - 3
    for replacement in alphabet:
        if replacement != address[index] and (replacement.isupper() == address[index].isupper()):
            return address[:index] + replacement + address[index + 1 :]
    raise AssertionError("no replacement found")


@pytest.mark.parametrize(("address", "coin", "kind", "network"), VALID)
def test_valid_addresses(address: str, coin: str, kind: str, network: str) -> None:
    info = validate_wallet(address)
    assert info is not None
    assert (info.coin, info.kind, info.network, info.checksum_valid) == (coin, kind, network, True)


@pytest.mark.parametrize(("address", "coin", "kind", "network"), VALID)
def test_one_character_changed_is_recognised_with_bad_checksum(
    address: str, coin: str, kind: str, network: str
) -> None:
    alphabet = "qpzry9x8gf2tvdw0s3jn54khce6mua7l" if kind.startswith("bech32") else BASE58_SAMPLE
    if kind.startswith("bech32") and address.isupper():
        alphabet = alphabet.upper()
    info = validate_wallet(_corrupt(address, alphabet))
    assert info is not None
    assert (info.coin, info.kind, info.network) == (coin, kind, network)
    assert info.checksum_valid is False


@pytest.mark.parametrize(("version", "lead", "coin", "kind"), ENCODED)
def test_library_encoded_addresses(version: bytes, lead: str, coin: str, kind: str) -> None:
    address = base58.b58encode_check(version + HASH160).decode()
    assert address.startswith(lead)
    info = validate_wallet(address)
    assert info is not None
    assert (info.coin, info.kind, info.checksum_valid) == (coin, kind, True)
    bad = validate_wallet(_corrupt(address, BASE58_SAMPLE))
    assert bad is not None and bad.coin == coin and bad.checksum_valid is False


@pytest.mark.parametrize(
    "address", ["0x52908400098527886E0F7030069857D2E4169EE7", "0xde709f2102306220921060314715629080e2fb77"]
)
def test_single_case_ethereum_has_no_checksum_to_check(address: str) -> None:
    info = validate_wallet(address)
    assert info is not None and info.coin == "ETH" and info.checksum_valid is None


def test_shared_prefix_names_the_other_coins() -> None:
    info = validate_wallet("3J98t1WpEZ73CNmQviecrnyiWrnqRhWNLy")
    assert info is not None and "LTC" in info.also


@pytest.mark.parametrize(
    "text",
    [
        "",
        "x",
        "worker1",
        "user@example.com",
        "0x" + "g" * 40,
        "1" * 95,  # right length and alphabet, but decodes to no Monero prefix
        "bc1" + "b" * 39,  # 'b' is not in the bech32 alphabet
        "1A1zP1eP5QGefi2DMPTfTL5SLmv7Div0Na",  # '0' is not base58
        "ẞ" * 95,
        "4" * 10_000,
    ],
)
def test_non_addresses(text: str) -> None:
    assert validate_wallet(text) is None
