"""Claim registry: every claim is one decorated check function with its provenance.

A claim's check receives one value drawn by its Hypothesis strategy and compares the two sides
of the claim with the closeness check (``theorems.assert_close`` and friends). Keyword
parameters with defaults are the claim's *subjects*, the formulas under test. A mutant
replaces one or more subjects with a plausible wrong variant, so the same check must refute it.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from hypothesis.strategies import SearchStrategy

__all__ = [
    "Claim",
    "Mutant",
    "RegistryError",
    "Source",
    "all_claims",
    "all_mutants",
    "claim",
    "get_claim",
]

Evidence = Literal["exact", "certified", "numerical"]
Expectation = Literal["holds", "refuted"]

EVIDENCE_KINDS: tuple[str, ...] = ("exact", "certified", "numerical")
EXPECTATIONS: tuple[str, ...] = ("holds", "refuted")

_CLAIM_ID = re.compile(r"^[a-z][a-z0-9_]*\.[a-z][a-z0-9_]*$")
_MUTANT_NAME = re.compile(r"^[a-z][a-z0-9_]*$")


class RegistryError(ValueError):
    """A claim or mutant was declared with an invalid or duplicate definition."""


@dataclass(frozen=True)
class Source:
    """A claim's provenance: the part of the course document and the published result."""

    part: str
    reference: str

    def __str__(self) -> str:
        return f"{self.part}; {self.reference}"


@dataclass(frozen=True)
class Mutant:
    """A deliberately wrong variant of a claim: some subjects replaced by wrong formulas."""

    claim: Claim
    name: str
    description: str
    overrides: dict[str, Any]

    @property
    def id(self) -> str:
        return f"{self.claim.id}/{self.name}"


@dataclass(eq=False)
class Claim:
    """A registered mathematical claim.

    Attributes:
        id: ``topic.name``, unique across the suite.
        title: one line in plain words.
        statement: the claim in LaTeX.
        source: document part and published result.
        strategy: draws one input value for ``check``.
        check: ``check(value, **subjects)``; raises ``AssertionError`` (through the closeness
            check) when the claim fails on ``value``.
        evidence: ``exact``, ``certified`` or ``numerical``: how a passing run supports it.
        expected: ``holds``, or ``refuted`` for a claim that is false as the source states it.
        corrected_by: for a refuted claim, the id of the claim that states it correctly.
        examples: fixed inputs that always run before the drawn ones.
        notes: remarks (conventions, domain exclusions) stored in the JSON ledger and printed
            beside a refuted or unexpected claim.
    """

    id: str
    title: str
    statement: str
    source: Source
    strategy: SearchStrategy[Any]
    check: Callable[..., None]
    evidence: Evidence
    expected: Expectation = "holds"
    corrected_by: str | None = None
    examples: tuple[Any, ...] = ()
    notes: str = ""
    mutants: list[Mutant] = field(default_factory=list)

    @property
    def topic(self) -> str:
        return self.id.split(".", 1)[0]

    @property
    def subjects(self) -> dict[str, Any]:
        """The check's keyword parameters with defaults: the formulas a mutant may replace."""
        parameters = list(inspect.signature(self.check).parameters.values())[1:]
        return {p.name: p.default for p in parameters if p.default is not inspect.Parameter.empty}

    def mutant(self, name: str, *, description: str, **overrides: Any) -> Mutant:
        """Register a wrong variant of this claim that replaces the named subjects.

        Raises:
            RegistryError: the name is taken or malformed, or an override names no subject.
        """
        if not _MUTANT_NAME.fullmatch(name):
            raise RegistryError(
                f"mutant name {name!r} of claim {self.id!r} is invalid: use lowercase letters, "
                "digits and underscores, starting with a letter"
            )
        if any(m.name == name for m in self.mutants):
            raise RegistryError(f"mutant {self.id}/{name} is already registered")
        if not overrides:
            raise RegistryError(
                f"mutant {self.id}/{name} replaces nothing: pass at least one of the subjects "
                f"{sorted(self.subjects)} as a keyword argument"
            )
        unknown = sorted(set(overrides) - set(self.subjects))
        if unknown:
            raise RegistryError(
                f"mutant {self.id}/{name} overrides {unknown}, which are not subjects of the "
                f"check; its subjects (keyword parameters with defaults) are {sorted(self.subjects)}"
            )
        created = Mutant(claim=self, name=name, description=description, overrides=dict(overrides))
        self.mutants.append(created)
        return created


_CLAIMS: dict[str, Claim] = {}


