"""Hostile text reaches the terminal as visible characters, never as escapes or markup."""

from __future__ import annotations

import io

from hypothesis import given
from hypothesis import strategies as st
from rich.console import Console
from rich.text import Text

from minerwatch.output.terminal import untrusted, visible


def test_ansi_and_controls_become_visible() -> None:
    assert visible("a\x1b[2Jb\x07\x9b") == "a\\x1b[2Jb\\x07\\x9b"


def test_bidi_override_and_surrogate_escaped_bytes() -> None:
    assert visible("evil\u202efdp.exe") == "evil\\u202efdp.exe"
    name = b"plot-\xff.plot".decode("utf-8", "surrogateescape")
    assert visible(name) == "plot-\\xff.plot"


def test_markup_is_printed_not_interpreted() -> None:
    out = io.StringIO()
    console = Console(file=out, width=200, color_system="truecolor")
    hostile = "[/x] [blink]boo[/blink] \\"
    console.print(Text("path: ") + untrusted(hostile))
    assert out.getvalue() == "path: [/x] [blink]boo[/blink] \\\n"


@given(st.text())
def test_any_text_prints_as_itself_without_control_characters(text: str) -> None:
    out = io.StringIO()
    Console(file=out, width=100_000, color_system=None, soft_wrap=True).print(untrusted(text), end="")
    printed = out.getvalue()
    assert printed == visible(text)
    assert not any(ord(c) < 0x20 or 0x7F <= ord(c) <= 0x9F for c in printed)
