"""Threat intelligence: a local knowledge base of indicators and O(1)-per-lookup matching.

Entry points (see docs/intel.md):
- `IntelMatcher.load(db_path=None)` then `match_domain/ip/url/wallet/hash/agent/ja3/ja4/port`, each
  returning a list of `Hit` (with `hit.as_alert()` for the alert event body);
- `DnsCache` to attribute connections to bare IPs to the names that resolved to them;
- `KnowledgeBase.open(path)` to import, remove and `learn(...)` discovered pools (intel/learn.py);
  `KnowledgeBase.read(path)` to read without writing anything.
"""

from minerwatch.intel.dnscache import DnsCache
from minerwatch.intel.matcher import IntelMatcher
from minerwatch.intel.model import Hit, Indicator
from minerwatch.intel.store import KnowledgeBase, default_path

__all__ = ["DnsCache", "Hit", "Indicator", "IntelMatcher", "KnowledgeBase", "default_path"]
