"""Proration by day. Pure.

A part of a period costs the period's amount × the days of the part ÷ the days of the
period, computed exactly and rounded half up once, to minor units (half away from zero
for credits, so a credit and the charge it mirrors round alike).
"""

from __future__ import annotations

from datetime import date
from fractions import Fraction


def round_half_up(value: Fraction) -> int:
    """The integer nearest to ``value``; halves away from zero."""
    magnitude = abs(value)
    whole = int(magnitude)
    if magnitude - whole >= Fraction(1, 2):
        whole += 1
    return whole if value >= 0 else -whole


def days(start: date, end: date) -> int:
    """Days from ``start`` up to ``end`` (exclusive)."""
    return (end - start).days


def prorate(amount: int, part: tuple[date, date], period: tuple[date, date]) -> int:
    """What ``part`` (within ``period``; both ``(start, exclusive end)``) costs of
    ``amount`` charged for the whole period."""
    part_days, period_days = days(*part), days(*period)
    if period_days <= 0:
        raise ValueError("a period lasts at least one day")
    if part_days < 0 or part[0] < period[0] or part[1] > period[1]:
        raise ValueError("the part must lie within the period")
    return round_half_up(Fraction(amount * part_days, period_days))
