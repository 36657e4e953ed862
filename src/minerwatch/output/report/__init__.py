"""The analyst's report (`minerwatch report`, `analyze --report`): one story per incident, as a
self-contained HTML page, Markdown for tickets, or JSON (the same content as data)."""

from __future__ import annotations

from typing import Any

import orjson

from minerwatch.output.report.markdown import render_markdown
from minerwatch.output.report.model import ReportBuilder

FORMATS = ("html", "markdown", "json")


def render(report: dict[str, Any], form: str) -> bytes:
    """The report in one of FORMATS, as bytes ready to write."""
    if form == "html":
        # Jinja2 is imported for a page only: every analysis builds a report model, few write a page.
        from minerwatch.output.report.html import render_html

        return render_html(report).encode()
    if form == "markdown":
        return render_markdown(report).encode()
    return orjson.dumps(report, option=orjson.OPT_INDENT_2 | orjson.OPT_APPEND_NEWLINE)


__all__ = ["FORMATS", "ReportBuilder", "render"]
