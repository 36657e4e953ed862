"""The report in a real browser: Debian's headless Chromium, driven by Playwright (no browser download).

The page must render without a console error, make no request but for itself, and show the incident,
stages and pool of the demonstration capture and of a real miner recording. Skipped, with the reason,
where Chromium is not installed, unless MINERWATCH_REQUIRE_BROWSER is set (CI sets it: .ci/run installs
Chromium, so a missing browser there is a failure, not a skip).
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from minerwatch.output.report import ReportBuilder, render
from report_inputs import demo_events

RECORDING = Path(__file__).resolve().parents[1] / "fixtures/recordings/xmrig-6.16.0-cryptonote.pcapng"
EVENT_IDS = "tables.events.rows.map(r => r[0])"
ARGS = ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync"]  # fmt: skip


@pytest.fixture(scope="module")
def browser():
    executable = shutil.which("chromium") or shutil.which("chromium-browser")
    if executable is None:
        if os.environ.get("MINERWATCH_REQUIRE_BROWSER"):
            pytest.fail("MINERWATCH_REQUIRE_BROWSER is set but chromium is not installed")
        pytest.skip("Debian's chromium is not installed (apt-get install chromium); .ci/run installs it")
    playwright = pytest.importorskip("playwright.sync_api")
    with playwright.sync_playwright() as driver:
        instance = driver.chromium.launch(executable_path=executable, args=ARGS)
        yield instance
        instance.close()


def open_report(browser, tmp_path: Path, events: list[dict]):
    builder = ReportBuilder()
    for event in events:
        builder(event)
    path = tmp_path / "report.html"
    path.write_bytes(render(builder.build(), "html"))
    page = browser.new_page(viewport={"width": 1366, "height": 800})
    requests: list[str] = []
    problems: list[str] = []
    page.on("request", lambda request: requests.append(request.url))
    page.on("console", lambda message: problems.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.goto(path.as_uri())
    page.wait_for_load_state("load")
    return page, requests, problems, path


def table_text(page, name: str) -> str:
    page.locator(f'[data-table="{name}"]').scroll_into_view_if_needed()
    page.wait_for_selector(f'[data-table="{name}"] tbody tr')
    return page.locator(f'[data-table="{name}"]').inner_text()


def test_demo_report_renders_offline_with_incident_stages_and_pool(browser, tmp_path):
    page, requests, problems, path = open_report(browser, tmp_path, demo_events(tmp_path))
    incident = page.locator('article.incident[data-host="10.1.1.20"]')
    assert incident.count() == 1
    reached = incident.locator("ol.strip li.reached").evaluate_all("els => els.map(e => e.dataset.stage)")
    assert reached == ["attempted_attack", "exploitation", "implant_download", "actions_on_objective"]
    assert "203.0.113.50" in incident.locator("svg.graph").inner_html()  # the attacker, in the graph
    assert incident.locator("svg.timeline circle.dot").count() >= len(reached)
    assert "Redis" in table_text(page, "incident-0-evidence")
    assert "198.51.100.7:3333" in table_text(page, "pools")
    assert page.locator('[data-count="compromised"]').inner_text() == "2"
    assert "10.1.1.20" in table_text(page, "verdicts")
    assert requests == [path.as_uri()] and problems == []
    page.close()


def test_a_linked_number_shows_the_events_behind_it(browser, tmp_path):
    page, _, problems, _ = open_report(browser, tmp_path, demo_events(tmp_path))
    link = page.locator('[data-table="pools"] a[data-ev]').first
    table_text(page, "pools")
    wanted = set(link.get_attribute("data-ev").split(","))
    link.click()
    page.wait_for_selector('[data-table="events"] tbody tr')
    shown = page.locator('[data-table="events"] tbody tr td:first-child').all_inner_texts()
    assert shown and set(shown) <= wanted
    assert problems == []
    page.close()


def test_tables_sort_filter_and_page(browser, tmp_path):
    page, _, problems, _ = open_report(browser, tmp_path, demo_events(tmp_path))
    table_text(page, "events")
    events = page.locator('[data-table="events"]')
    assert events.locator("tbody tr").count() == 25  # a page
    events.locator("input").fill("cryptonote")
    texts = events.locator("tbody tr").all_inner_texts()
    assert texts and all("cryptonote" in t for t in texts)
    events.locator("input").fill("")
    events.locator("th button").first.click()
    events.locator("th button").first.click()  # descending by id
    first = int(events.locator("tbody tr td").first.inner_text())
    ids = page.evaluate(f"JSON.parse(document.getElementById('report-data').textContent).{EVENT_IDS}")
    assert first == max(ids)
    assert problems == []
    page.close()


def test_real_miner_recording_report(browser, tmp_path, analyse):
    page, requests, problems, path = open_report(browser, tmp_path, analyse(RECORDING))
    incident = page.locator('article.incident[data-host="127.0.0.1"]')
    reached = incident.locator("ol.strip li.reached").evaluate_all("els => els.map(e => e.dataset.stage)")
    assert reached == ["actions_on_objective"]
    assert "cryptonote" in table_text(page, "pools")
    assert "xmrig" in table_text(page, "families")
    assert requests == [path.as_uri()] and problems == []
    page.close()
