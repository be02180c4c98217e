"""Slowing down and locking out password guessing: pure rules on the history of failures.

Per account: after `delay_after` consecutive failures each new attempt must wait, twice as long
at each failure; after `lockout_after` the account is locked for `lockout_s`, and every failure
after that locks it again. Failures older than the window, or before a success or an
administrator's reset, are forgotten. Per address: after `ip_max_failures` failures within the
window (any accounts), the address must wait until the oldest of them leaves the window.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import Enum

from app.settings import Settings


@dataclass(frozen=True)
class LoginRules:
    delay_after: int = 5
    delay_base_s: float = 2.0
    delay_max_s: float = 60.0
    lockout_after: int = 10
    lockout_s: int = 15 * 60
    window_s: int = 3600
    ip_max_failures: int = 50

    @classmethod
    def from_settings(cls, settings: Settings) -> "LoginRules":
        return cls(
            delay_after=settings.login_delay_after_failures,
            delay_base_s=settings.login_delay_base_s,
            delay_max_s=settings.login_delay_max_s,
            lockout_after=settings.login_lockout_after_failures,
            lockout_s=settings.login_lockout_s,
            window_s=settings.login_failure_window_s,
            ip_max_failures=settings.login_ip_max_failures,
        )


@dataclass(frozen=True)
class FailureHistory:
    """Consecutive failures of one account within the window, and when the last one happened."""

    count: int = 0
    last_at: datetime | None = None


class GateState(Enum):
    OPEN = "open"
    WAIT = "wait"  # slowed down: try again at `until`
    LOCKED = "locked"  # the account is locked until `until`


@dataclass(frozen=True)
class Gate:
    state: GateState
    until: datetime | None = None

    def seconds_left(self, now: datetime) -> int:
        if self.until is None:
            return 0
        return max(1, int((self.until - now).total_seconds() + 0.999))


OPEN = Gate(GateState.OPEN)


def delay_s(failures: int, rules: LoginRules) -> float:
    """How long to wait after `failures` consecutive failures (0 below the threshold)."""
    if failures < rules.delay_after or failures >= rules.lockout_after:
        return 0.0
    return float(min(rules.delay_base_s * 2 ** (failures - rules.delay_after), rules.delay_max_s))


def account_gate(history: FailureHistory, now: datetime, rules: LoginRules) -> Gate:
    """May this account try a password now?"""
    if history.last_at is None or history.count == 0:
        return OPEN
    if history.count >= rules.lockout_after:
        until = history.last_at + timedelta(seconds=rules.lockout_s)
        return Gate(GateState.LOCKED, until) if now < until else OPEN
    until = history.last_at + timedelta(seconds=delay_s(history.count, rules))
    return Gate(GateState.WAIT, until) if now < until else OPEN


def after_failure(history: FailureHistory, now: datetime, rules: LoginRules) -> Gate:
    """The state an account is left in by one more failure at `now`."""
    return account_gate(FailureHistory(history.count + 1, now), now, rules)


def address_gate(nth_latest_failure_at: datetime | None, now: datetime,
                 rules: LoginRules) -> Gate:
    """May this address try now? `nth_latest_failure_at` is the time of its
    `ip_max_failures`-th latest failure within the window (None when it has fewer)."""
    if nth_latest_failure_at is None:
        return OPEN
    until = nth_latest_failure_at + timedelta(seconds=rules.window_s)
    return Gate(GateState.WAIT, until) if now < until else OPEN
