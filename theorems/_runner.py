"""Run a claim, or one of its mutants, under Hypothesis and summarize the outcome.

A run is *refuted* when Hypothesis finds an input on which the check raises ``ClaimViolation``
(a failed ``assert_close``, ``assert_equal`` or ``assert_that``) and the failure replays; the
shrunk input and the ``note()`` values become the counterexample. Any other exception is an
*error*: a plain ``assert`` or another library's ``AssertionError`` inside the check, a bug, an
unsatisfiable strategy, a check that compared nothing, or a failure that did not replay
(Hypothesis's ``Flaky``). An error never counts as a refutation, so a broken check cannot pass
for an expected erratum or a killed mutant.
"""

from __future__ import annotations

import inspect
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from hypothesis import example, given, settings
from hypothesis.errors import Flaky

from theorems import _context
from theorems._registry import Claim, Mutant
from theorems.closeness import ClaimViolation

__all__ = ["ClaimResult", "MutantResult", "Outcome", "VacuousCheckError", "run_claim", "run_mutant"]

OutcomeKind = Literal["holds", "refuted", "error"]

# From strongest to weakest: exact arithmetic, a deterministic error bound, then a statistical
# test that may raise a false alarm with a stated probability.
EVIDENCE_STRENGTH: tuple[str, ...] = ("exact", "numerical", "certified")


class VacuousCheckError(RuntimeError):
    """A check returned without comparing anything, so it could not have failed."""


@dataclass
class Outcome:
    """The result of one Hypothesis run of a check."""

    kind: OutcomeKind
    examples: int  # inputs the check ran on to the end or to a violation; shrink steps included
    worst_ratio: float
    counterexample: str | None
    details: dict[str, Any]
    seconds: float
    error: BaseException | None = field(default=None, repr=False)
    evidence_counts: dict[str, int] = field(default_factory=dict)


@dataclass
class ClaimResult:
    claim: Claim
    outcome: Outcome

    @property
    def as_expected(self) -> bool:
        return self.outcome.kind == self.claim.expected

    @property
    def evidence_kinds(self) -> list[str]:
        """The evidence kinds the examples produced, strongest first; the declared kind when
        the check recorded none (see :func:`theorems.record_evidence`)."""
        recorded = [k for k in EVIDENCE_STRENGTH if self.outcome.evidence_counts.get(k)]
        return recorded or [self.claim.evidence]

    @property
    def evidence(self) -> str:
        """``refuted`` or ``error`` for those outcomes, else the weakest evidence kind used."""
        if self.outcome.kind == "error":
            return "error"
        return "refuted" if self.outcome.kind == "refuted" else self.evidence_kinds[-1]


@dataclass
class MutantResult:
    mutant: Mutant
    outcome: Outcome

    @property
    def killed(self) -> bool:
        return self.outcome.kind == "refuted"


def run_claim(claim: Claim, profile: settings) -> ClaimResult:
    """Run ``claim`` with its own subjects under the Hypothesis settings ``profile``."""
    return ClaimResult(claim, _run(claim, {}, claim.id, profile))


def run_mutant(mutant: Mutant, profile: settings) -> MutantResult:
    """Run the claim's check with the mutant's subjects; the mutant is killed if refuted."""
    return MutantResult(mutant, _run(mutant.claim, mutant.overrides, mutant.id, profile))


def _run(claim: Claim, overrides: Mapping[str, Any], label: str, profile: settings) -> Outcome:
    started = time.perf_counter()
    counter = {"examples": 0}
    with _context.run_context(label) as context:
        test = _hypothesis_test(claim, overrides, context, counter, profile)
        try:
            test()
        except BaseException as error:  # noqa: BLE001 - classified below, re-raised if fatal
            if isinstance(error, (KeyboardInterrupt, SystemExit)):
                raise
            kind: OutcomeKind = "refuted" if _is_violation(error) else "error"
            return Outcome(
                kind=kind,
                examples=counter["examples"],
                worst_ratio=context.worst_ratio,
                counterexample=_describe_failure(error),
                details=dict(context.details),
                seconds=time.perf_counter() - started,
                error=error,
                evidence_counts=dict(context.evidence),
            )
    return Outcome(
        kind="holds",
        examples=counter["examples"],
        worst_ratio=context.worst_ratio,
        counterexample=None,
        details=dict(context.details),
        seconds=time.perf_counter() - started,
        evidence_counts=dict(context.evidence),
    )


def _hypothesis_test(
    claim: Claim,
    overrides: Mapping[str, Any],
    context: _context.RunContext,
    counter: dict[str, int],
    profile: settings,
):
    parameter = next(iter(inspect.signature(claim.check).parameters))

    def body(**drawn: Any) -> None:
        before = context.comparisons
        try:
            claim.check(drawn[parameter], **overrides)
        except ClaimViolation:
            counter["examples"] += 1
            raise
        if context.comparisons == before:
            raise VacuousCheckError(
                f"the check of {claim.id} returned without calling assert_close, assert_equal or "
                "assert_that, so it cannot fail; compare the claim's two sides"
            )
        counter["examples"] += 1

    # Hypothesis prints the falsifying call with this name and parameter, e.g. jacobian(block=...).
    body.__name__ = body.__qualname__ = claim.check.__name__
    body.__signature__ = inspect.Signature(  # type: ignore[attr-defined]
        [inspect.Parameter(parameter, inspect.Parameter.KEYWORD_ONLY)]
    )
    test = given(**{parameter: claim.strategy})(body)
    for fixed in reversed(claim.examples):
        test = example(**{parameter: fixed})(test)
    return settings(profile)(test)


def _is_violation(error: BaseException) -> bool:
    """True when every failure Hypothesis reports is a replayable ``ClaimViolation``."""
    if isinstance(error, Flaky):
        return False
    if isinstance(error, BaseExceptionGroup):
        return all(_is_violation(inner) for inner in error.exceptions)
    return isinstance(error, ClaimViolation)


def _readable_lines(note: str) -> list[str]:
    """Keep a note's falsifying example and ``note()`` values; drop Hypothesis's explain-phase
    coverage report and the reproduce blob, which ``print_blob`` already shows under pytest."""
    kept: list[str] = []
    skipping = False
    for line in note.splitlines():
        if line.startswith("Explanation:"):
            skipping = True
            continue
        if line.startswith("You can reproduce"):
            continue
        if skipping and (line.startswith(" ") or not line):
            continue
        skipping = False
        kept.append(line)
    return kept


def _describe_failure(error: BaseException) -> str:
    parts: list[str] = []
    leaves = error.exceptions if isinstance(error, BaseExceptionGroup) else (error,)
    for leaf in leaves:
        for note in getattr(leaf, "__notes__", []):
            parts.extend(_readable_lines(note))
        parts.append(f"{type(leaf).__name__}: {leaf}")
    return "\n".join(parts)
