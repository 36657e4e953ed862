"""IP normalisation: the inet_pton fast path must agree with ipaddress on every input."""

import ipaddress

import pytest
from hypothesis import given
from hypothesis import strategies as st

from minerwatch.intel import normalize


def by_ipaddress(value: str) -> str:
    """The reference: what ipaddress makes of an address or CIDR (host bits cleared, /32 as a host)."""
    try:
        if "/" not in value:
            return str(ipaddress.ip_address(value.strip()))
        net = ipaddress.ip_network(value.strip(), strict=False)
    except ValueError:
        return "invalid"
    return str(net.network_address) if net.prefixlen == net.max_prefixlen else str(net)


def by_minerwatch(value: str) -> str:
    try:
        return normalize.ip(value)
    except ValueError:
        return "invalid"


octet = st.one_of(st.integers(0, 255).map(str), st.sampled_from(["00", "01", "256", "-1", "", "1e1"]))
prefix = st.one_of(st.integers(0, 40).map(str), st.sampled_from(["", "08", "255.255.0.0", "-1", "x"]))


@given(st.lists(octet, min_size=3, max_size=5), st.one_of(st.none(), prefix), st.sampled_from(["", " "]))
def test_fast_path_agrees_with_ipaddress(parts, length, pad):
    value = pad + ".".join(parts) + ("" if length is None else "/" + length) + pad
    assert by_minerwatch(value) == by_ipaddress(value)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("198.51.100.7", "198.51.100.7"),
        ("198.51.100.7/24", "198.51.100.0/24"),
        ("198.51.100.7/32", "198.51.100.7"),
        ("0.0.0.0/0", "0.0.0.0/0"),
        ("198.51.100.7/255.255.255.0", "198.51.100.0/24"),
        ("::ffff:198.51.100.7", "198.51.100.7"),
        ("2001:DB8::1", "2001:db8::1"),
        ("01.2.3.4", "invalid"),
        ("1.2.3.4/33", "invalid"),
    ],
)
def test_ip_spellings(value, expected):
    assert by_minerwatch(value) == expected
