"""Per-key time windows in bounded memory, for detectors that count what one source does within a window
(scans: distinct ports or hosts; password spraying: distinct victims).

A key's window starts at its first observation and a new one starts when an observation comes more than
`window` seconds after that; at most `max_keys` keys are kept, the least recently seen forgotten first.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Generic, Protocol, TypeVar


class Window(Protocol):
    start: float


K = TypeVar("K", bound=Hashable)
W = TypeVar("W", bound=Window)


class WindowTable(Generic[K, W]):
    def __init__(
        self, window: float, max_keys: int, new: Callable[[float], W], forgotten: Callable[[], None]
    ) -> None:
        self.window = window
        self.max_keys = max_keys
        self.new = new  # a fresh window starting at the given time
        self.forgotten = forgotten  # called once per key dropped to keep the bound
        self.windows: OrderedDict[K, W] = OrderedDict()

    def current(self, key: K, ts: float) -> W:
        """The window of `key` that `ts` falls in (a new one past the old one's end), now the most recent."""
        found = self.windows.get(key)
        if found is None or ts - found.start > self.window:
            found = self.windows[key] = self.new(ts)
            if len(self.windows) > self.max_keys:
                self.windows.popitem(last=False)
                self.forgotten()
        self.windows.move_to_end(key)
        return found

    def __len__(self) -> int:
        return len(self.windows)
