"""Pool login parsing: split what a miner sends as its login into wallet, worker, difficulty and more.

Forms seen in the wild (xmrig/pool docs, MoneroOcean, NiceHash, unMineable):
`wallet`, `wallet.worker`, `wallet/worker`, `wallet+diff`, `wallet.worker+diff`, `wallet:password`,
`COIN:wallet.worker#referral` (unMineable), Monero `wallet.paymentid.worker`, e-mail logins
(`user@example.com`, ethminer `--email` pools) and plain pool account names.
"""

import re
from dataclasses import dataclass

from minerwatch.identity.wallet import WalletInfo, validate_wallet

MAX_LOGIN_LENGTH = 512  # far above any real login; longer input is hostile or garbage
_EMAIL = re.compile(r"[^@\s]{1,64}@[A-Za-z0-9-]{1,63}(\.[A-Za-z0-9-]{1,63})+")
_TICKER = re.compile(r"[A-Za-z0-9]{2,10}")
_USERNAME = re.compile(r"[\w.\-]{1,64}")
_PAYMENT_ID = re.compile(r"[0-9a-fA-F]{16}|[0-9a-fA-F]{64}")
_WORKER_SEPARATORS = (".", "/")


@dataclass(frozen=True, slots=True)
class LoginInfo:
    """A parsed login. kind: wallet, wallet_bad_checksum, email, username, empty or invalid."""

    kind: str
    account: str = ""
    wallet: WalletInfo | None = None
    worker: str | None = None
    fixed_difficulty: int | None = None
    payment_id: str | None = None
    coin_hint: str | None = None
    referral: str | None = None
    password: str | None = None


def _split_last(text: str, sep: str) -> tuple[str, str | None]:
    head, found, tail = text.rpartition(sep)
    return (head, tail) if found else (text, None)


def _split_worker(rest: str) -> tuple[str, str | None]:
    positions = [rest.find(sep) for sep in _WORKER_SEPARATORS if sep in rest]
    if not positions:
        return rest, None
    cut = min(positions)
    return rest[:cut], rest[cut + 1 :] or None


def _kind(account: str, wallet: WalletInfo | None) -> str:
    if wallet is not None:
        return "wallet_bad_checksum" if wallet.checksum_valid is False else "wallet"
    return "username" if _USERNAME.fullmatch(account) else "invalid"


def split_password(login: str) -> tuple[str | None, str, str | None]:
    """(coin ticker, the login without ticker and password, the password after its colon).

    `COIN:wallet...` when the left side of the first colon is a ticker and the right side carries a
    wallet; otherwise that colon separates the password (`wallet:password`). output/secrets.py masks
    logins with this very split, so what is masked is exactly what identity reads as the password.
    """
    head, sep, tail = login.partition(":")
    if not sep:
        return None, login, None
    if _TICKER.fullmatch(head) and validate_wallet(_split_worker(tail.split("#")[0])[0]):
        return head.upper(), tail, None
    return None, head, tail


def parse_login(login: str, password: str | None = None) -> LoginInfo:
    """Split a pool login into its parts and validate the wallet in it. Never raises."""
    if not isinstance(login, str) or len(login) > MAX_LOGIN_LENGTH:
        return LoginInfo("invalid")
    rest = login.strip()
    if not rest:
        return LoginInfo("empty", password=password)
    if _EMAIL.fullmatch(rest):
        return LoginInfo("email", account=rest, password=password)

    coin_hint, rest, in_login = split_password(rest)
    password = in_login if password is None else password

    rest, referral = _split_last(rest, "#")
    rest, difficulty_text = _split_last(rest, "+")
    difficulty = None
    if difficulty_text is not None:
        if difficulty_text.isascii() and difficulty_text.isdigit() and len(difficulty_text) <= 20:
            difficulty = int(difficulty_text)
        else:
            rest = f"{rest}+{difficulty_text}"  # not a difficulty: keep it as part of the name

    account, worker = _split_worker(rest)
    wallet = validate_wallet(account)
    payment_id = None
    if wallet is not None and wallet.coin == "XMR" and worker:
        first, _, remainder = worker.partition(".")
        if _PAYMENT_ID.fullmatch(first):
            payment_id, worker = first, remainder or None
    return LoginInfo(
        _kind(account, wallet),
        account=account,
        wallet=wallet,
        worker=worker,
        fixed_difficulty=difficulty,
        payment_id=payment_id,
        coin_hint=coin_hint,
        referral=referral,
        password=password,
    )
