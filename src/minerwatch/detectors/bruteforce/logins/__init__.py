"""The login protocols brute-force detection reads, one module each; adding one is a module that declares
its `PROTOCOL` (a LoginProtocol: session analyser, default ports, opening test) and one line here."""

from __future__ import annotations

from minerwatch.detectors.bruteforce.logins import ftp, mssql, mysql, postgresql, rdp, redis, ssh, telnet
from minerwatch.detectors.bruteforce.sessions import LoginProtocol

# In the order their default ports are listed (BruteForceSettings.ports).
PROTOCOLS: tuple[LoginProtocol, ...] = (
    ssh.PROTOCOL,
    rdp.PROTOCOL,
    mysql.PROTOCOL,
    mssql.PROTOCOL,
    redis.PROTOCOL,
    ftp.PROTOCOL,
    telnet.PROTOCOL,
    postgresql.PROTOCOL,
)
