"""ACI size classes (taille 1–4) from a population, under a versioned rule."""

from dataclasses import dataclass
from datetime import date


@dataclass(frozen=True)
class SizeRule:
    """One version of the size-class rule: thresholds, bound rule and funding ceilings."""

    id: str
    label: str
    thresholds: tuple[int, ...]          # lower bounds of tailles 2, 3, 4
    lower_bound_inclusive: bool          # True: exactly 40,000 is taille 2
    ceilings_eur: tuple[int | None, ...]  # annual funding ceiling per taille (None: not known)
    source: str
    valid_from: date
    valid_to: date | None = None
    near_threshold_share: float = 0.05   # "near" a threshold: within 5 % of it

    def applies_on(self, day: date) -> bool:
        return self.valid_from <= day and (self.valid_to is None or day < self.valid_to)


@dataclass(frozen=True)
class Headroom:
    next_class: int | None
    population_to_next: int | None       # people to gain to reach the next class
    previous_class: int | None
    population_to_previous: int | None   # people to lose to fall to the previous class


def _reaches(population: int, threshold: int, rule: SizeRule) -> bool:
    return population >= threshold if rule.lower_bound_inclusive else population > threshold


def size_class_for(population: int, rule: SizeRule) -> int:
    return 1 + sum(1 for threshold in rule.thresholds if _reaches(population, threshold, rule))


def headroom_for(population: int, rule: SizeRule) -> Headroom:
    size_class = size_class_for(population, rule)
    last = len(rule.thresholds) + 1
    # The smallest population of a class is the threshold itself, or one more when exclusive.
    step = 0 if rule.lower_bound_inclusive else 1
    to_next = previous = None
    if size_class < last:
        to_next = rule.thresholds[size_class - 1] + step - population
    if size_class > 1:
        previous = population - (rule.thresholds[size_class - 2] + step) + 1
    return Headroom(
        next_class=size_class + 1 if size_class < last else None,
        population_to_next=to_next,
        previous_class=size_class - 1 if size_class > 1 else None,
        population_to_previous=previous,
    )


def near_threshold(population: int, rule: SizeRule) -> list[int]:
    """The thresholds this population is near (within the rule's share of each)."""
    return [t for t in rule.thresholds
            if abs(population - t) <= t * rule.near_threshold_share]


def rule_for(rules: list[SizeRule], day: date, default_id: str | None = None) -> SizeRule:
    """The rule in force on `day` (the latest to start), or the one named `default_id`."""
    if default_id is not None:
        for rule in rules:
            if rule.id == default_id:
                return rule
    applicable = [r for r in rules if r.applies_on(day)]
    if not applicable:
        applicable = sorted(rules, key=lambda r: r.valid_from)[:1]
    return max(applicable, key=lambda r: r.valid_from)
