"""Benchmark: the HTML report of a large analysis, built, rendered and opened in headless Chromium.

Input: synthetic events (tests/report_inputs.py `big_events`): N incident hosts, each with its share of M
mining events, an incident and a host event. Prints a table: hosts, events, build s, render s, MB, the time
Chromium takes from navigation to the incident table's first page shown, and from a click on a linked
number to the event table showing those events (best and median of --repeat).

    python benchmarks/bench_report.py [--hosts 10000] [--events 100000] [--repeat 3] [--chromium PATH]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from playwright.sync_api import sync_playwright

from minerwatch.output.report import ReportBuilder, render
from report_inputs import big_events

BROWSER_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def open_seconds(chromium: str, page_path: Path, repeat: int) -> tuple[list[float], list[float]]:
    """Seconds from navigation to the incident table's first page shown, and from a click on an incident's
    score to the event table filtered to its events; one fresh page per run."""
    times, clicks = [], []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=BROWSER_ARGS)
        for _ in range(repeat):
            page = browser.new_page()
            start = time.perf_counter()
            page.goto(page_path.as_uri())
            page.wait_for_selector("#incidents tbody tr")
            times.append(time.perf_counter() - start)
            start = time.perf_counter()
            page.click("#incidents tbody tr a[data-ev]")
            page.wait_for_selector("#events tbody tr")
            clicks.append(time.perf_counter() - start)
            page.close()
        browser.close()
    return times, clicks


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hosts", type=int, default=10_000)
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--chromium", default="/usr/bin/chromium")
    args = parser.parse_args()
    events = big_events(args.hosts, args.events)
    start = time.perf_counter()
    builder = ReportBuilder()
    for event in events:
        builder(event)
    report = builder.build()
    built = time.perf_counter()
    html = render(report, "html")
    rendered = time.perf_counter()
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "report.html"
        path.write_bytes(html)
        opened, clicked = open_seconds(args.chromium, path, args.repeat)
    print(
        "| hosts | events | build s | render s | MB | open s (best, median) | events shown s (best, median) |"
    )
    print("|---:|---:|---:|---:|---:|---:|---:|")
    print(
        f"| {args.hosts:,} | {len(events):,} | {built - start:.2f} | {rendered - built:.2f} |"
        f" {len(html) / 1e6:.1f} | {min(opened):.2f}, {statistics.median(opened):.2f} |"
        f" {min(clicked):.2f}, {statistics.median(clicked):.2f} |"
    )


if __name__ == "__main__":
    main()
