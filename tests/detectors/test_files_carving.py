"""End-to-end carving: captures built with the project's writer, run through the whole pipeline."""

from __future__ import annotations

import base64
import gzip
import hashlib
from email.message import EmailMessage
from pathlib import Path

import pytest

from minerwatch import pipeline
from minerwatch.capture.writer import PcapWriter, TcpConversation
from minerwatch.detectors.files import FileOptions
from minerwatch.detectors.files.carve import FileLimits
from minerwatch.flows.http import MAX_BODY

CLIENT, SERVER = "10.0.0.5", "203.0.113.7"
ELF = b"\x7fELF\x02\x01\x01" + bytes(9) + b"\x02\x00\x3e\x00" + bytes(range(256)) * 16


def run(tmp_path: Path, *conversations: TcpConversation, **carving) -> list[dict]:
    """The events of a default analysis, carving with FileOptions(**carving)."""
    path = tmp_path / "capture.pcap"
    packets = sorted((p for c in conversations for p in c.packets), key=lambda p: p[0])
    with path.open("wb") as out:
        PcapWriter(out).write_all(packets)
    events: list[dict] = []
    options = pipeline.AnalysisOptions(detector_options={"carving": FileOptions(**carving)})
    analysis = pipeline.Analysis([events.append], options)
    analysis.feed_file(path)
    analysis.finish()
    return events


def file_events(events: list[dict]) -> list[dict]:
    return [e for e in events if e["event_type"] == "file"]


def http(request: bytes, response: bytes, port: int = 40000, close: bool = True) -> TcpConversation:
    conversation = TcpConversation(CLIENT, port, SERVER, 80).open().send(True, request).send(False, response)
    return conversation.close() if close else conversation


def get(path: str = "/xmrig") -> bytes:
    return b"GET %s HTTP/1.1\r\nHost: evil.example\r\nUser-Agent: curl/8.5\r\n\r\n" % path.encode()


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def test_http_download_is_carved_with_hashes_type_and_transfer(tmp_path: Path) -> None:
    response = b"HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nContent-Length: %d\r\n\r\n"
    [event] = file_events(run(tmp_path, http(get(), response % len(ELF) + ELF)))
    body = event["file"]
    assert (body["sha256"], body["md5"], body["sha1"]) == (
        sha256(ELF),
        hashlib.md5(ELF).hexdigest(),
        hashlib.sha1(ELF).hexdigest(),
    )
    assert body["size"] == body["transfer_size"] == len(ELF)
    assert (body["type"], body["category"], body["partial"]) == ("elf", "executable", False)
    assert (body["protocol"], body["direction"], body["filename"]) == ("http", "download", "xmrig")
    assert body["declared_type"] == "application/octet-stream"
    assert "stored" not in body
    assert event["http"] == {
        "hostname": "evil.example",
        "url": "/xmrig",
        "http_method": "GET",
        "http_user_agent": "curl/8.5",
        "status": 200,
        "http_content_type": "application/octet-stream",
    }
    assert (event["src_ip"], event["dest_ip"], event["app_proto"]) == (SERVER, CLIENT, "http")


def test_chunked_and_gzip_bodies_are_decoded_before_hashing(tmp_path: Path) -> None:
    script = b"#!/bin/sh\necho hello\n" * 50
    zipped = gzip.compress(script)
    chunked = b"".join(
        b"%x\r\n%s\r\n" % (len(zipped[i : i + 100]), zipped[i : i + 100]) for i in range(0, len(zipped), 100)
    )
    response = (
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Encoding: gzip\r\n\r\n"
        + chunked
        + b"0\r\n\r\n"
    )
    [event] = file_events(run(tmp_path, http(get("/"), response)))
    assert event["file"]["sha256"] == sha256(script)
    assert event["file"]["type"] == "shell"
    assert event["file"]["transfer_size"] == len(zipped)


