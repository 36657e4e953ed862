"""Files sent over FTP: the control channel announces the data connection, the data connection carries it.

This module reads only what tying the two needs from the control channel (PASV/EPSV/PORT/EPRT addresses,
RETR/STOR/STOU/APPE names, the 150 size and the final reply); the FTP login and brute-force view is
protocols/ftp.py's. An expected data connection is keyed by the (address, port) its server side will have.
A file is reported once its data connection has ended and the control channel has answered (226 or an
error) or ended, so that an aborted transfer (426) is flagged partial.
"""

from __future__ import annotations

import ipaddress
import re
from collections import OrderedDict
from dataclasses import dataclass, field

from minerwatch.decode import Flow
from minerwatch.detectors.files.carve import Budget, Carve, FileLimits
from minerwatch.detectors.files.report import FileReporter, Transfer
from minerwatch.flows.info import FlowInfo
from minerwatch.flows.opening import Opening, opening

FTP_PORTS = frozenset({21})
MAX_LINE = 4096
MAX_EXPECTED = 4096  # announced data connections waiting to be opened, all control flows together
MAX_TRANSFERS = 16  # transfers of one control connection waiting for their data or reply
_DOWNLOAD, _UPLOAD = frozenset({"RETR"}), frozenset({"STOR", "STOU", "APPE"})
_HOST_PORT = re.compile(r"(\d{1,3}),(\d{1,3}),(\d{1,3}),(\d{1,3}),(\d{1,3}),(\d{1,3})")
_EPSV = re.compile(r"\((.)\1\1(\d{1,5})\1\)")
_SIZE = re.compile(r"\((\d{1,18}) bytes\)")
_GREETING = re.compile(rb"220[ -][^\r\n]{0,200}ftp", re.IGNORECASE)
_CLIENT_FIRST = (b"USER ", b"user ", b"AUTH ", b"FEAT")

Endpoint = tuple[str, int]


def looks_like_ftp(info: FlowInfo, first: bytes, to_server: bool) -> bool:
    if info.server_port in FTP_PORTS:  # unless it opens like another protocol (TLS, SSH, HTTP)
        return opening(first) is Opening.OTHER
    return bool(_GREETING.match(first)) if not to_server else first.startswith(_CLIENT_FIRST)


def parse_host_port(text: str) -> Endpoint | None:
    """`h1,h2,h3,h4,p1,p2` (PORT argument, 227 reply) as an address and port."""
    match = _HOST_PORT.search(text)
    if match is None or any(int(n) > 255 for n in match.groups()):
        return None
    h1, h2, h3, h4, p1, p2 = (int(n) for n in match.groups())
    return f"{h1}.{h2}.{h3}.{h4}", p1 * 256 + p2


def parse_eprt(argument: str) -> Endpoint | None:
    """`|1|132.235.1.2|6275|` (RFC 2428) as an address and port."""
    parts = argument.split(argument[:1]) if argument else []
    if len(parts) != 5 or not parts[3].isdigit():
        return None
    try:
        return str(ipaddress.ip_address(parts[2])), int(parts[3])
    except ValueError:
        return None


def parse_epsv(reply: str) -> int | None:
    """The port of a 229 reply: `Entering Extended Passive Mode (|||6446|)`."""
    match = _EPSV.search(reply)
    return int(match[2]) if match and 0 < int(match[2]) < 65536 else None


@dataclass
class FtpTransfer:
    control: FlowInfo
    mode: str  # "passive" or "active"
    command: str | None = None
    filename: str | None = None
    announced_size: int | None = None
    reply: tuple[int, str] | None = None  # final reply to the transfer command
    carve: Carve | None = None
    data_flow: FlowInfo | None = None
    data_from_client: bool = False
    data_ended: bool = False
    control_ended: bool = False
    last_ts: float = 0.0
    keys: list[Endpoint] = field(default_factory=list)


