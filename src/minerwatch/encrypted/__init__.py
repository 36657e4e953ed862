"""Mining that hides in encryption (issue 15): flow statistics, the flow model, and the evidence fused
from them with pair cache, TLS fingerprints and names."""
