"""Which kill-chain stage a sensor's alert or notice is, from what the rule says of itself.

In order of trust: minerwatch's own rule metadata (`minerwatch_stage`), the MITRE ATT&CK technique Emerging
Threats rules carry (`mitre_technique_id`), then keywords in the signature and in the classtype's
category, as ET names them ("ET COINMINER ...", "ET SCAN ...", "A Network Trojan was detected"). The
first keyword rule that matches wins, so the specific ones come first: "Coinminer Dropper Download" is a
download, "Redis AUTH Brute Force" brute force rather than a scan. docs/ingest.md lists the table.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from minerwatch.correlate.stages import DEFAULT_TECHNIQUE, Stage, Technique


@dataclass(frozen=True, slots=True)
class Kind:
    stage: Stage
    technique: Technique


_BRUTE = Kind(Stage.ATTEMPTED_ATTACK, Technique.BRUTE_FORCE)
_EXPLOIT = Kind(Stage.ATTEMPTED_ATTACK, Technique.EXPLOIT_PUBLIC_FACING_APPLICATION)

# (pattern over "signature | category", kind), first match wins.
KEYWORDS: tuple[tuple[re.Pattern[str], Kind], ...] = tuple(
    (re.compile(pattern, re.IGNORECASE), kind)
    for pattern, kind in (
        (
            r"dropper|downloader|\bdownload|executable code was detected",
            Kind(Stage.IMPLANT_DOWNLOAD, Technique.INGRESS_TOOL_TRANSFER),
        ),
        (
            r"coin ?miner|crypto ?currency min|crypto ?min|\bmining\b|xmrig|stratum|coinhive|monero",
            Kind(Stage.ACTIONS_ON_OBJECTIVE, Technique.COMPUTE_HIJACKING),
        ),
        (r"brute.?forc|password.?guess|login attempt|failed login|credential stuffing|spray", _BRUTE),
        (
            r"successful (administrator|user) privilege gain",
            Kind(Stage.EXPLOITATION, DEFAULT_TECHNIQUE[Stage.EXPLOITATION]),
        ),
        (
            r"\bc2\b|c&c|\bcnc\b|command and control|botnet|trojan|backdoor|malware|checkin|check-in",
            Kind(Stage.COMMAND_AND_CONTROL, Technique.APPLICATION_LAYER_PROTOCOL),
        ),
        (
            r"\bscan|sweep|nmap|masscan|zmap|recon|network scan|information leak",
            Kind(Stage.RECONNAISSANCE, Technique.ACTIVE_SCANNING),
        ),
        (
            r"exploit|\bcve-\d|\brce\b|remote code|command (injection|execution)|injection|web.?attack|"
            r"privilege gain|web application attack|deserial|shellshock|log4j|traversal",
            _EXPLOIT,
        ),
    )
)

# ET rules' `mitre_technique_id` (the technique, sub-techniques by their parent) -> kind.
TECHNIQUES = {
    "T1595": Kind(Stage.RECONNAISSANCE, Technique.ACTIVE_SCANNING),
    "T1046": Kind(Stage.RECONNAISSANCE, Technique.NETWORK_SERVICE_DISCOVERY),
    "T1110": _BRUTE,
    "T1190": _EXPLOIT,
    "T1210": _EXPLOIT,
    "T1105": Kind(Stage.IMPLANT_DOWNLOAD, Technique.INGRESS_TOOL_TRANSFER),
    "T1071": Kind(Stage.COMMAND_AND_CONTROL, Technique.APPLICATION_LAYER_PROTOCOL),
    "T1496": Kind(Stage.ACTIONS_ON_OBJECTIVE, Technique.COMPUTE_HIJACKING),
}

# How bad an alert is by its severity (1 is the worst), and how sure by ET's `confidence` metadata.
LEVEL = {1: 0.9, 2: 0.6, 3: 0.3, 4: 0.2}
CONFIDENCE = {"high": 0.9, "medium": 0.7, "low": 0.5}
DEFAULT_CONFIDENCE = 0.7


def classify(text: str, metadata: dict[str, list[str]]) -> Kind | None:
    """The kind of an alert whose signature and category are `text`; None: no stage of the kill chain."""
    for value in metadata.get("minerwatch_stage", ()):
        try:
            stage = Stage(value.strip().lower())
        except ValueError:
            continue
        return Kind(stage, DEFAULT_TECHNIQUE[stage])
    for value in metadata.get("mitre_technique_id", ()):
        kind = TECHNIQUES.get(value.strip().upper().split(".", 1)[0])
        if kind is not None:
            return kind
    for pattern, kind in KEYWORDS:
        if pattern.search(text):
            return kind
    return None


def confidence(metadata: dict[str, list[str]]) -> float:
    for value in metadata.get("confidence", ()):
        if value.strip().lower() in CONFIDENCE:
            return CONFIDENCE[value.strip().lower()]
    return DEFAULT_CONFIDENCE


def attacked_side(stage: Stage) -> bool:
    """Stages 1-3 happen to the server of the connection (the attacker is its client); the others to the
    client (the host that downloads, beacons or mines)."""
    return stage.number <= Stage.EXPLOITATION.number
