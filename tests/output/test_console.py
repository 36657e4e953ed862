"""The console summary says exactly what was not analysed, by stage, and nothing that was."""

import io

from minerwatch.output.console import render_summary


def summary(stats: dict) -> str:
    base = {
        "capture": {"packets": 10, "flows_created": 2, "ip_fragments": 4, "ip_reassembled": 2},
        "inspection": {"flows_bypassed": 0},
        "files": [],
        "input_errors": [],
    }
    out = io.StringIO()
    render_summary([], {"stats": base | stats}, out)
    return out.getvalue()


def test_lost_input_is_listed_by_stage():
    text = summary(
        {
            "capture": {"packets": 10, "flows_created": 2, "truncated_packets": 3, "ip_fragments": 4},
            "defrag": {"completed": 2, "expired": 1},
            "inspection": {"flows_bypassed": 0, "flows_evicted_in_analysis": 5},
        }
    )
    line = next(x for x in text.splitlines() if x.startswith("Not analysed"))
    assert "capture: truncated packets 3" in line
    assert "defrag: expired 1" in line
    assert "inspection: flows evicted in analysis 5" in line
    assert "fragments" not in line and "completed" not in line  # reassembled fragments were analysed


def test_nothing_lost_prints_no_such_line_and_bad_clocks_are_said_apart():
    assert "Not analysed" not in summary({})
    text = summary({"capture": {"packets": 10, "flows_created": 2, "bad_timestamps": 7}})
    assert "Not analysed" not in text
    assert "Corrupt timestamps replaced by the capture's clock: 7" in text


def test_findings_name_both_ends():
    """A dropper script's alert comes from the server that sent it: the row must also say who received it."""
    from minerwatch.output.console import FindingDigest

    digest = FindingDigest()
    alert = {"event_type": "alert", "alert": {"signature": "dropper"}, "src_ip": "203.0.113.66"}
    digest(alert | {"dest_ip": "10.1.1.20"})
    digest(alert | {"dest_ip": "10.1.1.20"})
    digest({"event_type": "alert", "alert": {"signature": "no peer"}, "src_ip": "10.1.1.5"})
    out = io.StringIO()
    render_summary(
        [],
        {
            "stats": {
                "capture": {"packets": 1, "flows_created": 1},
                "inspection": {"flows_bypassed": 0},
                "files": [],
                "input_errors": [],
            }
        },
        out,
        digest,
    )
    text = out.getvalue()
    assert "203.0.113.66 -> 10.1.1.20" in text and "10.1.1.5" in text
    assert digest.counts[("alert", "dropper")] == 2 and digest.hosts[("alert", "dropper")] == [
        "203.0.113.66 -> 10.1.1.20"
    ]


def test_incidents_come_first_and_hostile_text_is_escaped():
    stats = {
        "capture": {"packets": 1, "flows_created": 1},
        "inspection": {"flows_bypassed": 0},
        "files": [],
        "input_errors": [],
    }
    incident = {
        "host": "10.0.0.5",
        "status": "compromised",
        "score": 0.97,
        "stages": [{"number": 3, "name": "exploitation"}, {"number": 7, "name": "actions_on_objective"}],
        "attackers": ["\x1b[31mevil[/b]"],
        "spread_to": ["10.0.0.6"],
        "files": [{"sha256": "ab" * 32}],
        "pools": [{"address": "pool.example:3333"}],
    }
    out = io.StringIO()
    render_summary([], {"stats": stats}, out, incidents=[{"incident": incident}])
    text = out.getvalue()
    assert text.index("Incidents") < text.index("No mining found")
    assert "7 actions_on_objective" in text and "pool.example:3333" in text and "abababab" in text
    assert "\x1b" not in text and "\\x1b[31mevil[/b]" in text


def test_thousands_of_incidents_list_the_highest_scores_and_say_how_many_more():
    from minerwatch.output.console import SUMMARY_ROWS, render_findings

    incidents = [
        {
            "incident": {
                "host": f"10.0.{n // 256}.{n % 256}",
                "status": "suspicious",
                "score": round((n % 997) / 1000, 3),
                "stages": [{"number": 7, "name": "actions_on_objective"}],
                "attackers": [],
                "spread_to": [],
                "files": [],
                "pools": [],
            }
        }
        for n in range(3000)
    ]
    out = io.StringIO()
    render_findings([], out, None, incidents)
    text = out.getvalue()
    shown = [line for line in text.splitlines() if "suspicious" in line]
    assert len(shown) == SUMMARY_ROWS == 50
    top = sorted(incidents, key=lambda e: e["incident"]["score"], reverse=True)[:SUMMARY_ROWS]
    assert min(e["incident"]["score"] for e in top) > 0.9
    assert all(f" {e['incident']['host']} " in text for e in top)
    assert " 10.0.0.0 " not in text  # score 0
    assert "the 50 highest of 3,000 incidents by score: the events hold them all" in text
