"""Slowing down and locking out password guessing: the pure rules, with a fake clock."""

from datetime import UTC, datetime, timedelta

from app.auth.lockout import (
    FailureHistory,
    GateState,
    LoginRules,
    account_gate,
    address_gate,
    after_failure,
    delay_s,
)
from app.auth.login import paris_time

RULES = LoginRules(delay_after=5, delay_base_s=2, delay_max_s=60, lockout_after=10,
                   lockout_s=900, window_s=3600, ip_max_failures=50)
NOON = datetime(2025, 3, 3, 11, 0, tzinfo=UTC)  # 12:00 in Paris


def _history(count: int, seconds_ago: float = 0) -> FailureHistory:
    return FailureHistory(count, NOON - timedelta(seconds=seconds_ago))


def test_first_failures_are_free() -> None:
    assert account_gate(_history(4), NOON, RULES).state is GateState.OPEN
    assert after_failure(_history(3), NOON, RULES).state is GateState.OPEN


def test_the_delay_doubles_after_the_fifth_failure_up_to_a_ceiling() -> None:
    assert [delay_s(n, RULES) for n in range(4, 10)] == [0, 2, 4, 8, 16, 32]
    capped = LoginRules(delay_after=1, delay_base_s=10, delay_max_s=25, lockout_after=10)
    assert delay_s(3, capped) == 25


def test_a_slowed_down_account_must_wait_then_may_try_again() -> None:
    gate = account_gate(_history(6, seconds_ago=1), NOON, RULES)
    assert gate.state is GateState.WAIT
    assert gate.seconds_left(NOON) == 3
    assert account_gate(_history(6, seconds_ago=5), NOON, RULES).state is GateState.OPEN


def test_the_tenth_failure_locks_the_account_for_fifteen_minutes() -> None:
    gate = after_failure(_history(9, seconds_ago=60), NOON, RULES)
    assert gate.state is GateState.LOCKED
    assert gate.until == NOON + timedelta(minutes=15)
    assert account_gate(_history(10, seconds_ago=14 * 60), NOON, RULES).state is GateState.LOCKED
    assert account_gate(_history(10, seconds_ago=15 * 60), NOON, RULES).state is GateState.OPEN


def test_a_failure_after_the_lock_locks_again_at_once() -> None:
    assert after_failure(_history(10, seconds_ago=16 * 60), NOON, RULES).state is GateState.LOCKED


def test_an_address_with_too_many_failures_waits_for_the_oldest_to_leave_the_window() -> None:
    assert address_gate(None, NOON, RULES).state is GateState.OPEN
    gate = address_gate(NOON - timedelta(minutes=50), NOON, RULES)
    assert gate.state is GateState.WAIT and gate.until == NOON + timedelta(minutes=10)


def test_lock_time_is_told_in_paris_time() -> None:
    assert paris_time(NOON + timedelta(minutes=15), NOON) == "12 h 15"
    assert paris_time(NOON + timedelta(days=1), NOON) == "le 04/03 à 12 h 00"
