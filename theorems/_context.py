"""Per-run bookkeeping shared by the closeness check and the runner.

The runner opens a :class:`RunContext` around a claim's Hypothesis run. The comparison
functions record into it the worst error-to-tolerance ratio, the number of comparisons, and
evidence details such as a Monte Carlo certificate. Outside a run, recording is a no-op so the
comparison functions also work in plain tests.
"""

from __future__ import annotations

import contextlib
import contextvars
import math
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

_CURRENT: contextvars.ContextVar[RunContext | None] = contextvars.ContextVar("theorems_run", default=None)


@dataclass
class RunContext:
    """The comparisons and evidence details recorded during one claim run."""

    label: str
    worst_ratio: float = 0.0
    comparisons: int = 0
    details: dict[str, Any] = field(default_factory=dict)
    evidence: Counter[str] = field(default_factory=Counter)

    def record_ratio(self, ratio: float) -> None:
        self.comparisons += 1
        if math.isnan(ratio):
            ratio = math.inf
        self.worst_ratio = max(self.worst_ratio, ratio)


def current_label() -> str | None:
    """Return the label (claim or mutant id) of the run in progress, if any."""
    context = _CURRENT.get()
    return context.label if context else None


def record_ratio(ratio: float) -> None:
    """Record one comparison and its error-to-tolerance ratio (0 for an exact match)."""
    context = _CURRENT.get()
    if context is not None:
        context.record_ratio(ratio)


def record_details(**details: Any) -> None:
    """Attach evidence details (alpha, samples, interval, dimensions) to the current run.

    Details from later examples overwrite earlier ones under the same key, except that numeric
    ``*_max`` keys keep their maximum, ``*_min`` keys their minimum and ``*_count`` keys their
    sum over the examples.
    """
    context = _CURRENT.get()
    if context is None:
        return
    for key, value in details.items():
        if key not in context.details:
            context.details[key] = value
        elif key.endswith("_max"):
            context.details[key] = max(context.details[key], value)
        elif key.endswith("_min"):
            context.details[key] = min(context.details[key], value)
        elif key.endswith("_count"):
            context.details[key] = context.details[key] + value
        else:
            context.details[key] = value


def record_evidence(kind: str) -> None:
    """Record the kind of evidence one example produced, for a claim whose check uses exact
    arithmetic on some inputs and a certified or numerical check on others.

    Raises:
        ValueError: ``kind`` is not ``exact``, ``certified`` or ``numerical``.
    """
    if kind not in ("exact", "certified", "numerical"):
        raise ValueError(f"evidence kind {kind!r} is invalid; valid kinds are exact, certified, numerical")
    context = _CURRENT.get()
    if context is not None:
        context.evidence[kind] += 1


def comparisons_made() -> int:
    context = _CURRENT.get()
    return context.comparisons if context else 0


@contextlib.contextmanager
def run_context(label: str) -> Iterator[RunContext]:
    context = RunContext(label)
    token = _CURRENT.set(context)
    try:
        yield context
    finally:
        _CURRENT.reset(token)
