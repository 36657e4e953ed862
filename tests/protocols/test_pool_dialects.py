"""Pool dialects fed as bytes: typed messages out, answers paired with requests, other JSON-RPC ignored."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from minerwatch.protocols.mining import Difficulty, Job, Login, PoolSession, Registration, Reply, Submit
from minerwatch.protocols.mining.messages import cryptonote_difficulty


def lines(*objs) -> bytes:
    return b"".join(json.dumps(o).encode() + b"\r\n" for o in objs)


def talk(*exchanges: tuple[bool, dict]) -> list:
    session = PoolSession()
    out = []
    for to_server, obj in exchanges:
        out += [m for _, m in session.feed(to_server, lines(obj))]
    return out


def test_stratum_v1_session():
    notify = ["bf", "4d16", "0100", "072f", ["aa", "bb"], "00000002", "1c2ac4af", "504e86b9", True]
    messages = talk(
        (True, {"id": 1, "method": "mining.subscribe", "params": ["cgminer/3.7.2"]}),
        (False, {"id": 1, "result": [[["mining.notify", "x"]], "08000002", 4], "error": None}),
        (True, {"id": 2, "method": "mining.authorize", "params": ["user.worker", "pw"]}),
        (False, {"id": 2, "result": True, "error": None}),
        (False, {"id": None, "method": "mining.set_difficulty", "params": [1024]}),
        (False, {"id": None, "method": "mining.notify", "params": notify}),
        (
            True,
            {
                "id": 4,
                "method": "mining.submit",
                "params": ["user.worker", "bf", "00000001", "504e86ed", "b2957c02"],
            },
        ),
        (False, {"id": 4, "result": None, "error": [23, "Low difficulty share", None]}),
    )
    reg, reg_reply, login, login_reply, diff, job, share, share_reply = messages
    assert isinstance(reg, Registration) and reg.agent == "cgminer/3.7.2" and reg.from_miner
    assert isinstance(reg_reply, Reply) and reg_reply.ok and reg_reply.request is reg
    assert isinstance(login, Login) and login.login == "user.worker" and login.password == "pw"
    assert login_reply.ok
    assert isinstance(diff, Difficulty) and diff.difficulty == 1024 and not diff.from_miner
    assert isinstance(job, Job) and job.shape == "bitcoin" and job.job_id == "bf" and job.clean
    assert job.fields["merkle_branch"] == ["aa", "bb"] and job.fields["nbits"] == "1c2ac4af"
    assert isinstance(share, Submit) and share.job_id == "bf" and share.nonce == "b2957c02"
    assert not share_reply.ok and share_reply.error == "Low difficulty share"


def test_equihash_notify_and_set_target():
    params = ["5d2d", "04000000", "ab" * 32, "cd" * 32, "00" * 32, "5a41d2b3", "1d00ffff", True]
    job, target = talk(
        (False, {"id": None, "method": "mining.notify", "params": params}),
        (False, {"id": None, "method": "mining.set_target", "params": ["0007ffff" + "00" * 28]}),
    )
    assert job.shape == "equihash" and job.fields["version"] == "04000000"
    assert target.difficulty == pytest.approx(1.0)


def test_ethereum_stratum_nicehash_dialect():
    reg, job = talk(
        (
            True,
            {"id": 1, "method": "mining.subscribe", "params": ["ethminer/0.19.0", "EthereumStratum/1.0.0"]},
        ),
        (False, {"id": None, "method": "mining.notify", "params": ["bf0488", "ab" * 32, "cd" * 32, True]}),
    )
    assert reg.dialect == "ethereumstratum" and reg.protocol == "EthereumStratum/1.0.0"
    assert job.dialect == "ethereumstratum" and job.shape == "ethash" and job.seed_hash == "ab" * 32


def test_eth_proxy_login_getwork_submit_and_push():
    boundary = "0x" + format(2**256 // 4_000_000_000, "064x")
    messages = talk(
        (True, {"id": 1, "method": "eth_submitLogin", "params": ["0xabc"], "worker": "rig1"}),
        (False, {"id": 1, "result": True}),
        (True, {"id": 2, "method": "eth_getWork", "params": []}),
        (False, {"id": 2, "result": ["0x" + "11" * 32, "0x" + "22" * 32, boundary]}),
        (True, {"id": 3, "method": "eth_submitWork", "params": ["0x01", "0x" + "11" * 32, "0x" + "33" * 32]}),
        (False, {"id": 3, "result": True}),
        (False, {"id": 0, "result": ["0x" + "44" * 32, "0x" + "22" * 32, boundary]}),
    )
    kinds = [type(m).__name__ for m in messages]
    assert kinds == ["Login", "Reply", "Control", "Reply", "Job", "Submit", "Reply", "Job"]
    assert messages[0].worker == "rig1" and messages[0].dialect == "eth-proxy"
    assert messages[4].difficulty == pytest.approx(4e9, rel=1e-6)
    assert messages[7].method == "push"


def test_cryptonote_login_job_submit_and_reused_ids():
    job = {
        "blob": "0707" * 38,
        "job_id": "j1",
        "target": "b88d0600",
        "algo": "rx/0",
        "height": 10,
        "seed_hash": "aa",
    }
    messages = talk(
        (
            True,
            {
                "id": 1,
                "method": "login",
                "params": {
                    "login": "4wallet",
                    "pass": "x",
                    "agent": "XMRig/6.21.0",
                    "algo": ["rx/0", "cn/r"],
                },
            },
        ),
        (False, {"id": 1, "error": None, "result": {"id": "s1", "job": job, "status": "OK"}}),
        (
            True,
            {
                "id": 1,
                "method": "submit",
                "params": {"id": "s1", "job_id": "j1", "nonce": "01", "result": "ff"},
            },
        ),
        (
            True,
            {
                "id": 1,
                "method": "submit",
                "params": {"id": "s1", "job_id": "j1", "nonce": "02", "result": "ff"},
            },
        ),
        (False, {"id": 1, "error": None, "result": {"status": "OK"}}),
        (False, {"id": 1, "error": {"code": -1, "message": "Duplicate share"}}),
        (True, {"id": 2, "method": "keepalived", "params": {"id": "s1"}}),
    )
    login, reply, job_msg, first, second, ok, dup, keepalive = messages
    assert login.agent == "XMRig/6.21.0" and login.algorithms == ("rx/0", "cn/r")
    assert reply.ok and isinstance(job_msg, Job) and job_msg.algorithm == "rx/0" and job_msg.height == 10
    assert job_msg.difficulty == pytest.approx(cryptonote_difficulty("b88d0600"))
    # xmr-stak reuses id 1: answers pair with requests in order.
    assert ok.request is first and ok.ok and dup.request is second and dup.error == "Duplicate share"
    assert keepalive.method == "keepalived"


def test_cryptonote_target_conversion():
    assert cryptonote_difficulty("b88d0600") == pytest.approx(0xFFFFFFFF / 0x00068DB8)
    assert cryptonote_difficulty("0000000000100000") == pytest.approx((2**64 - 1) / 0x0000100000000000)
    assert cryptonote_difficulty("zz") is None


@pytest.mark.parametrize(
    "obj",
    [
        {"id": 1, "method": "blockchain.scripthash.subscribe", "params": ["ab"]},
        {"id": 1, "method": "server.version", "params": ["electrum", "1.4"]},
        {"jsonrpc": "2.0", "id": 1, "method": "web3_clientVersion", "params": []},
        {"jsonrpc": "2.0", "id": 2, "method": "eth_blockNumber", "params": []},
        {"jsonrpc": "2.0", "id": 3, "method": "eth_call", "params": [{"to": "0x0"}, "latest"]},
        {"jsonrpc": "2.0", "method": "item.get", "params": {"output": "extend"}, "auth": "x", "id": 1},
        {"id": 1, "method": "login", "params": {"user": "bob", "password": "pw"}},
        {"id": 1, "method": "submit", "params": {"form": "contact"}},
        {"stratum": 2, "leap": 0},
    ],
)
def test_json_rpc_that_is_not_mining_yields_nothing(obj):
    session = PoolSession()
    assert session.feed(True, lines(obj)) == [] and session.mining_messages == 0


def test_unanswered_requests_are_bounded():
    session = PoolSession()
    for i in range(1000):
        session.feed(True, lines({"id": i, "method": "mining.submit", "params": ["u", "j", "1", "2", "3"]}))
    assert session._pending_count <= 256 and session.dropped_requests == 1000 - 256


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=8), children, max_size=5)
    ),
    max_leaves=25,
)
methods = st.sampled_from(
    [
        "mining.subscribe",
        "mining.notify",
        "mining.submit",
        "mining.authorize",
        "login",
        "job",
        "submit",
        "eth_submitLogin",
        "eth_getWork",
        "mining.set_target",
        "getjob",
    ]
)


@given(st.lists(st.tuples(st.booleans(), methods, json_values, json_values, st.booleans()), max_size=12))
def test_hostile_messages_never_raise(items):
    session = PoolSession()
    for to_server, method, params, ident, as_answer in items:
        obj = (
            {"id": ident, "result": params, "error": None}
            if as_answer
            else {"id": ident, "method": method, "params": params}
        )
        session.feed(to_server, lines(obj))
