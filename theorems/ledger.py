"""The ledger: one row per claim and a mutant tally, as text and as JSON.

JSON layout (``python -m theorems --json PATH``)::

    {"profile": "ci", "passed": true,
     "claims": [{"id", "title", "statement", "source", "expected", "status", "outcome",
                 "evidence", "evidence_counts", "examples", "worst_ratio", "counterexample", "corrected_by",
                 "details", "notes", "seconds"}, ...],
     "mutants": [{"id", "claim", "description", "killed", "outcome", "counterexample"}, ...],
     "summary": {"claims", "claims_as_expected", "mutants", "mutants_killed"}}

``status`` is ``as expected`` or ``unexpected``; ``outcome`` is ``holds``, ``refuted`` or
``error``; ``evidence`` is ``exact``, ``certified``, ``numerical``, ``refuted`` or ``error``.
A claim whose examples produced several kinds (exact enumeration on small inputs, a certified
test on large ones) reports the weakest as ``evidence``, the count of each in
``evidence_counts``, and all of them joined by ``+`` in the text ledger.
"""

from __future__ import annotations

import json
import math
import os
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from theorems._runner import ClaimResult, MutantResult

__all__ = ["format_ledger", "ledger_passed", "to_json", "write_json_atomically"]


def ledger_passed(claims: Sequence[ClaimResult], mutants: Sequence[MutantResult]) -> bool:
    """Return True iff every claim's outcome is its expectation and every mutant is killed."""
    return all(r.as_expected for r in claims) and all(m.killed for m in mutants)


def format_ledger(
    claims: Sequence[ClaimResult], mutants: Sequence[MutantResult], profile: str, *, mutants_run: bool = True
) -> str:
    """Render the ledger as a text table followed by counterexamples and the mutant tally."""
    header = ("claim", "evidence", "examples", "err/tol", "status")
    rows = [
        (
            r.claim.id,
            "+".join(r.evidence_kinds) if r.outcome.kind == "holds" else r.evidence,
            str(r.outcome.examples),
            _format_ratio(r.outcome.worst_ratio, r.outcome.kind),
            "as expected" if r.as_expected else "UNEXPECTED",
        )
        for r in claims
    ]
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
    lines = [f"Ledger (Hypothesis profile {profile!r})", ""]
    lines.append("  ".join(h.ljust(w) for h, w in zip(header, widths)).rstrip())
    lines.append("  ".join("-" * w for w in widths))
    for row, result in zip(rows, claims):
        lines.append("  ".join(c.ljust(w) for c, w in zip(row, widths)).rstrip())
        lines.extend(_detail_lines(result))

    lines.extend(_counterexample_lines(claims))
    lines.append("")
    killed = sum(m.killed for m in mutants)
    lines.append(f"Mutants killed: {killed}/{len(mutants)}" if mutants_run else "Mutants: not run (--no-mutants)")
    for m in mutants:
        if not m.killed:
            reason = "survived" if m.outcome.kind == "holds" else "errored (not a refutation)"
            lines.append(f"  {m.mutant.id} {reason}: {m.mutant.description}")
            if m.outcome.kind == "error" and m.outcome.counterexample:
                last = [line for line in m.outcome.counterexample.splitlines() if line.strip()][-1:]
                lines.extend(f"      {line}" for line in last)
    expected = sum(r.as_expected for r in claims)
    lines.append(f"Claims as expected: {expected}/{len(claims)}")
    lines.append("PASS" if ledger_passed(claims, mutants) else "FAIL")
    return "\n".join(lines)


def _format_ratio(ratio: float, kind: str) -> str:
    if kind != "holds":
        return "-"
    if math.isinf(ratio):
        return "inf"
    return f"{ratio:.2g}"


def _detail_lines(result: ClaimResult) -> list[str]:
    lines = []
    counts = result.outcome.evidence_counts
    if len(counts) > 1:
        lines.append("    examples by evidence: " + ", ".join(f"{kind} {counts[kind]}" for kind in result.evidence_kinds))
    details = result.outcome.details
    if details:
        lines.append("    " + ", ".join(f"{k}={_format_value(details[k])}" for k in sorted(details)))
    return lines


def _format_value(value: Any) -> str:
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int) and abs(value) >= 10**12:
        return f"{value:.4g}"
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, (tuple, list)) and all(isinstance(v, float) for v in value):
        return "[" + ", ".join(f"{v:.6g}" for v in value) + "]"
    return str(value)


def _counterexample_lines(claims: Sequence[ClaimResult]) -> list[str]:
    lines: list[str] = []
    for r in claims:
        if r.outcome.kind == "holds":
            continue
        lines.append("")
        verdict = "refuted as expected" if r.as_expected else f"{r.outcome.kind}, expected {r.claim.expected}"
        lines.append(f"{r.claim.id}: {verdict}")
        lines.append(f"  claim: {r.claim.statement}")
        if r.claim.corrected_by:
            lines.append(f"  corrected claim: {r.claim.corrected_by}")
        if r.claim.notes:
            lines.append(f"  notes: {r.claim.notes}")
        for line in (r.outcome.counterexample or "").splitlines():
            lines.append(f"  | {line}")
    return lines


def to_json(claims: Sequence[ClaimResult], mutants: Sequence[MutantResult], profile: str) -> dict[str, Any]:
    """Return the ledger as a JSON-serializable dict (layout in the module docstring)."""
    return {
        "profile": profile,
        "passed": ledger_passed(claims, mutants),
        "claims": [_claim_json(r) for r in claims],
        "mutants": [
            {
                "id": m.mutant.id,
                "claim": m.mutant.claim.id,
                "description": m.mutant.description,
                "killed": m.killed,
                "outcome": m.outcome.kind,
                "counterexample": m.outcome.counterexample,
            }
            for m in mutants
        ],
        "summary": {
            "claims": len(claims),
            "claims_as_expected": sum(r.as_expected for r in claims),
            "mutants": len(mutants),
            "mutants_killed": sum(m.killed for m in mutants),
        },
    }


def _claim_json(result: ClaimResult) -> dict[str, Any]:
    claim = result.claim
    ratio = result.outcome.worst_ratio
    return {
        "id": claim.id,
        "title": claim.title,
        "statement": claim.statement,
        "source": {"part": claim.source.part, "reference": claim.source.reference},
        "expected": claim.expected,
        "status": "as expected" if result.as_expected else "unexpected",
        "outcome": result.outcome.kind,
        "evidence": result.evidence,
        "evidence_counts": result.outcome.evidence_counts,
        "examples": result.outcome.examples,
        "worst_ratio": None if math.isinf(ratio) or math.isnan(ratio) else ratio,
        "counterexample": result.outcome.counterexample,
        "corrected_by": claim.corrected_by,
        "details": _jsonable(result.outcome.details),
        "notes": claim.notes,
        "seconds": round(result.outcome.seconds, 3),
    }


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, (bool, int, str)) or value is None:
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    try:
        number = float(value)
    except (TypeError, ValueError):
        return str(value)
    return number if math.isfinite(number) else str(number)


def write_json_atomically(path: str | os.PathLike[str], data: dict[str, Any]) -> None:
    """Write ``data`` as JSON to ``path`` through a temporary file in the same directory and
    ``os.replace``, so a reader sees the old file or the complete new one, never a partial one.

    Raises:
        OSError: the directory does not exist or is not writable; the old file is untouched.
    """
    target = Path(path)
    descriptor, temporary = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent or ".")
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
            json.dump(data, handle, indent=2, allow_nan=False)
            handle.write("\n")
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
