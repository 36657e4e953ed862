"""Real clients against real servers, recorded on loopback by tests/fixtures/recordings/record_logins.sh
(versions and command lines in the README there): every exploit and login protocol through a whole
analysis. These are the captures that showed psql's SSLRequest hiding COPY FROM PROGRAM and SSH
successes judged as failures (issue 14)."""

from __future__ import annotations

from pathlib import Path

import pytest

from minerwatch.events import SECRET_MASK

RECORDINGS = Path(__file__).resolve().parents[1] / "fixtures" / "recordings"


def of_type(events: list[dict], event_type: str) -> list[dict]:
    return [e[event_type] for e in events if e["event_type"] == event_type]


def test_psql_copy_from_program_after_sslrequest(analyse) -> None:
    """psql 15, sslmode=prefer: SSLRequest answered 'N', startup, SCRAM-SHA-256, then COPY FROM PROGRAM;
    then a query cancelled with ^C (a CancelRequest on its own connection). Both logins succeed: no
    campaign."""
    events = analyse(RECORDINGS / "postgres-psql-15-copy-program.pcapng")
    [alert] = of_type(events, "alert")
    assert alert["signature_id"] == 9100801 and alert["app_proto"] == "pgsql"
    assert {(m["field"], m["excerpt"]) for m in alert["matched"]} == {
        ("pgsql.query", "COPY cmd_exec FROM PROGRAM 'id'")
    }
    [stats] = of_type(events, "stats")
    assert stats["bruteforce"]["attempts"] == 2 and stats["exploits"]["encrypted"] == 0
    assert not of_type(events, "bruteforce")


def test_psql_over_tls_is_counted_not_read(analyse) -> None:
    """The same psql against a server with SSL: 'S', then TLS 1.3. Neither the query nor the login can be
    read; both detectors count the session as encrypted, and nothing is made up."""
    events = analyse(RECORDINGS / "postgres-psql-15-tls.pcapng")
    assert not of_type(events, "alert") and not of_type(events, "bruteforce")
    [stats] = of_type(events, "stats")
    assert stats["exploits"]["encrypted"] == 1 and stats["bruteforce"]["encrypted_logins"] == 1
    assert stats["bruteforce"]["attempts"] == 0


def test_redis_cli_cron_write(analyse) -> None:
    """The worm's sequence, one redis-cli per command: CONFIG SET dir and dbfilename (Redis 7 refuses
    both: protected configs), SET of a cron line that pipes a download into sh, SAVE."""
    events = analyse(RECORDINGS / "redis-cli-7.0-cron-write.pcapng")
    assert {a["signature_id"] for a in of_type(events, "alert")} == {
        9100401,  # CONFIG SET dir /var/spool/cron/
        9100402,  # CONFIG SET dbfilename root
        9100404,  # a value holding a cron line that downloads and runs a script
        9102001,  # curl ... | sh
        9102009,  # cron persistence for a downloaded script
    }


# recording, service, failed, succeeded, username of the success, passwords readable in clear
CAMPAIGNS = [
    ("postgres-hydra-9.4.pcapng", "postgresql", 11, 1, "postgres", False),  # SCRAM hides them
    ("redis-hydra-9.4.pcapng", "redis", 11, 1, None, True),  # AUTH has no user name
    ("mysql-client-10.11-logins.pcapng", "mysql", 11, 1, "app", False),
    ("mysql-hydra-9.4.pcapng", "mysql", 11, 1, "app", False),
    ("ftp-hydra-9.4.pcapng", "ftp", 11, 2, "mwtest", True),  # hydra's success, then curl's
    ("telnet-client-2.4-logins.pcapng", "telnet", 11, 1, "mwtest", True),
]


@pytest.mark.parametrize(("name", "service", "failed", "succeeded", "username", "clear"), CAMPAIGNS)
def test_guessing_campaign_with_its_success(
    analyse, name: str, service: str, failed: int, succeeded: int, username: str | None, clear: bool
) -> None:
    """11 wrong passwords and the right one: the threshold event at the 10th failure, the final event
    with the success, passwords masked unless asked for."""
    events = analyse(RECORDINGS / name)
    threshold, final = of_type(events, "bruteforce")
    assert (threshold["phase"], threshold["service"], threshold["failed"]) == ("threshold", service, 10)
    assert (final["phase"], final["failed"], final["succeeded"]) == ("final", failed, succeeded)
    assert final["success"]["username"] == username and final["judged_by"] == "server-reply"
    if clear:
        assert final["passwords_masked"] and set(final["passwords"]) == {SECRET_MASK}
        shown = of_type(analyse(RECORDINGS / name, show_secrets=True), "bruteforce")[-1]
        assert "123456" in shown["passwords"] and not shown["passwords_masked"]
    else:
        assert "passwords" not in final


def test_hydra_against_sshd(analyse) -> None:
    """hydra (libssh 0.10.6, 4 tasks, up to 6 passwords per connection) finds the password, then the
    OpenSSH client logs in with it and runs `id; uname -a`. Both successes are seen in the lock-step of
    the encrypted login (USERAUTH_SUCCESS is smaller than SERVICE_ACCEPT)."""
    events = analyse(RECORDINGS / "ssh-hydra-9.4.pcapng")
    threshold, final = of_type(events, "bruteforce")
    assert threshold["service"] == "ssh" and final["judged_by"] == "session-shape"
    assert final["failed"] >= 10 and final["succeeded"] == 2 and final["success"] is not None
    assert final["client_software"] == ["libssh_0.10.6", "OpenSSH_9.2p1 Debian-2+deb12u10"]
