"""Every core: one analysis split over worker processes by flow, merged by one correlator process.

Each worker reads the whole capture and follows only the flows whose address pair hashes to its bucket
(nfstream's method: byte ranges of a file would cut TCP streams); DNS flows are followed by every worker,
which reports only its own. Whatever spans flows (host verdicts, incidents, brute-force campaigns, scans,
intel alerts seen once per host) is one object in the correlator process, which workers reach through
forwarded calls (relay.py). The correlator replays the workers' output in the order one process would
have produced it (correlator.py), so the events are those of a single-process run (docs/deploy.md says
what may differ). run.py starts the processes of `analyze --workers`, live.py those of `live --workers`,
and archive.py runs one task per capture on a Dask cluster (`analyze --dask`).
"""
