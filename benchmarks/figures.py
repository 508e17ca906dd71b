"""Figures and the targets they are reported against.

A benchmark returns a small dataclass of its measurements; :meth:`figures` on it turns them
into :class:`Figure` rows, each with how it was measured and, where the project set one, its
target. A target is only ever compared, never asserted: the runner prints "met" or "not met".
"""

from __future__ import annotations

import enum
import statistics
from collections.abc import Sequence
from dataclasses import dataclass


class Bound(enum.Enum):
    AT_LEAST = "≥"
    AT_MOST = "≤"


@dataclass(frozen=True)
class Target:
    """A threshold a figure should reach: ``value >= threshold`` or ``value <= threshold``."""

    bound: Bound
    threshold: float
    unit: str = "x"

    def met(self, value: float | None) -> bool | None:
        """Whether ``value`` meets the target; None when there is no value to compare."""
        if value is None:
            return None
        if self.bound is Bound.AT_LEAST:
            return value >= self.threshold
        return value <= self.threshold

    def __str__(self) -> str:
        return f"{self.bound.value} {format_value(self.threshold, self.unit)}"


SPEEDUP_TARGET = Target(Bound.AT_LEAST, 1.6)
BROWSER_OVERHEAD_TARGET = Target(Bound.AT_MOST, 1.2)
PROTOCOL_OVERHEAD_TARGET = Target(Bound.AT_MOST, 1.2)
THROUGHPUT_TARGET = Target(Bound.AT_LEAST, 0.70, unit="%")


@dataclass(frozen=True)
class Figure:
    """One reported number.

    :param name: what it is, one line.
    :param value: the measurement, or None when it could not be made.
    :param unit: "s", "ms", "x", "%", "MiB", "/s", "n" (a count)…; "%" values are fractions
        (0.7 is 70 %).
    :param how: how it was measured, one or two sentences.
    :param target: the project's target for it, if any.
    """

    name: str
    value: float | None
    unit: str
    how: str = ""
    target: Target | None = None

    @property
    def met(self) -> bool | None:
        return None if self.target is None else self.target.met(self.value)

    def verdict(self) -> str:
        """ "target ≥ 1.6x: met", "target ≤ 1.2x: NOT met", or "" without a target."""
        if self.target is None:
            return ""
        met = self.met
        outcome = "not measured" if met is None else ("met" if met else "NOT met")
        return f"target {self.target}: {outcome}"

    def shown(self) -> str:
        return format_value(self.value, self.unit)


def format_value(value: float | None, unit: str) -> str:
    """A figure as printed: 1.63x, 72.4 %, 0.412 s, 512.0 MiB, 41.2 /s."""
    if value is None:
        return "n/a"
    if unit == "%":
        return f"{value * 100:.1f} %"
    if unit == "x":
        return f"{value:.2f}x"
    if unit == "s":
        return f"{value:.3f} s"
    if unit == "n":
        return f"{value:.0f}"
    if unit == "ms":
        return f"{value:.1f} ms"
    return f"{value:.1f} {unit}"


def ratio(numerator: float | None, denominator: float | None) -> float | None:
    """``numerator / denominator``, or None when either is missing or the denominator is 0."""
    if numerator is None or denominator is None or denominator <= 0:
        return None
    return numerator / denominator


def median(values: Sequence[float]) -> float | None:
    return statistics.median(values) if values else None
