"""Fixtures shared by the knowledge-base tests."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from minerwatch.capture.writer import TcpConversation, dns_exchange

MINER, POOL_IP, POOL_NAME = "10.0.0.9", "192.0.2.200", "fresh.pool.example"


@pytest.fixture
def pool_capture(write_capture) -> Path:
    """A miner resolving a pool name no intel knows, then submitting a share to it (stage 2)."""
    packets = dns_exchange(MINER, "192.0.2.53", POOL_NAME, POOL_IP, 50.0, 3)
    c = TcpConversation(MINER, 40005, POOL_IP, 7777, ts=51.0).open()
    submit = {"id": 1, "method": "submit", "params": {"id": "s", "job_id": "j", "nonce": "1", "result": "ff"}}
    c.send(True, json.dumps(submit).encode() + b"\n")
    return write_capture(packets + c.close().packets)
