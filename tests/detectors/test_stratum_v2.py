"""Probable Stratum V2 from the Noise handshake's shape only, with its evidence and a modest confidence;
other shapes are quiet and nothing becomes a verdict."""

from __future__ import annotations

import os

import pytest

from minerwatch.capture.writer import TcpConversation


def flow(client_first: int, server_first: int, records: list[tuple[bool, int]]) -> TcpConversation:
    c = TcpConversation("10.4.0.2", 52000, "198.51.100.90", 34255).open()
    c.send(True, os.urandom(client_first)).send(False, os.urandom(server_first))
    for from_client, size in records:
        c.send(from_client, os.urandom(size))
    return c.close()


RECORDS = [(True, 22 + 16 + 80), (False, 22 + 16 + 60), (True, 22 + 16 + 120)]


@pytest.mark.parametrize("client,server", [(64, 234), (64, 170), (32, 170)])
def test_noise_handshake_shape_is_probable_stratum_v2(write_capture, analyse, client, server):
    events = analyse(write_capture(flow(client, server, RECORDS).packets))
    [event] = [e["mining"] for e in events if e["event_type"] == "mining"]
    assert event["behaviour"] == "probable-stratum-v2" and event["confidence"] == 0.4
    assert event["evidence"]["client_handshake_bytes"] == client
    assert event["evidence"]["server_handshake_bytes"] == server
    assert event["evidence"]["encrypted_records_toserver"] == [118]
    assert not any(e["event_type"] == "verdict" for e in events)


@pytest.mark.parametrize(
    "client,server,records",
    [
        (64, 200, RECORDS),  # wrong answer size
        (64, 234, [(True, 10), (False, 50)]),  # records too short to be encrypted frames
        (64, 234, [(True, 100)]),  # only one side spoke after the handshake
        (100, 234, RECORDS),  # not a bare ephemeral key
    ],
)
def test_other_shapes_are_quiet(write_capture, analyse, client, server, records):
    events = analyse(write_capture(flow(client, server, records).packets))
    assert not [e for e in events if e["event_type"] == "mining"]
