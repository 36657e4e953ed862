"""Each login form miners use, split into its parts."""

import pytest

from minerwatch.identity.login import parse_login

XMR = "44AFFq5kSiGBoZ4NMDwYtN18obc8AemS33DBLWs3H7otXft3XjrpDtQGv7SqSsaBYBb98uNbr2VBBEt7f2wfn3RVGQBEP3A"
ETH = "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"


@pytest.mark.parametrize(
    ("login", "worker", "difficulty"),
    [
        (XMR, None, None),
        (f"{XMR}.rig1", "rig1", None),
        (f"{XMR}/rig1", "rig1", None),
        (f"{XMR}+50000", None, 50000),
        (f"{XMR}.rig1+50000", "rig1", 50000),
    ],
)
def test_wallet_worker_difficulty_forms(login: str, worker: str | None, difficulty: int | None) -> None:
    info = parse_login(login)
    assert info.kind == "wallet"
    assert info.wallet is not None and info.wallet.coin == "XMR"
    assert (info.account, info.worker, info.fixed_difficulty) == (XMR, worker, difficulty)


def test_colon_separates_password_unless_given() -> None:
    assert parse_login(f"{XMR}:secret").password == "secret"
    assert parse_login(f"{XMR}:secret", "x").password == "x"
    assert parse_login(f"{XMR}:secret").account == XMR


def test_monero_payment_id_between_wallet_and_worker() -> None:
    info = parse_login(f"{XMR}.0123456789abcdef.rig2")
    assert (info.payment_id, info.worker) == ("0123456789abcdef", "rig2")


def test_unmineable_coin_prefix_and_referral() -> None:
    info = parse_login(f"ETH:{ETH}.w1#abcd-1234")
    assert (info.coin_hint, info.account, info.worker, info.referral) == ("ETH", ETH, "w1", "abcd-1234")
    assert info.password is None


def test_email_login() -> None:
    info = parse_login("user@example.com")
    assert (info.kind, info.account, info.wallet) == ("email", "user@example.com", None)


def test_plain_pool_username() -> None:
    info = parse_login("johndoe.rig1")
    assert (info.kind, info.account, info.worker) == ("username", "johndoe", "rig1")


def test_wallet_with_bad_checksum_is_flagged() -> None:
    info = parse_login(XMR[:-1] + "B" + ".rig")
    assert info.kind == "wallet_bad_checksum" and info.worker == "rig"


def test_non_numeric_plus_suffix_is_not_a_difficulty() -> None:
    info = parse_login("johndoe+abc")
    assert info.fixed_difficulty is None and info.account == "johndoe+abc"


@pytest.mark.parametrize("login", ["", "   "])
def test_empty(login: str) -> None:
    assert parse_login(login).kind == "empty"


def test_overlong_and_huge_difficulty_are_rejected_cleanly() -> None:
    assert parse_login("a" * 10_000).kind == "invalid"
    assert parse_login("johndoe+" + "9" * 300).fixed_difficulty is None
