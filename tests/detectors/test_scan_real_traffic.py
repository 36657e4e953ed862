"""The scan detector on busy normal traffic made by real programs: the real-traffic benchmark capture
(`real_traffic` in conftest.py: curl clients fetching from Python's HTTP and HTTPS server and asking
dnsmasq with dig, in two network namespaces). Hundreds of short connections to a few ports of one server,
none of them a probe of a scan. (The benign corpus captures are checked for scans by test_corpus.py.)"""

from __future__ import annotations


def test_normal_traffic_raises_no_scan(real_traffic, analyse):
    events = analyse(real_traffic)
    stats = events[-1]["stats"]
    assert stats["capture"]["flows_created"] >= 100  # the traffic is there (353 in a 20 s take on 2 cores)
    assert [e for e in events if e["event_type"] in ("scan", "incident", "host")] == []
    assert stats["scan"]["scans"] == 0
