"""Indicators one detector read in what it parsed, handed to the intel detector as typed values.

A pool message shows a login (a wallet), an agent, a pool URL; a carved file its hashes and the pool URLs
and wallets inside it. The intel detector matches them against the knowledge base without reading the
detectors' events (EVE dicts are made only for the output): the detector that parsed the traffic says what
it saw, on which flow, about which host, and which of its events showed it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from minerwatch.events import FlowLike

Kind = Literal["wallet", "agent", "url", "hash"]


@dataclass(slots=True, frozen=True)
class Sighting:
    ts: float
    event_id: int  # the event that showed the indicators (the intel alert's related_event_id)
    flow: FlowLike
    reverse: bool  # that event's src is the flow's server
    host: str  # whom a hit is about: the miner, or the machine that received the file
    peer: str | None
    where: str  # "mining login", "mining pool-url", "carved file"...
    indicators: tuple[tuple[Kind, str], ...]  # in the order they appear, as the event shows them
    app: dict[str, Any] = field(default_factory=dict)  # the event's application fields (app_proto, http...)
