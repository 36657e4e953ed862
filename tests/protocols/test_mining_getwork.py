"""getwork / getblocktemplate / submitblock parsing, and answers paired by a PoolSession fed whole objects."""

from __future__ import annotations

from minerwatch.protocols.mining import Control, Job, PoolSession, Reply, Submit

HEADER = "00000002" + "ab" * 32 + "cd" * 32 + "5b8d0c3c" + "1a0b0c0d" + "78563412" + "00" * 48


def exchange(request: dict, answer: dict) -> list:
    session = PoolSession()
    sent = [m for _, m in session.feed_object(True, request)]
    return sent + [m for _, m in session.feed_object(False, answer)]


def test_getwork_request_then_work_is_a_job_with_its_difficulty():
    target = "ff" * 28 + "00000000"  # little-endian: 2**224 - 1, difficulty 1
    work = {"data": HEADER, "midstate": "00", "hash1": "00", "target": target}
    control, reply, job = exchange(
        {"method": "getwork", "params": [], "id": 0}, {"id": 0, "error": None, "result": work}
    )
    assert isinstance(control, Control) and control.dialect == "getwork"
    assert isinstance(reply, Reply) and reply.ok
    assert isinstance(job, Job) and job.shape == "getwork" and job.job_id == HEADER[8:24]
    assert 0.99 < job.difficulty < 1.01 and job.fields == {"midstate": True}


def test_getwork_with_data_is_a_share_with_the_header_nonce():
    submit, reply = exchange({"method": "getwork", "params": [HEADER], "id": 1}, {"id": 1, "result": False})
    assert isinstance(submit, Submit) and submit.nonce == "78563412"
    assert isinstance(reply, Reply) and not reply.ok


def test_getblocktemplate_answer_is_a_job_with_height():
    template = {"previousblockhash": "00" * 32, "height": 812345, "target": "00000000ffff" + "00" * 26}
    control, reply, job = exchange(
        {"id": 0, "method": "getblocktemplate", "params": [{"capabilities": ["coinbasetxn", "workid"]}]},
        {"id": 0, "result": template, "error": None},
    )
    assert control.dialect == "getblocktemplate" and reply.ok
    assert job.shape == "getblocktemplate" and job.height == 812345 and job.difficulty == 1.0


def test_submitblock_null_means_accepted_and_a_reason_means_rejected():
    block = HEADER + "01" + "00" * 60
    submit, ok = exchange({"id": 2, "method": "submitblock", "params": [block]}, {"id": 2, "result": None})
    assert isinstance(submit, Submit) and ok.ok
    _, bad = exchange({"id": 3, "method": "submitblock", "params": [block]}, {"id": 3, "result": "high-hash"})
    assert not bad.ok


def test_non_mining_json_rpc_is_not_mining():
    session = PoolSession()
    assert session.feed_object(True, {"jsonrpc": "2.0", "method": "web3_clientVersion", "id": 67}) == []
    assert session.feed_object(True, {"method": "getwork", "params": ["zz"], "id": 1}) == []
    assert session.feed_object(True, {"method": "getblocktemplate", "params": ["x"], "id": 1}) == []
    assert session.mining_messages == 0 and session.other_lines == 3
