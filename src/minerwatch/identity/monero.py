"""Monero address decoding: CryptoNote base58 and the Keccak-256 checksum.

Monero does not use Base58Check. It splits the binary address into 8-byte blocks and encodes each as a
fixed 11-character base58 block (a short last block has a fixed shorter width), so a standard or
subaddress is always 95 characters and an integrated address 106. The checksum is the first 4 bytes
of the ORIGINAL Keccak-256 (pre-NIST padding, not SHA3-256) of everything before it.
Reference: monero `src/common/base58.cpp`, `src/cryptonote_basic/cryptonote_basic_impl.cpp`.
"""

from typing import NamedTuple

import base58
from Crypto.Hash import keccak

from minerwatch.identity.addresses import MONERO_PREFIXES

FULL_BLOCK_CHARS = 11
FULL_BLOCK_BYTES = 8
# Encoded width of a short last block -> its byte count (base58.cpp encoded_block_sizes).
LAST_BLOCK_BYTES = {2: 1, 3: 2, 5: 3, 6: 4, 7: 5, 9: 6, 10: 7}
CHECKSUM_BYTES = 4
KEYS_BYTES = 64  # public spend key + public view key
PAYMENT_ID_BYTES = 8
ADDRESS_LENGTHS = frozenset({95, 106})
_ALPHABET = frozenset(base58.BITCOIN_ALPHABET.decode())


class MoneroAddress(NamedTuple):
    kind: str
    network: str
    checksum_valid: bool


def _decode_blocks(text: str) -> bytes | None:
    """Decode CryptoNote block base58; None when a block overflows its byte width (not an encoding)."""
    out = bytearray()
    for start in range(0, len(text), FULL_BLOCK_CHARS):
        block = text[start : start + FULL_BLOCK_CHARS]
        size = FULL_BLOCK_BYTES if len(block) == FULL_BLOCK_CHARS else LAST_BLOCK_BYTES.get(len(block))
        if size is None:
            return None
        value = base58.b58decode_int(block)
        if value >> (8 * size):
            return None
        out += value.to_bytes(size, "big")
    return bytes(out)


def _read_varint(data: bytes) -> tuple[int, int]:
    """Return (value, bytes used) of a LEB128 varint; prefixes are at most 2 bytes in practice."""
    value = 0
    for index, byte in enumerate(data[:4]):
        value |= (byte & 0x7F) << (7 * index)
        if not byte & 0x80:
            return value, index + 1
    return -1, 0


def keccak256(data: bytes) -> bytes:
    """Original Keccak-256 as used by Monero and Ethereum (differs from hashlib.sha3_256)."""
    return keccak.new(data=data, digest_bits=256).digest()


def decode_monero(text: str) -> MoneroAddress | None:
    """Recognise a Monero address by length, alphabet and network prefix; then check its checksum.

    A string of the right shape whose prefix is known but whose blocks or checksum do not check out is
    still returned (checksum_valid False) so callers can report "Monero address, checksum wrong".
    """
    if len(text) not in ADDRESS_LENGTHS or not _ALPHABET.issuperset(text):
        return None
    # The prefix lives in the first block; decode it alone so an overflow further on is only a
    # checksum failure, not a failure to recognise the address.
    head = _decode_blocks(text[:FULL_BLOCK_CHARS])
    if head is None:
        return None
    prefix, used = _read_varint(head)
    if prefix not in MONERO_PREFIXES:
        return None
    kind, network = MONERO_PREFIXES[prefix]
    expected = used + KEYS_BYTES + CHECKSUM_BYTES + (PAYMENT_ID_BYTES if kind == "integrated" else 0)
    raw = _decode_blocks(text)
    valid = (
        raw is not None
        and len(raw) == expected
        and keccak256(raw[:-CHECKSUM_BYTES])[:CHECKSUM_BYTES] == raw[-CHECKSUM_BYTES:]
    )
    return MoneroAddress(kind, network, valid)