class FtpFiles:
    """State shared by all control and data connections of an analysis."""

    def __init__(self, reporter: FileReporter, limits: FileLimits, budget: Budget) -> None:
        self.reporter = reporter
        self.limits = limits
        self.budget = budget
        self.expected: OrderedDict[Endpoint, FtpTransfer] = OrderedDict()
        self.open: dict[int, list[FtpTransfer]] = {}  # control flow id -> its transfers, oldest first

    def expect(self, transfer: FtpTransfer, endpoints: list[Endpoint]) -> None:
        transfers = self.open.setdefault(transfer.control.flow_id, [])
        transfers.append(transfer)
        if len(transfers) > MAX_TRANSFERS:
            self.forget(transfers[0])
        for endpoint in dict.fromkeys(endpoints):
            self.expected[endpoint] = transfer
            self.expected.move_to_end(endpoint)
            transfer.keys.append(endpoint)
        while len(self.expected) > MAX_EXPECTED:
            self.expected.popitem(last=False)

    def data_analyzer(self, info: FlowInfo, first: bytes, to_server: bool) -> FtpDataAnalyzer | None:
        """StreamFactory for the expected flows (ExpectedFlows): a flow whose server side was announced
        on a control channel. Asked only while `expected` holds an endpoint, whatever the flow opens with
        (a transferred file may start with any bytes)."""
        transfer = self.expected.get((info.server_ip, info.server_port))
        if transfer is None or transfer.carve is not None:
            return None
        for key in transfer.keys:
            self.expected.pop(key, None)
        transfer.data_flow = info
        transfer.data_from_client = to_server
        transfer.carve = Carve(Budget(self.limits.max_flow, self.budget), self.limits.max_file)
        return FtpDataAnalyzer(self, transfer)

    def settle(self, transfer: FtpTransfer) -> None:
        """Report the transfer once its data connection has ended and its control side has answered."""
        if transfer.carve is None or not transfer.data_ended:
            return
        if transfer.reply is None and not transfer.control_ended:
            return
        self.reporter.stats.ftp_transfers += 1
        carve = transfer.carve
        if transfer.reply is not None and transfer.reply[0] >= 400:
            carve.mark_partial("aborted")
        elif transfer.announced_size is not None and carve.size < transfer.announced_size:
            carve.mark_partial("connection-closed")
        assert transfer.data_flow is not None
        ftp = {
            "command": transfer.command,
            "filename": transfer.filename,
            "mode": transfer.mode,
            "control_flow_id": transfer.control.flow_id,
            "reply_code": transfer.reply[0] if transfer.reply else None,
            "reply": transfer.reply[1] if transfer.reply else None,
        }
        report = Transfer(
            "ftp",
            "upload" if transfer.command in _UPLOAD else "download",
            transfer.data_from_client,
            transfer.filename,
            {"ftp": ftp},
            transfer_size=transfer.announced_size,
        )
        self.reporter.report(transfer.data_flow, transfer.last_ts, report, carve.close())
        self.forget(transfer)

    def forget(self, transfer: FtpTransfer) -> None:
        """Drop a transfer from the tables and give back the memory its file held."""
        for key in transfer.keys:
            if self.expected.get(key) is transfer:
                del self.expected[key]
        transfers = self.open.get(transfer.control.flow_id)
        if transfers is not None and transfer in transfers:
            transfers.remove(transfer)
            if not transfers:
                del self.open[transfer.control.flow_id]
        if transfer.data_flow is None:
            self.reporter.stats.ftp_data_unmatched += 1
        if transfer.carve is not None:
            transfer.carve.release()
            transfer.carve = None  # its data connection, if still open, carves no more

    def control_ended(self, control: FlowInfo) -> None:
        """Report what is complete; a transfer whose data still flows is reported when its data ends."""
        for transfer in list(self.open.get(control.flow_id, [])):
            transfer.control_ended = True
            if transfer.data_flow is None:
                self.forget(transfer)
            else:
                self.settle(transfer)

    def finish(self) -> None:
        for transfers in list(self.open.values()):
            for transfer in list(transfers):
                transfer.control_ended = True
                if transfer.carve is not None and not transfer.data_ended:
                    transfer.carve.mark_partial("connection-closed")
                    transfer.data_ended = True
                self.settle(transfer)
                if transfer in transfers:
                    self.forget(transfer)
        self.expected.clear()


