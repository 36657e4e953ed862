"""Reads the farming facts out of Chia's ``config.yaml``: where plots live and where rewards go.

Only public values are taken (directories, reward addresses, pool URLs, launcher ids). The file is read with
PyYAML's safe loader (no object construction) and only up to `MAX_CONFIG_BYTES`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

MAX_CONFIG_BYTES = 4 * 2**20


class ConfigUnreadable(ValueError):
    """The config cannot be read or parsed; the caller reports it as an error count, not a finding."""


def _get(tree: Any, *keys: str) -> Any:
    for key in keys:
        if not isinstance(tree, dict):
            return None
        tree = tree.get(key)
    return tree


def _strings(value: Any) -> list[str]:
    return [str(v) for v in value] if isinstance(value, list) else []


def farming_facts(path: Path) -> dict[str, Any]:
    """Plot directories, reward addresses and pools named in one Chia config."""
    try:
        with path.open("rb") as fh:
            raw = fh.read(MAX_CONFIG_BYTES + 1)
    except OSError as exc:
        raise ConfigUnreadable(exc.strerror or str(exc)) from exc
    if len(raw) > MAX_CONFIG_BYTES:
        raise ConfigUnreadable(f"larger than {MAX_CONFIG_BYTES} bytes")
    try:
        tree = yaml.safe_load(raw)
    except yaml.YAMLError as exc:
        raise ConfigUnreadable(f"not valid YAML ({exc.__class__.__name__})") from exc
    pool_list = _get(tree, "farmer", "pool_list")
    pools = [p for p in pool_list if isinstance(p, dict)] if isinstance(pool_list, list) else []
    return {
        "network": _get(tree, "selected_network"),
        "plot_directories": _strings(_get(tree, "harvester", "plot_directories")),
        "farmer_target_address": _get(tree, "farmer", "xch_target_address"),
        "pool_target_address": _get(tree, "pool", "xch_target_address"),
        "pool_urls": sorted({str(p["pool_url"]) for p in pools if p.get("pool_url")}),
        "launcher_ids": sorted({str(p["launcher_id"]) for p in pools if p.get("launcher_id")}),
    }
