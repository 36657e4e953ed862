"""File type from the first bytes, by a small table of signatures.

Why not libmagic (python-magic): its descriptions change between libmagic versions, so the same capture
would give different `file` events on different machines, and it needs a system library. What matters
here is a short list of kinds (executables, scripts, archives, configs), each checked and tested below.
"""

from __future__ import annotations

import re
import struct
from dataclasses import dataclass

import orjson


@dataclass(frozen=True, slots=True)
class FileType:
    name: str  # short and stable: "elf", "pe", "shell", "zip", "json", "text", "data"...
    mime: str
    category: str  # executable, script, archive, document, config, text, data
    description: str

    def as_dict(self) -> dict[str, str]:
        return {
            "type": self.name,
            "mime_type": self.mime,
            "category": self.category,
            "magic": self.description,
        }


# (offset, signature, name, mime, category, description), checked in order.
_SIGNATURES: tuple[tuple[int, bytes, str, str, str, str], ...] = (
    (0, b"\xfe\xed\xfa\xce", "macho", "application/x-mach-binary", "executable", "Mach-O 32-bit"),
    (0, b"\xfe\xed\xfa\xcf", "macho", "application/x-mach-binary", "executable", "Mach-O 64-bit"),
    (0, b"\xce\xfa\xed\xfe", "macho", "application/x-mach-binary", "executable", "Mach-O 32-bit LSB"),
    (0, b"\xcf\xfa\xed\xfe", "macho", "application/x-mach-binary", "executable", "Mach-O 64-bit LSB"),
    (0, b"PK\x03\x04", "zip", "application/zip", "archive", "Zip archive"),
    (0, b"PK\x05\x06", "zip", "application/zip", "archive", "Zip archive (empty)"),
    (0, b"\x1f\x8b", "gzip", "application/gzip", "archive", "gzip compressed data"),
    (0, b"BZh", "bzip2", "application/x-bzip2", "archive", "bzip2 compressed data"),
    (0, b"\xfd7zXZ\x00", "xz", "application/x-xz", "archive", "XZ compressed data"),
    (0, b"7z\xbc\xaf\x27\x1c", "7z", "application/x-7z-compressed", "archive", "7-zip archive"),
    (0, b"\x28\xb5\x2f\xfd", "zstd", "application/zstd", "archive", "Zstandard compressed data"),
    (0, b"Rar!\x1a\x07", "rar", "application/vnd.rar", "archive", "RAR archive"),
    (0, b"MSCF\x00\x00\x00\x00", "cab", "application/vnd.ms-cab-compressed", "archive", "Cabinet archive"),
    (257, b"ustar", "tar", "application/x-tar", "archive", "POSIX tar archive"),
    (0, b"%PDF-", "pdf", "application/pdf", "document", "PDF document"),
    (0, b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "ole", "application/x-ole-storage", "document", "OLE2 compound"),
    (0, b"{\\rtf", "rtf", "text/rtf", "document", "RTF document"),
)

# Signatures that `identify` reads further than their bytes (headers, shebang lines).
_ELF = b"\x7fELF"
_MZ = b"MZ"
_CAFEBABE = b"\xca\xfe\xba\xbe"  # Java class or fat Mach-O
_SHEBANG_START = b"#!"

_ELF_MACHINES = {3: "x86", 8: "MIPS", 20: "PowerPC", 21: "PowerPC64", 40: "ARM", 62: "x86-64", 183: "AArch64"}
_ELF_KINDS = {1: "relocatable", 2: "executable", 3: "shared object", 4: "core file"}
_SHEBANG = re.compile(rb"#!\s*(\S+)(?:[ \t]+(\S+))?")
_INTERPRETERS = {
    "sh": "shell", "bash": "shell", "dash": "shell", "ash": "shell", "zsh": "shell", "ksh": "shell",
    "busybox": "shell", "python": "python", "perl": "perl", "ruby": "ruby", "node": "javascript",
    "php": "php", "pwsh": "powershell",
}  # fmt: skip
_SCRIPT_MIME = {"shell": "text/x-shellscript", "python": "text/x-python", "perl": "text/x-perl"}
_TEXT_SAMPLE = 4096