def test_multipart_upload_parts_with_a_filename_are_carved(tmp_path: Path) -> None:
    boundary = b"----xyz"
    form = (
        b'--%s\r\nContent-Disposition: form-data; name="note"\r\n\r\njust text\r\n'
        b'--%s\r\nContent-Disposition: form-data; name="upload"; filename="../../etc/cron.d/x"\r\n'
        b"Content-Type: application/octet-stream\r\n\r\n%s\r\n--%s--\r\n"
    ) % (boundary, boundary, ELF, boundary)
    request = (
        b"POST /upload.php HTTP/1.1\r\nHost: victim\r\nContent-Type: multipart/form-data; boundary=%s\r\n"
        b"Content-Length: %d\r\n\r\n%s"
    ) % (boundary, len(form), form)
    events = run(tmp_path, http(request, b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"))
    [event] = file_events(events)
    assert event["file"]["sha256"] == sha256(ELF)
    assert (event["file"]["direction"], event["file"]["filename"]) == ("upload", "../../etc/cron.d/x")
    assert event["http"]["form_field"] == "upload"
    assert (event["src_ip"], event["http"]["http_method"]) == (CLIENT, "POST")


def test_pages_without_a_file_name_or_notable_content_are_only_counted(tmp_path: Path) -> None:
    page = b"<html><body>hello</body></html>"
    events = run(
        tmp_path,
        http(get("/index.php"), b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s" % (len(page), page)),
    )
    assert file_events(events) == []
    assert events[-1]["stats"]["carving"]["http_bodies_skipped"] == 1


def test_body_over_the_http_cap_is_partial_with_the_hash_of_what_was_seen(tmp_path: Path) -> None:
    big = ELF + bytes(MAX_BODY + 100 - len(ELF))
    response = b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % len(big) + big
    [event] = file_events(run(tmp_path, http(get(), response)))
    body = event["file"]
    assert body["partial"] is True and body["partial_reason"] == "body-cap"
    assert body["size"] == MAX_BODY and body["transfer_size"] == len(big)
    assert body["sha256"] == sha256(big[:MAX_BODY])


@pytest.mark.parametrize(
    ("limits", "reason"),
    [(FileLimits(max_file=1000), "file-cap"), (FileLimits(max_total=1000), "memory-cap")],
)
def test_caps_make_a_partial_file(tmp_path: Path, limits: FileLimits, reason: str) -> None:
    response = b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % len(ELF) + ELF
    [event] = file_events(run(tmp_path, http(get(), response), limits=limits))
    assert (event["file"]["size"], event["file"]["partial_reason"]) == (1000, reason)
    assert event["file"]["sha256"] == sha256(ELF[:1000])


def test_http_download_cut_by_the_connection_is_partial(tmp_path: Path) -> None:
    response = b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % (len(ELF) * 2) + ELF
    [event] = file_events(run(tmp_path, http(get(), response)))
    assert event["file"]["partial"] is True and event["file"]["sha256"] == sha256(ELF)


def test_extract_dir_stores_by_sha256_never_by_traffic_names(tmp_path: Path) -> None:
    store = tmp_path / "store"
    response = (
        b'HTTP/1.1 200 OK\r\nContent-Disposition: attachment; filename="../../../../tmp/evil"\r\n'
        b"Content-Length: %d\r\n\r\n" % len(ELF) + ELF
    )
    [event] = file_events(run(tmp_path, http(get(), response), extract_dir=str(store)))
    digest = sha256(ELF)
    assert event["file"]["filename"] == "../../../../tmp/evil"
    assert event["file"]["stored"] == str(store / digest[:2] / digest)
    assert Path(event["file"]["stored"]).read_bytes() == ELF
    assert [p.name for p in store.rglob("*") if p.is_file()] == [digest]


def test_nothing_is_written_without_extract_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    response = b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % len(ELF) + ELF
    run(tmp_path, http(get(), response))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["capture.pcap"]


# -- SMTP ---------------------------------------------------------------------------------------------


def smtp(message: bytes, finish: bool = True) -> TcpConversation:
    c = TcpConversation(CLIENT, 41000, SERVER, 25).open()
    c.send(False, b"220 mx.example ESMTP\r\n").send(True, b"EHLO pc\r\n").send(
        False, b"250-mx\r\n250 8BITMIME\r\n"
    )
    c.send(
        True,
        b"MAIL FROM:<boss@corp.example>\r\nRCPT TO:<a@corp.example>\r\nRCPT TO:<b@corp.example>\r\nDATA\r\n",
    )
    c.send(False, b"250 ok\r\n250 ok\r\n250 ok\r\n354 go ahead\r\n")
    stuffed = b"\r\n".join(b"." + line if line.startswith(b".") else line for line in message.split(b"\r\n"))
    if not finish:
        return c.send(True, stuffed).close()
    return c.send(True, stuffed + b"\r\n.\r\n").send(False, b"250 queued\r\n").send(True, b"QUIT\r\n").close()


def mail() -> tuple[EmailMessage, bytes]:
    message = EmailMessage()
    message["From"], message["To"] = "Boss <boss@corp.example>", "a@corp.example"
    message["Subject"] = "=?utf-8?q?Facture_=C3=A9t=C3=A9?="
    message.set_content("see attachments\n.\n..hidden dot line\n")
    config = b'{"pools": [{"url": "pool.example.com:3333"}]}\n.starts with a dot\n'
    message.add_attachment(ELF, maintype="application", subtype="octet-stream", filename="update.bin")
    message.add_attachment(config.decode(), subtype="plain", filename="notes.txt", cte="quoted-printable")
    return message, config


def test_smtp_base64_and_quoted_printable_attachments(tmp_path: Path) -> None:
    message, config = mail()
    events = file_events(run(tmp_path, smtp(message.as_bytes().replace(b"\n", b"\r\n"))))
    assert [e["file"]["filename"] for e in events] == ["update.bin", "notes.txt"]
    assert events[0]["file"]["sha256"] == sha256(ELF)
    assert events[1]["file"]["sha256"] == sha256(config.replace(b"\n", b"\r\n"))  # mail text is CRLF
    assert all(e["file"]["partial"] is False and e["file"]["direction"] == "upload" for e in events)
    assert events[0]["email"] == {
        "mail_from": "boss@corp.example",
        "rcpt_to": ["a@corp.example", "b@corp.example"],
        "from": "Boss <boss@corp.example>",
        "to": "a@corp.example",
        "subject": "Facture été",
        "message_id": None,
    }
    assert events[0]["src_ip"] == CLIENT


def test_smtp_mail_cut_by_the_connection_flags_its_last_attachment(tmp_path: Path) -> None:
    message, _ = mail()
    raw = message.as_bytes().replace(b"\n", b"\r\n")
    cut = raw[: raw.index(b"update.bin") + 600]
    [event] = file_events(run(tmp_path, smtp(cut, finish=False)))
    body = event["file"]
    assert (body["filename"], body["partial"], body["partial_reason"]) == (
        "update.bin",
        True,
        "connection-closed",
    )
    encoded = cut[cut.index(b"\r\n\r\n", cut.index(b"update.bin")) + 4 :]
    seen = base64.b64decode(b"".join(encoded.split())[: len(b"".join(encoded.split())) // 4 * 4])
    assert body["sha256"] == sha256(seen) and ELF.startswith(seen) and 0 < len(seen) < len(ELF)


# -- FTP ----------------------------------------------------------------------------------------------


def ftp_session(
    data: bytes, *, passive: bool = True, command: bytes = b"RETR", final: bytes = b"226 Done"
) -> list:
    control = TcpConversation(CLIENT, 42000, SERVER, 21).open()
    control.send(False, b"220 (vsFTPd 3.0.3)\r\n").send(True, b"USER anonymous\r\n").send(
        False, b"331 ok\r\n"
    )
    control.send(True, b"PASS x\r\n").send(False, b"230 ok\r\n")
    if passive:
        control.send(True, b"PASV\r\n").send(False, b"227 Entering Passive Mode (203,0,113,7,195,80).\r\n")
        data_conn = TcpConversation(CLIENT, 42001, SERVER, 195 * 256 + 80, ts=control.ts + 0.001).open()
    else:
        control.send(True, b"PORT 10,0,0,5,200,10\r\n").send(False, b"200 PORT ok\r\n")
        data_conn = TcpConversation(SERVER, 20, CLIENT, 200 * 256 + 10, ts=control.ts + 0.001).open()
    control.ts = data_conn.ts
    control.send(True, command + b" /pub/kdevtmpfsi\r\n")
    control.send(False, b"150 Opening BINARY mode data connection for kdevtmpfsi (%d bytes).\r\n" % len(ELF))
    data_conn.ts = control.ts
    from_data_client = (command == b"STOR") == passive
    data_conn.send(from_data_client, data).close()
    control.ts = data_conn.ts
    control.send(False, final + b"\r\n").send(True, b"QUIT\r\n").close()
    return [control, data_conn]


def test_ftp_passive_retr_is_carved_from_the_data_connection(tmp_path: Path) -> None:
    control, data_conn = ftp_session(ELF)
    [event] = file_events(run(tmp_path, control, data_conn))
    body = event["file"]
    assert (body["protocol"], body["direction"], body["filename"]) == ("ftp", "download", "/pub/kdevtmpfsi")
    assert (body["sha256"], body["transfer_size"], body["partial"]) == (sha256(ELF), len(ELF), False)
    assert event["ftp"]["command"] == "RETR" and event["ftp"]["mode"] == "passive"
    assert event["ftp"]["reply_code"] == 226
    assert (event["src_ip"], event["src_port"], event["dest_port"]) == (SERVER, 195 * 256 + 80, 42001)
    assert event["flow_id"] != event["ftp"]["control_flow_id"]


def test_ftp_active_stor_is_an_upload(tmp_path: Path) -> None:
    control, data_conn = ftp_session(ELF, passive=False, command=b"STOR")
    [event] = file_events(run(tmp_path, control, data_conn))
    assert (event["file"]["direction"], event["ftp"]["mode"]) == ("upload", "active")
    assert event["src_ip"] == CLIENT and event["file"]["sha256"] == sha256(ELF)


def test_ftp_aborted_transfer_is_partial(tmp_path: Path) -> None:
    control, data_conn = ftp_session(ELF[:1000], final=b"426 Connection closed; transfer aborted")
    [event] = file_events(run(tmp_path, control, data_conn))
    body = event["file"]
    assert (body["partial"], body["partial_reason"], body["size"]) == (True, "aborted", 1000)
    assert body["sha256"] == sha256(ELF[:1000])


def test_ftp_epsv_stor_and_a_data_connection_nobody_announced(tmp_path: Path) -> None:
    control = TcpConversation(CLIENT, 43000, SERVER, 21).open()
    control.send(False, b"220 FTP ready\r\n").send(True, b"EPSV\r\n")
    control.send(False, b"229 Entering Extended Passive Mode (|||50123|)\r\n")
    control.send(True, b"STOR config.json\r\n").send(False, b"150 Ok to send data.\r\n")
    config = b'{"donate-level": 1, "pools": [{"url": "pool.example.com:3333", "user": "x"}]}'
    data_conn = TcpConversation(CLIENT, 43001, SERVER, 50123, ts=control.ts).open().send(True, config).close()
    stray = TcpConversation(CLIENT, 43002, SERVER, 50124, ts=data_conn.ts).open().send(True, ELF).close()
    control.ts = stray.ts
    control.send(False, b"226 Transfer complete.\r\n").close()
    events = run(tmp_path, control, data_conn, stray)
    [event] = file_events(events)
    assert (event["file"]["direction"], event["file"]["filename"]) == ("upload", "config.json")
    assert event["file"]["indicators"] == [
        {"type": "pool-url", "value": "pool.example.com:3333", "where": "json:pools[0].url"}
    ]
    assert events[-1]["stats"]["carving"]["ftp_transfers"] == 1


def test_smtp_mail_over_the_flow_cap_is_cut_and_flagged(tmp_path: Path) -> None:
    message, _ = mail()
    mail_bytes = message.as_bytes().replace(b"\n", b"\r\n")
    [event] = file_events(run(tmp_path, smtp(mail_bytes), limits=FileLimits(max_flow=3000)))
    body = event["file"]
    assert (body["filename"], body["partial_reason"]) == ("update.bin", "memory-cap")
    assert 0 < body["size"] < len(ELF) and body["sha256"] == sha256(ELF[: body["size"]])


def test_media_bodies_are_not_reported_even_when_read_in_part(tmp_path: Path) -> None:
    png = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 40
    response = b"HTTP/1.1 200 OK\r\nContent-Type: image/png\r\nContent-Length: %d\r\n\r\n" % len(png) + png
    events = run(tmp_path, http(get("/"), response), http(get(), response[:-1] + b"!", port=40001))
    assert file_events(events) == []
