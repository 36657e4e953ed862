"""Pool URLs and wallets named inside carved files: miner configs, dropper scripts, miner binaries.

Sources, in order: a JSON config's pool entries (xmrig's `pools[].url/user`, also `url`/`user` pairs at
any depth, as forks and other miners spell them), miner command lines in scripts (`-o/--url`, `-u/--user`),
`stratum+tcp://`-style URLs anywhere (also inside binaries), and bare Monero addresses that pass their
checksum. `where` says which source found each value, so an analyst can tell a config from a string hit.
"""

from __future__ import annotations

import contextlib
import re
from typing import Any

import orjson

from minerwatch.identity import parse_login, validate_wallet

MAX_INDICATORS = 64
MAX_JSON_DEPTH = 16
_URL = re.compile(rb"\bstratum[0-9]?(?:\+(?:tcp|ssl|tls|ws|wss))?://[A-Za-z0-9.\-_]{1,253}(?::[0-9]{1,5})?")
_HOST_PORT = re.compile(r"(?:stratum[0-9]?(?:\+[a-z]{2,3})?://)?[A-Za-z0-9.\-_]{1,253}:[0-9]{1,5}")
_OPTION = re.compile(rb"(?<![\w-])(-o|--url|-u|--user)(?:[ \t]+|=)[\"']?([^\s\"';|&]{1,200})")
_MONERO = re.compile(rb"(?<![1-9A-HJ-NP-Za-km-z])[48][1-9A-HJ-NP-Za-km-z]{94}(?:[1-9A-HJ-NP-Za-km-z]{11})?\b")
_URL_KEYS = ("url", "pool")
_USER_KEYS = ("user", "wallet", "login", "username")

Indicator = dict[str, str]


class _Collector:
    def __init__(self) -> None:
        self.items: list[Indicator] = []
        self._seen: set[tuple[str, str]] = set()

    def add(self, kind: str, value: str, where: str) -> None:
        if (kind, value) not in self._seen and len(self.items) < MAX_INDICATORS:
            self._seen.add((kind, value))
            self.items.append({"type": kind, "value": value, "where": where})

    def login(self, login: str, where: str) -> None:
        """A pool login: report the wallet in it (validated), not worker names or e-mail accounts."""
        info = parse_login(login)
        if info.wallet is not None:
            self.add("wallet", info.wallet.address, where)


def extract_indicators(data: bytes, json_config: bool) -> list[Indicator]:
    found = _Collector()
    if json_config:
        with contextlib.suppress(orjson.JSONDecodeError):
            _walk(orjson.loads(data), "json:", found, 0)
    for match in _OPTION.finditer(data):
        option, value = match[1].decode(), match[2].decode("ascii", "replace")
        if option in ("-o", "--url") and _HOST_PORT.fullmatch(value):
            found.add("pool-url", value, f"command-line:{option}")
        elif option in ("-u", "--user"):
            found.login(value, f"command-line:{option}")
    for match in _URL.finditer(data):
        found.add("pool-url", match[0].decode("ascii"), "string:url")
    for match in _MONERO.finditer(data):
        wallet = validate_wallet(match[0].decode("ascii"))
        if wallet is not None and wallet.checksum_valid:
            found.add("wallet", wallet.address, "string:monero-address")
    return found.items


def _walk(node: Any, path: str, found: _Collector, depth: int) -> None:
    """Visit a JSON document; an object with a pool URL key reports it and its login key."""
    if depth > MAX_JSON_DEPTH:
        return
    if isinstance(node, list):
        for i, item in enumerate(node[:256]):
            _walk(item, f"{path}[{i}]", found, depth + 1)
    elif isinstance(node, dict):
        prefix = f"{path}." if path != "json:" else path
        url = next((k for k in _URL_KEYS if isinstance(node.get(k), str)), None)
        if url is not None and _HOST_PORT.fullmatch(node[url]):
            found.add("pool-url", node[url], f"{prefix}{url}")
            user = next((k for k in _USER_KEYS if isinstance(node.get(k), str)), None)
            if user is not None:
                found.login(node[user], f"{prefix}{user}")
        for key, value in list(node.items())[:256]:
            if isinstance(value, list | dict):
                _walk(value, f"{prefix}{key}", found, depth + 1)
