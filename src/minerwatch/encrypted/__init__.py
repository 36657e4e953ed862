"""Mining that hides in encryption (issue 15): per-flow statistics and the flow model (flowstats.py), what
TLS connections show around their encrypted payload (handshake.py, names.py, chia.py), the cache of pairs
confirmed in cleartext (paircache.py), and the fusion of these kinds of evidence into one judgement
(evidence.py, fusion.py). docs/encrypted.md explains the judgement."""
