"""The seven kill-chain stages every observation is mapped to, with their MITRE ATT&CK techniques.

One vocabulary for rules, detectors, the incident correlator and the events (docs/killchain.md): a rule file
names a stage by its value, an observation carries a Stage, an incident lists the stages it reached.
"""

from __future__ import annotations

from enum import StrEnum


class Stage(StrEnum):
    """In the order an infection goes through them; `number` is the position (1 to 7)."""

    RECONNAISSANCE = "reconnaissance"
    ATTEMPTED_ATTACK = "attempted_attack"
    EXPLOITATION = "exploitation"
    IMPLANT_DOWNLOAD = "implant_download"
    COMMAND_AND_CONTROL = "command_and_control"
    LATERAL_MOVEMENT = "lateral_movement"
    ACTIONS_ON_OBJECTIVE = "actions_on_objective"

    @property
    def number(self) -> int:
        return _ORDER[self]


_ORDER = {stage: n for n, stage in enumerate(Stage, 1)}


class Technique(StrEnum):
    """The MITRE ATT&CK techniques observations are given (https://attack.mitre.org/techniques/...)."""

    ACTIVE_SCANNING = "T1595"
    BRUTE_FORCE = "T1110"
    PASSWORD_SPRAYING = "T1110.003"
    EXPLOIT_PUBLIC_FACING_APPLICATION = "T1190"
    INGRESS_TOOL_TRANSFER = "T1105"
    APPLICATION_LAYER_PROTOCOL = "T1071"
    NETWORK_SERVICE_DISCOVERY = "T1046"
    REMOTE_SERVICES = "T1021"
    EXPLOITATION_OF_REMOTE_SERVICES = "T1210"
    COMPUTE_HIJACKING = "T1496.001"
    RESOURCE_HIJACKING = "T1496"  # disks filled with Chia plots: no sub-technique names storage


# The technique of an observation that names none of its own (a rule's alert, for instance).
DEFAULT_TECHNIQUE = {
    Stage.RECONNAISSANCE: Technique.ACTIVE_SCANNING,
    Stage.ATTEMPTED_ATTACK: Technique.EXPLOIT_PUBLIC_FACING_APPLICATION,
    Stage.EXPLOITATION: Technique.EXPLOIT_PUBLIC_FACING_APPLICATION,
    Stage.IMPLANT_DOWNLOAD: Technique.INGRESS_TOOL_TRANSFER,
    Stage.COMMAND_AND_CONTROL: Technique.APPLICATION_LAYER_PROTOCOL,
    Stage.LATERAL_MOVEMENT: Technique.EXPLOITATION_OF_REMOTE_SERVICES,
    Stage.ACTIONS_ON_OBJECTIVE: Technique.COMPUTE_HIJACKING,
}