def claim(
    id: str,
    *,
    title: str,
    statement: str,
    source: Source,
    strategy: SearchStrategy[Any] | None,
    evidence: Evidence,
    expected: Expectation = "holds",
    corrected_by: str | None = None,
    examples: Sequence[Any] = (),
    notes: str = "",
) -> Callable[[Callable[..., None]], Claim]:
    """Register the decorated check function as a claim and return the ``Claim``.

    The check's first parameter receives the value drawn by ``strategy``; its keyword
    parameters with defaults are subjects that mutants may replace.

    Raises:
        RegistryError: at import time, for a duplicate or malformed id, a missing strategy,
            an unknown evidence kind or expectation, or a check with no parameter for the value.
    """
    _validate_declaration(id, strategy, evidence, expected, corrected_by)

    def register(check: Callable[..., None]) -> Claim:
        parameters = list(inspect.signature(check).parameters.values())
        if not parameters or parameters[0].default is not inspect.Parameter.empty:
            raise RegistryError(
                f"check {check.__qualname__} of claim {id!r} must take the drawn value as its "
                "first parameter, without a default"
            )
        if id in _CLAIMS:
            raise RegistryError(
                f"claim id {id!r} is already registered by {_CLAIMS[id].check.__module__}; "
                "claim ids must be unique"
            )
        registered = Claim(
            id=id,
            title=title,
            statement=statement,
            source=source,
            strategy=strategy,
            check=check,
            evidence=evidence,
            expected=expected,
            corrected_by=corrected_by,
            examples=tuple(examples),
            notes=notes,
        )
        _CLAIMS[id] = registered
        return registered

    return register


def _validate_declaration(
    id: str,
    strategy: SearchStrategy[Any] | None,
    evidence: str,
    expected: str,
    corrected_by: str | None,
) -> None:
    if not isinstance(id, str) or not _CLAIM_ID.fullmatch(id):
        raise RegistryError(
            f"claim id {id!r} is invalid: use 'topic.name' in lowercase letters, digits and "
            "underscores, e.g. 'residual.jacobian'"
        )
    if strategy is None:
        raise RegistryError(
            f"claim {id!r} has no strategy: pass strategy=<a Hypothesis SearchStrategy> that "
            "draws the check's input (use hypothesis.strategies.just(...) for a fixed input)"
        )
    if not isinstance(strategy, SearchStrategy):
        raise RegistryError(
            f"claim {id!r} has strategy={strategy!r}, which is not a Hypothesis SearchStrategy"
        )
    if evidence not in EVIDENCE_KINDS:
        raise RegistryError(
            f"claim {id!r} has evidence={evidence!r}; valid kinds are {list(EVIDENCE_KINDS)} "
            "(a refuted claim declares the evidence its check uses and expected='refuted')"
        )
    if expected not in EXPECTATIONS:
        raise RegistryError(
            f"claim {id!r} has expected={expected!r}; valid values are {list(EXPECTATIONS)}"
        )
    if corrected_by is not None and expected != "refuted":
        raise RegistryError(
            f"claim {id!r} names corrected_by={corrected_by!r} but expected={expected!r}; "
            "only a refuted claim has a correction"
        )


def all_claims() -> list[Claim]:
    """Return every registered claim, importing the topic modules first, sorted by id.

    Raises:
        RegistryError: a refuted claim's ``corrected_by`` names no registered claim.
    """
    from theorems._discovery import import_topics

    import_topics()
    for registered in _CLAIMS.values():
        if registered.corrected_by is not None and registered.corrected_by not in _CLAIMS:
            raise RegistryError(
                f"claim {registered.id!r} has corrected_by={registered.corrected_by!r}, which is not a "
                "registered claim id; name the claim that states the correction"
            )
    return sorted(_CLAIMS.values(), key=lambda c: c.id)


def all_mutants(claims: Iterable[Claim] | None = None) -> list[Mutant]:
    """Return the mutants of ``claims`` (default: every claim), in claim order."""
    selected = all_claims() if claims is None else list(claims)
    return [m for c in selected for m in c.mutants]


def get_claim(id: str) -> Claim:
    """Return the claim with this id.

    Raises:
        KeyError: no such claim; the message lists the closest ids.
    """
    import difflib

    claims = {c.id: c for c in all_claims()}
    if id in claims:
        return claims[id]
    close = difflib.get_close_matches(id, list(claims), n=5, cutoff=0.5)
    hint = f"; closest ids: {', '.join(close)}" if close else ""
    raise KeyError(f"no claim with id {id!r}{hint}")


def unregister(id: str) -> None:
    """Remove a claim from the registry; for tests that register throwaway claims."""
    _CLAIMS.pop(id, None)
