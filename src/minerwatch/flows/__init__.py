"""Flow-level work in Python: TCP reassembly, per-flow sessions, inspection and bypass decisions.

The flow table itself lives in the compiled hot path (minerwatch.decode); this package owns what happens to
the few packets it hands up.
"""
