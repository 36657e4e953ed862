"""Hostile input to the new mining parsers never raises: CoinHive sessions, whole-object pool sessions,
HTTP credential and body extraction, fed arbitrary JSON-like values and bytes."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from minerwatch.detectors.mining_http import HttpMiningStats, _basic_auth, _json_objects, _url_wallet
from minerwatch.protocols.mining import PoolSession
from minerwatch.protocols.mining.coinhive import CoinHiveSession, is_coinhive
from minerwatch.protocols.mining.dialects import REQUESTS

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=80),
    lambda inner: st.lists(inner, max_size=6) | st.dictionaries(st.text(max_size=12), inner, max_size=6),
    max_leaves=30,
)
# Every method a registered dialect parses (protocols/mining/dialects.py), so a new dialect is fuzzed too.
methods = st.sampled_from(sorted(REQUESTS))


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(st.booleans(), methods, json_values, json_values), max_size=12))
def test_pool_session_objects(messages):
    session = PoolSession()
    for to_server, method, params, ident in messages:
        session.feed_object(to_server, {"method": method, "params": params, "id": ident})
        session.feed_object(not to_server, {"id": ident, "result": params, "error": None})
    assert session.mining_messages + session.other_lines >= len(messages)


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.booleans(),
            st.sampled_from(["auth", "authed", "job", "submit", "hash_accepted", "error", "banned", "x"]),
            st.dictionaries(st.text(max_size=10), json_values, max_size=6),
        ),
        max_size=20,
    )
)
def test_coinhive_session(messages):
    session = CoinHiveSession()
    for from_client, kind, params in messages:
        obj = {"type": kind, "params": params}
        assert is_coinhive(obj)
        session.feed(from_client, obj)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=3000))
def test_body_extraction(body):
    objects, _ = _json_objects(body, HttpMiningStats())
    assert len(objects) <= 256 and all(isinstance(o, dict) for o in objects)


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=600), st.binary(max_size=300))
def test_credentials(target, header):
    _url_wallet(target)
    _basic_auth(b"Basic " + header)
    _basic_auth(header)
