"""Which encoding, peeled off the first bytes of a stream or body, reveals mining JSON-RPC.

The test is strict on purpose: the decoded bytes must start a JSON object that names a pool-protocol method
(`"method": "login"`, `"mining.subscribe"`...). Base64 e-mail attachments, images and compressed downloads
decode to something else and are left alone.
"""

from __future__ import annotations

import re

from minerwatch.protocols.encodings import Decoder, candidates
from minerwatch.protocols.mining.session import PARSERS

SNIFF_BYTES = 1536  # the method name is within 400 decoded bytes; URL encoding triples them
_METHOD = re.compile(rb'\A\s*[\[{][^\n]{0,400}?"method"\s*:\s*"([A-Za-z0-9_.]{1,40})"')
_REPLY = re.compile(rb'\A\s*\{[^\n]{0,400}?"(?:result|error|id)"\s*:')


def is_mining_request(decoded: bytes) -> bool:
    """The bytes start with a JSON-RPC request for a pool-protocol method."""
    match = _METHOD.match(decoded)
    return match is not None and match.group(1).decode() in PARSERS


def is_json_rpc(decoded: bytes) -> bool:
    """The bytes start like any JSON-RPC message (for the pool's side, once the miner's side is known)."""
    return is_mining_request(decoded) or _REPLY.match(decoded) is not None


def sniff(head: bytes, any_json_rpc: bool = False) -> Decoder | None:
    """A fresh decoder for the stream whose first bytes are `head`, or None if no encoding reveals mining
    JSON-RPC (or, with `any_json_rpc`, any JSON-RPC message)."""
    head = head[:SNIFF_BYTES]
    accept = is_json_rpc if any_json_rpc else is_mining_request
    for decoder in candidates(head):
        if accept(decoder.feed(head)):
            return decoder.fresh()
    return None
