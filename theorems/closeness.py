"""The suite's one closeness check, and its exact and boolean companions.

``assert_close(actual, expected, bound)`` passes when every entry satisfies
``|actual - expected| <= bound`` with the bound from :mod:`theorems.error_model`. A NaN or
infinity on either side fails with its own message, even where both sides agree. Every
comparison records its worst error-to-tolerance ratio for the ledger.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from theorems import _context
from theorems.error_model import Bound, exact

__all__ = ["ClaimViolation", "assert_close", "assert_equal", "assert_that"]

_MAX_LISTED = 5


class ClaimViolation(AssertionError):
    """A claim's two sides disagree beyond the error model: the claim fails on this input."""


def assert_close(actual: Any, expected: Any, bound: Bound, *, what: str = "values") -> None:
    """Assert |actual - expected| <= bound entrywise.

    Args:
        actual: the computed left side (array-like).
        expected: the computed right side (array-like, same shape).
        bound: per-entry absolute bound and its derivation; :func:`theorems.error_model.exact`
            demands bit-equality.
        what: a few words naming the compared quantity, for the failure message.

    Raises:
        ClaimViolation: shapes differ, either side has a NaN or infinity, or some entry exceeds
            the bound. The message names the claim, shapes and dtypes, the tolerance and its
            derivation, how many entries fail, up to five of them with both values, and the
            max absolute and relative errors.
    """
    actual_array = np.asarray(actual)
    expected_array = np.asarray(expected)
    header = _header(what, actual_array, expected_array)

    if actual_array.shape != expected_array.shape:
        _context.record_ratio(np.inf)
        raise ClaimViolation(f"{header}\n  shapes differ")

    _reject_non_finite(header, actual_array, expected_array)

    a = actual_array.astype(np.float64)
    b = expected_array.astype(np.float64)
    tolerance = np.broadcast_to(np.asarray(bound.array, dtype=np.float64), a.shape)
    error = np.abs(a - b)
    failing = error > tolerance
    ratio = _worst_ratio(error, tolerance)
    _context.record_ratio(ratio)
    if not failing.any():
        return

    raise ClaimViolation(_mismatch_message(header, a, b, error, tolerance, failing, bound))


def assert_equal(actual: Any, expected: Any, *, what: str = "values") -> None:
    """Assert exact equality: bit-equal floating-point arrays, or exact equality of integers,
    integer arrays, shapes, rationals, SymPy expressions and containers of them.

    Floating-point values go through :func:`assert_close` with a zero bound, so NaN and
    infinity fail. Integers are never converted to float, so 2**53 + 1 differs from 2**53.

    Raises:
        ClaimViolation: the values differ; the message shows both.
    """
    if _is_floating(actual) or _is_floating(expected):
        assert_close(actual, expected, exact(), what=what)
        return
    equal = _exactly_equal(actual, expected)
    _context.record_ratio(0.0 if equal else np.inf)
    if not equal:
        label = _context.current_label() or "check"
        raise ClaimViolation(f"{label}: {what} differ\n  actual:   {actual!r}\n  expected: {expected!r}")


def assert_that(condition: bool, message: str) -> None:
    """Assert a boolean property of the claim (an inequality, a shape rule).

    Raises:
        ClaimViolation: ``condition`` is false; ``message`` states what was expected and the values.
    """
    holds = bool(condition)
    _context.record_ratio(0.0 if holds else np.inf)
    if not holds:
        label = _context.current_label() or "check"
        raise ClaimViolation(f"{label}: {message}")


def _is_floating(value: Any) -> bool:
    """True for a float, or an array (NumPy or JAX) or NumPy scalar of a floating dtype."""
    if isinstance(value, float):
        return True
    dtype = getattr(value, "dtype", None)
    return dtype is not None and np.issubdtype(np.dtype(dtype), np.inexact)


def _exactly_equal(actual: Any, expected: Any) -> bool:
    if hasattr(actual, "shape") or hasattr(expected, "shape"):
        left, right = np.asarray(actual), np.asarray(expected)
        return left.shape == right.shape and bool(np.array_equal(left, right))
    if isinstance(actual, (tuple, list)) and isinstance(expected, (tuple, list)):
        same_kind = type(actual) is type(expected) and len(actual) == len(expected)
        return same_kind and all(_exactly_equal(a, b) for a, b in zip(actual, expected))
    return bool(actual == expected)


def _header(what: str, actual: np.ndarray, expected: np.ndarray) -> str:
    label = _context.current_label() or "assert_close"
    return (
        f"{label}: {what} are not close\n"
        f"  actual:   shape {actual.shape}, dtype {actual.dtype}\n"
        f"  expected: shape {expected.shape}, dtype {expected.dtype}"
    )


def _reject_non_finite(header: str, actual: np.ndarray, expected: np.ndarray) -> None:
    for side, values in (("actual", actual), ("expected", expected)):
        if not np.issubdtype(values.dtype, np.inexact):
            continue
        bad = ~np.isfinite(values)
        if bad.any():
            _context.record_ratio(np.inf)
            indices = [tuple(int(i) for i in index) for index in np.argwhere(bad)[:_MAX_LISTED]]
            shown = ", ".join(f"{index}: {values[index].item()!r}" for index in indices)
            raise ClaimViolation(
                f"{header}\n  {side} has {int(bad.sum())} non-finite entries (NaN or inf), "
                f"which never count as close: {shown}"
            )


def _worst_ratio(error: np.ndarray, tolerance: np.ndarray) -> float:
    if error.size == 0:
        return 0.0
    # A zero tolerance (bit-exact) or one below 1 / huge error overflows to inf: a failure.
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        ratios = np.where(error == 0.0, 0.0, error / tolerance)
    return float(np.max(ratios))


def _mismatch_message(
    header: str,
    a: np.ndarray,
    b: np.ndarray,
    error: np.ndarray,
    tolerance: np.ndarray,
    failing: np.ndarray,
    bound: Bound,
) -> str:
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        relative = np.where(error == 0.0, 0.0, error / np.abs(b))
    worst_abs = np.unravel_index(int(np.argmax(error)), error.shape) if error.ndim else ()
    worst_rel = np.unravel_index(int(np.argmax(relative)), relative.shape) if relative.ndim else ()
    lines = [
        header,
        f"  tolerance: per entry, {bound.derivation}",
        f"  failing entries: {int(failing.sum())} of {failing.size}",
        f"  max absolute error: {error[worst_abs]:.6g} at {_index(worst_abs)}",
        f"  max relative error: {relative[worst_rel]:.6g} at {_index(worst_rel)}",
    ]
    for index in np.argwhere(failing)[:_MAX_LISTED]:
        key = tuple(int(i) for i in index)
        lines.append(
            f"  at {_index(key)}: actual {a[key].item()!r}, expected {b[key].item()!r}, "
            f"|difference| {error[key]:.6g} > tolerance {tolerance[key]:.6g}"
        )
    return "\n".join(lines)


def _index(index: tuple[int, ...]) -> str:
    return "()" if not index else str(tuple(int(i) for i in index))
