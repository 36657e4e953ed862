"""What `minerwatch live` does between reads (capture/control.py): signals become work done in the loop,
stats and flushes come on time, and a failed reload leaves the capture running."""

from __future__ import annotations

import os
import signal

import pytest

from minerwatch.capture.control import LiveControl
from minerwatch.errors import InputError


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def control(clock: Clock, calls: list[str], reload=None, interval: float | None = 5.0) -> LiveControl:
    return LiveControl(
        reload or (lambda: calls.append("reload")),
        lambda: calls.append("stats"),
        lambda: calls.append("flush"),
        interval,
        clock,
    )


def test_sighup_reloads_at_the_next_turn_and_signals_stop(capsys):
    calls: list[str] = []
    with control(Clock(), calls) as ctl:
        os.kill(os.getpid(), signal.SIGHUP)
        assert calls == []  # the handler only sets a flag
        assert ctl() is False
        assert calls == ["reload"] and ctl.reloads == 1
        assert ctl() is False and calls == ["reload"]  # once per signal
        os.kill(os.getpid(), signal.SIGTERM)
        assert ctl() is True
        with pytest.raises(KeyboardInterrupt):  # a second stop signal interrupts the final flush
            os.kill(os.getpid(), signal.SIGINT)
    assert capsys.readouterr().err == "minerwatch: intel and rules reloaded\n"


def test_a_failed_reload_is_one_line_and_the_capture_goes_on(capsys):
    def broken() -> None:
        raise InputError("intel.sqlite: damaged")

    with control(Clock(), [], reload=broken) as ctl:
        os.kill(os.getpid(), signal.SIGHUP)
        assert ctl() is False and ctl.reloads == 0
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "reload failed" in err and "intel.sqlite: damaged" in err


def test_stats_every_interval_and_flushes_every_second():
    clock, calls = Clock(), []
    ctl = control(clock, calls, interval=5.0)
    for _ in range(21):  # 10 s in half-second turns
        ctl()
        clock.now += 0.5
    assert calls.count("stats") == 2 and calls.count("flush") == 10
    silent: list[str] = []
    quiet = control(clock, silent, interval=None)  # --stats-interval 0
    clock.now += 100
    quiet()
    assert silent == ["flush"]