class FtpControlAnalyzer:
    """Follows one control connection: commands from the client, final reply lines from the server."""

    def __init__(self, files: FtpFiles, info: FlowInfo) -> None:
        self.files = files
        self.info = info
        self.buffers = {True: bytearray(), False: bytearray()}
        self.current: FtpTransfer | None = None  # set up by the last PASV/EPSV/PORT/EPRT
        self.awaiting: FtpTransfer | None = None  # the transfer whose final reply comes next
        self.failed = False

    def data(self, to_server: bool, data: bytes, ts: float, gap: bool) -> None:
        if gap or self.failed:
            self.failed = True
            return
        buffer = self.buffers[to_server]
        buffer += data
        while (newline := buffer.find(b"\n")) >= 0:
            line = bytes(buffer[:newline]).rstrip(b"\r").decode("utf-8", "replace")
            del buffer[: newline + 1]
            if to_server:
                self._command(line)
            else:
                self._reply(line, ts)
        if len(buffer) > MAX_LINE:  # not FTP, or hostile: stop following this connection
            self.failed = True
            self.buffers = {True: bytearray(), False: bytearray()}

    def _command(self, line: str) -> None:
        verb, _, argument = line.partition(" ")
        verb = verb.upper()
        if verb in ("PORT", "EPRT"):
            endpoint = parse_host_port(argument) if verb == "PORT" else parse_eprt(argument)
            if endpoint is not None:
                self._expect("active", [endpoint, (self.info.client_ip, endpoint[1])])
        elif verb in _DOWNLOAD | _UPLOAD and self.current is not None:
            self.current.command, self.current.filename = verb, argument or None
            self.awaiting, self.current = self.current, None

    def _reply(self, line: str, ts: float) -> None:
        if len(line) < 4 or not line[:3].isdigit() or line[3] == "-":
            return
        code, text = int(line[:3]), line[4:]
        if code == 227 and (endpoint := parse_host_port(text)) is not None:
            self._expect("passive", [endpoint, (self.info.server_ip, endpoint[1])])
        elif code == 229 and (port := parse_epsv(text)) is not None:
            self._expect("passive", [(self.info.server_ip, port)])
        elif code in (125, 150) and self.awaiting is not None:
            size = _SIZE.search(text)
            self.awaiting.announced_size = int(size[1]) if size else None
        elif code >= 200 and self.awaiting is not None:
            transfer, self.awaiting = self.awaiting, None
            transfer.reply = (code, text[:200])
            transfer.last_ts = max(transfer.last_ts, ts)
            self.files.settle(transfer)

    def _expect(self, mode: str, endpoints: list[Endpoint]) -> None:
        self.current = FtpTransfer(self.info, mode)
        self.files.expect(self.current, endpoints)

    def wants_more(self, bytes_seen: int) -> bool:
        return not self.failed

    def end(self, flow: Flow, ts: float, reason: str) -> None:
        self.files.control_ended(self.info)


class FtpDataAnalyzer:
    def __init__(self, files: FtpFiles, transfer: FtpTransfer) -> None:
        self.files = files
        self.transfer = transfer

    def data(self, to_server: bool, data: bytes, ts: float, gap: bool) -> None:
        carve = self.transfer.carve
        if carve is None or to_server != self.transfer.data_from_client:
            return  # forgotten, or the direction that does not carry the file
        if gap:
            carve.mark_partial("gap")
        carve.write(data)
        self.transfer.last_ts = ts

    def wants_more(self, bytes_seen: int) -> bool:
        carve = self.transfer.carve
        return carve is not None and carve.size < self.files.limits.max_file and not self.transfer.data_ended

    def end(self, flow: Flow, ts: float, reason: str) -> None:
        if reason == "bypass" and self.transfer.carve is not None and self.wants_more(0):
            self.transfer.carve.mark_partial("bypassed")
        self.transfer.data_ended = True
        self.files.settle(self.transfer)
