"""The cached address normalisation says what ipaddress says, for any text (the cache is only a speed-up)."""

from __future__ import annotations

import ipaddress

from hypothesis import given
from hypothesis import strategies as st

from minerwatch.ingest.fields import ADDRESSES_CACHED, MAX_ADDRESS, _normal, normal_address


def reference(value: str) -> str | None:
    try:
        return str(ipaddress.ip_address(value))
    except ValueError:
        return None


SPELLINGS = st.ip_addresses().flatmap(
    lambda a: st.sampled_from([str(a), str(a).upper(), a.exploded, a.exploded.upper()])
)


@given(st.one_of(SPELLINGS, st.text(max_size=80), st.text(alphabet="0123456789abcdefABCDEF.:%", max_size=70)))
def test_normal_form_is_ipaddress_s(value: str) -> None:
    assert normal_address(value) == reference(value)
    assert normal_address(value) == reference(value)  # a second time: from the cache when short


def test_the_cache_is_bounded_and_skips_long_text() -> None:
    _normal.cache_clear()
    for n in range(ADDRESSES_CACHED + 100):
        normal_address(f"10.{n >> 16 & 255}.{n >> 8 & 255}.{n & 255}")
    assert _normal.cache_info().currsize == ADDRESSES_CACHED
    _normal.cache_clear()
    assert normal_address("1" * (MAX_ADDRESS + 1)) is None and _normal.cache_info().currsize == 0
