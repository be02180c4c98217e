"""Size classes at and around each threshold, with both bound rules."""

from dataclasses import replace
from datetime import date

import pytest

from app.domain.size_rules import SizeRule, headroom_for, near_threshold, rule_for, size_class_for

INCLUSIVE = SizeRule(
    id="test-inclusive", label="test", thresholds=(40_000, 80_000, 175_000),
    lower_bound_inclusive=True, ceilings_eur=(220_000, 287_000, 370_000, 450_000),
    source="ACI 2019", valid_from=date(2019, 8, 25),
)
EXCLUSIVE = replace(INCLUSIVE, id="test-exclusive", lower_bound_inclusive=False)


@pytest.mark.parametrize(("population", "inclusive", "exclusive"), [
    (0, 1, 1), (39_999, 1, 1), (40_000, 2, 1), (40_001, 2, 2),
    (79_999, 2, 2), (80_000, 3, 2), (80_001, 3, 3),
    (174_999, 3, 3), (175_000, 4, 3), (175_001, 4, 4), (2_000_000, 4, 4),
])
def test_size_class_at_and_around_thresholds(population: int, inclusive: int,
                                             exclusive: int) -> None:
    assert size_class_for(population, INCLUSIVE) == inclusive
    assert size_class_for(population, EXCLUSIVE) == exclusive


def test_headroom_inclusive() -> None:
    room = headroom_for(39_999, INCLUSIVE)
    assert (room.next_class, room.population_to_next) == (2, 1)
    assert room.previous_class is None and room.population_to_previous is None
    room = headroom_for(40_000, INCLUSIVE)
    assert (room.previous_class, room.population_to_previous) == (1, 1)
    assert (room.next_class, room.population_to_next) == (3, 40_000)
    room = headroom_for(200_000, INCLUSIVE)
    assert room.next_class is None and (room.previous_class, room.population_to_previous) == (
        3, 25_001)


def test_headroom_exclusive() -> None:
    room = headroom_for(40_000, EXCLUSIVE)
    assert (room.next_class, room.population_to_next) == (2, 1)
    room = headroom_for(40_001, EXCLUSIVE)
    assert (room.previous_class, room.population_to_previous) == (1, 1)


def test_headroom_is_consistent_with_the_class() -> None:
    for rule in (INCLUSIVE, EXCLUSIVE):
        for population in (1, 39_998, 40_000, 40_002, 80_000, 120_000, 175_000, 175_002):
            room = headroom_for(population, rule)
            size_class = size_class_for(population, rule)
            if room.population_to_next is not None:
                assert size_class_for(population + room.population_to_next, rule) == \
                    size_class + 1
                assert size_class_for(population + room.population_to_next - 1, rule) == \
                    size_class
            if room.population_to_previous is not None:
                assert size_class_for(population - room.population_to_previous, rule) == \
                    size_class - 1
                assert size_class_for(population - room.population_to_previous + 1, rule) == \
                    size_class


def test_near_threshold() -> None:
    assert near_threshold(38_500, INCLUSIVE) == [40_000]
    assert near_threshold(60_000, INCLUSIVE) == []
    assert near_threshold(170_000, INCLUSIVE) == [175_000]


def test_rule_in_force_on_a_date() -> None:
    old = replace(INCLUSIVE, id="old", valid_to=date(2022, 1, 1))
    new = replace(INCLUSIVE, id="new", valid_from=date(2022, 1, 1))
    assert rule_for([old, new], date(2021, 6, 1)).id == "old"
    assert rule_for([old, new], date(2024, 6, 1)).id == "new"
    assert rule_for([old, new], date(2024, 6, 1), default_id="old").id == "old"
