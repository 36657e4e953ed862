"""Algorithm aliases, job shapes, and coin inference with its basis."""

import pytest

from minerwatch.identity.algorithm import ALGORITHMS, algorithm_from_job, normalise_algorithm
from minerwatch.identity.coin import infer_coin
from minerwatch.identity.wallet import validate_wallet

XMR = "44AFFq5kSiGBoZ4NMDwYtN18obc8AemS33DBLWs3H7otXft3XjrpDtQGv7SqSsaBYBb98uNbr2VBBEt7f2wfn3RVGQBEP3A"
H64 = "ab" * 32


@pytest.mark.parametrize(
    ("name", "canonical"),
    [
        ("randomx", "rx/0"),
        ("RandomX", "rx/0"),
        ("rx/0", "rx/0"),
        ("cryptonight", "cn/0"),
        ("cryptonight-r", "cn/r"),
        ("CN/R", "cn/r"),
        ("cn/half", "cn/half"),
        ("chukwa", "argon2/chukwa"),
        ("randomwow", "rx/wow"),
        ("KAWPOW", "kawpow"),
        ("daggerhashimoto", "ethash"),
        ("etchash", "etchash"),
        ("equihash 144,5", "equihash/144_5"),
        ("zhash", "equihash/144_5"),
        ("equihash192_7", "equihash/192_7"),
        ("Equihash", "equihash/200_9"),
        ("sha256", "sha256d"),
        ("scrypt", "scrypt"),
        ("x11", "x11"),
        ("autolykos", "autolykos2"),
        ("heavyhash", "kheavyhash"),
    ],
)
def test_aliases(name: str, canonical: str) -> None:
    assert normalise_algorithm(name) == canonical


def test_every_canonical_name_maps_to_itself() -> None:
    assert all(normalise_algorithm(name) == name for name in ALGORITHMS)


@pytest.mark.parametrize(
    ("name", "expected"), [("newalgo", "newalgo"), ("<script>", "unknown"), ("x" * 100, "unknown")]
)
def test_unknown_names(name: str, expected: str) -> None:
    assert normalise_algorithm(name) == expected


def test_monero_job_shapes() -> None:
    blob = "0e0e" + "00" * 74
    assert algorithm_from_job({"blob": blob, "seed_hash": H64, "target": "b88d0600"}).algorithm == "rx/0"
    assert algorithm_from_job({"blob": blob, "target": "b88d0600"}).algorithm == "cn/0"
    assert algorithm_from_job({"blob": blob, "algo": "rx/wow"}).algorithm == "rx/wow"
    assert algorithm_from_job({"blob": "00"}) is None


def test_notify_shapes() -> None:
    bitcoin = ["j1", H64, "01000000", "ffffffff", [H64], "20000000", "1d00ffff", "5f5e1000", True]
    equihash = ["j1", "04000000", H64, H64, H64, "5f5e1000", "1d00ffff", True]
    ethash = ["j1", H64, "0x" + H64, True]
    kawpow = ["j1", H64, H64, H64, True, 1_000_000, "1b00ffff"]
    assert algorithm_from_job(bitcoin).algorithm == "sha256d"
    assert algorithm_from_job(equihash).algorithm == "equihash/200_9"
    assert algorithm_from_job(ethash).algorithm == "ethash"
    assert algorithm_from_job(kawpow).algorithm == "kawpow"
    assert algorithm_from_job(["j1"]) is None
    assert algorithm_from_job("not a job") is None


def test_coin_from_wallet_notes_conflicting_algorithm() -> None:
    guess = infer_coin(validate_wallet(XMR), "kawpow", "gulf.moneroocean.stream")
    assert guess.coin == "XMR"
    assert any("RVN" in line for line in guess.basis)


def test_coin_from_algorithm_then_host() -> None:
    assert infer_coin(None, "randomx", None).coin == "XMR"
    assert infer_coin(None, None, "xmr-eu1.nanopool.org").coin == "XMR"
    assert infer_coin(None, None, "rvn.2miners.com").coin == "RVN"
    assert infer_coin(None, None, "example.com").coin is None


def test_bad_checksum_wallet_is_the_weakest_evidence() -> None:
    broken = validate_wallet(XMR[:-1] + "B")
    assert infer_coin(broken, None, None).basis[0].endswith("checksum is wrong")
    assert infer_coin(broken, "etchash", None).coin == "ETC"