def signatures(categories: frozenset[str]) -> tuple[tuple[int, bytes], ...]:
    """(offset, bytes) that begin every file `identify` puts in one of `categories` (text excepted, which
    has no signature): what the compiled HTTP gate looks for in bodies."""
    fixed = ((0, _ELF, "executable"), (0, _MZ, "executable"), (0, _CAFEBABE, "executable"))
    table = [(offset, signature, category) for offset, signature, _, _, category, _ in _SIGNATURES]
    found = [
        (offset, signature) for offset, signature, category in (*fixed, *table) if category in categories
    ]
    return (*found, (0, _SHEBANG_START)) if "script" in categories else tuple(found)


def identify(data: bytes) -> FileType:
    """The type of a file whose first bytes (the more the better, 4 KiB suffice) are `data`."""
    if data.startswith(_ELF):
        return _elf(data)
    if data.startswith(_MZ):
        return _pe(data)
    if data.startswith(_CAFEBABE) and len(data) >= 8:
        # Shared by Java classes (major version >= 45) and fat Mach-O (a handful of architectures).
        if struct.unpack_from(">I", data, 4)[0] < 45:
            return FileType("macho", "application/x-mach-binary", "executable", "Mach-O universal binary")
        return FileType("java-class", "application/java-vm", "executable", "Java class")
    for offset, signature, name, mime, category, description in _SIGNATURES:
        if data.startswith(signature, offset):
            return FileType(name, mime, category, description)
    if data.startswith(_SHEBANG_START):
        return _script(data)
    return _text_or_data(data)


def _elf(data: bytes) -> FileType:
    if len(data) < 20:
        return FileType("elf", "application/x-executable", "executable", "ELF (truncated header)")
    bits = {1: "32-bit", 2: "64-bit"}.get(data[4], "?-bit")
    order = "<" if data[5] == 1 else ">"
    kind, machine = struct.unpack_from(order + "HH", data, 16)
    description = f"ELF {bits} {'LSB' if order == '<' else 'MSB'} {_ELF_KINDS.get(kind, 'unknown kind')}"
    description += f", {_ELF_MACHINES.get(machine, f'machine {machine}')}"
    mime = "application/x-sharedlib" if kind == 3 else "application/x-executable"
    return FileType("elf", mime, "executable", description)


def _pe(data: bytes) -> FileType:
    if len(data) >= 0x40:
        offset = struct.unpack_from("<I", data, 0x3C)[0]
        if data.startswith(b"PE\x00\x00", offset):
            characteristics = (
                struct.unpack_from("<H", data, offset + 22)[0] if len(data) >= offset + 24 else 0
            )
            what = "DLL" if characteristics & 0x2000 else "executable"
            return FileType("pe", "application/vnd.microsoft.portable-executable", "executable", f"PE {what}")
    return FileType("mz", "application/x-dosexec", "executable", "MS-DOS executable")


def _script(data: bytes) -> FileType:
    match = _SHEBANG.match(data, 0, 256)
    program = b""
    if match:
        program = match[1].rsplit(b"/", 1)[-1]
        if program == b"env" and match[2]:
            program = match[2]
    name = program.decode("ascii", "replace").rstrip("0123456789.")
    language = _INTERPRETERS.get(name, "script")
    mime = _SCRIPT_MIME.get(language, "text/x-script")
    return FileType(language, mime, "script", f"{name or 'unknown'} script")


def _text_or_data(data: bytes) -> FileType:
    sample = data[:_TEXT_SAMPLE]
    if not sample or b"\x00" in sample:
        return FileType("data", "application/octet-stream", "data", "data" if sample else "empty")
    try:
        sample.decode("utf-8")
    except UnicodeDecodeError as exc:
        if exc.start < len(sample) - 4:  # a multi-byte character cut at the sample's end is fine
            return FileType("data", "application/octet-stream", "data", "data")
    if sample.lstrip()[:1] in (b"{", b"["):
        try:
            orjson.loads(data)
            return FileType("json", "application/json", "config", "JSON data")
        except orjson.JSONDecodeError:
            pass
    return FileType("text", "text/plain", "text", "text")
