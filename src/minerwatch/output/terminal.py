"""Text that came from a capture or a disk, made safe to show on a terminal.

Anything read from traffic or a file system is hostile: an agent string, a login, a file name or a capture
path may carry ANSI escape sequences (terminal injection), bidirectional overrides that reorder what the
analyst reads, or Rich markup (`[/x]` raises, `[blink]` is swallowed). `untrusted()` is the one door through
which such text reaches the console: a Rich `Text`, which is never parsed as markup, whose control characters
are visible `\\xNN`/`\\uNNNN` escapes and whose bytes that were not UTF-8 (surrogate-escaped file names) are
`\\xNN`. Plain one-line messages (stderr errors) use `visible()`.
"""

from __future__ import annotations

import re

from rich.text import Text

# C0 and C1 controls, DEL, lone surrogates (undecodable bytes under surrogateescape), and the Unicode
# format characters that reorder or hide text (bidi embeddings/overrides/isolates, line/paragraph separators).
_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\ud800-\udfff\u2028\u2029\u202a-\u202e\u2066-\u2069\u200e\u200f]")


def _visible(match: re.Match[str]) -> str:
    code = ord(match.group())
    if 0xDC80 <= code <= 0xDCFF:  # surrogateescape: the original byte
        return f"\\x{code - 0xDC00:02x}"
    return f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}"


def visible(text: str) -> str:
    """`text` with every control or reordering character written as an escape (no markup escaping)."""
    return _UNSAFE.sub(_visible, text)


def untrusted(text: object, style: str = "") -> Text:
    """`text` as a Rich `Text` (no markup, no highlighting) with its controls made visible."""
    return Text(visible(str(text)), style=style)
