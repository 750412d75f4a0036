"""Exact evidence: rational arithmetic, enumeration of Bernoulli masks, and SymPy proofs.

Every finite float is a rational number m 2^e, so :func:`fractions_of` converts float inputs
without loss, and an identity between polynomials in those inputs then either holds with
equality or fails. Two routes give ``exact`` evidence for an expectation over a mask
R with i.i.d. Bernoulli(p) entries:

- :func:`bernoulli_expectation` enumerates all 2^m masks (m = number of entries, at most
  :data:`MAX_ENUMERATED_ENTRIES`) and sums probability times value in rational arithmetic.
- :func:`expect_multilinear` proves an identity for symbolic inputs: for independent
  Bernoulli variables R_k, R_k^j = R_k for j >= 1, so after reducing powers every monomial is
  multilinear and its expectation is the monomial with each R_k replaced by p.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from fractions import Fraction
from typing import Any

import numpy as np
import sympy

__all__ = [
    "MAX_ENUMERATED_ENTRIES",
    "bernoulli_expectation",
    "enumerate_masks",
    "expect_multilinear",
    "fractions_of",
    "integers_over_common_denominator",
    "solve_rational",
    "symbol_array",
]

# 2^12 = 4096 masks: enumeration stays a few milliseconds with integer arithmetic.
MAX_ENUMERATED_ENTRIES = 12


def fractions_of(values: Any) -> np.ndarray:
    """Return ``values`` as an object array of exact ``Fraction`` entries.

    Raises:
        ValueError: an entry is NaN or infinite, which has no rational value.
    """
    array = np.asarray(values)
    flat = [_to_fraction(v) for v in array.reshape(-1).tolist()]
    result = np.empty(len(flat), dtype=object)
    result[:] = flat
    return result.reshape(array.shape)


def _to_fraction(value: Any) -> Fraction:
    if isinstance(value, Fraction):
        return value
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError(f"cannot convert {value!r} to a rational number: it is not finite")
    return Fraction(value)


def integers_over_common_denominator(values: np.ndarray) -> tuple[np.ndarray, int]:
    """Return (integers, D) with values == integers / D exactly; D is the least common
    denominator of the ``Fraction`` entries. The integers are Python ints in an object array,
    so no product of them can overflow."""
    flat = [_to_fraction(v) for v in np.asarray(values, dtype=object).reshape(-1).tolist()]
    denominator = 1
    for value in flat:
        denominator = math.lcm(denominator, value.denominator)
    integers = np.empty(len(flat), dtype=object)
    integers[:] = [v.numerator * (denominator // v.denominator) for v in flat]
    return integers.reshape(np.shape(values)), denominator


def enumerate_masks(shape: Sequence[int]) -> np.ndarray:
    """Return every 0/1 array of ``shape`` stacked along a new first axis (2^m of them).

    Raises:
        ValueError: the shape has more than :data:`MAX_ENUMERATED_ENTRIES` entries.
    """
    entries = int(np.prod(shape))
    if entries > MAX_ENUMERATED_ENTRIES:
        raise ValueError(
            f"cannot enumerate the masks of shape {tuple(shape)!r}: {entries} entries give "
            f"2^{entries} masks; at most {MAX_ENUMERATED_ENTRIES} entries are supported"
        )
    codes = np.arange(2**entries, dtype=np.int64)[:, None]
    bits = (codes >> np.arange(entries, dtype=np.int64)) & 1
    return bits.reshape((2**entries, *shape))


def bernoulli_expectation(
    per_mask_values: np.ndarray, masks: np.ndarray, keep_probability: Fraction
) -> Fraction:
    """Return E[value(R)] for R with i.i.d. Bernoulli(keep_probability) entries, exactly.

    ``per_mask_values[k]`` is the value (a Python int or ``Fraction``) at ``masks[k]``, and
    ``masks`` must list every mask once, as :func:`enumerate_masks` does. The probability of a
    mask depends only on its number of ones, so the values are summed per count first.
    """
    p = Fraction(keep_probability)
    entries = int(np.prod(masks.shape[1:]))
    ones = masks.reshape(len(masks), -1).sum(axis=1)
    total = Fraction(0)
    for count in range(entries + 1):
        selected = per_mask_values[ones == count]
        if len(selected) == 0:
            continue
        subtotal = sum(selected.tolist(), start=Fraction(0))
        total += p**count * (1 - p) ** (entries - count) * subtotal
    return total


def symbol_array(name: str, shape: Sequence[int], **assumptions: bool) -> np.ndarray:
    """Return an object array of SymPy symbols ``name_i_j`` with the given shape."""
    array = np.empty(tuple(shape), dtype=object)
    for index in np.ndindex(*shape):
        suffix = "_".join(str(i) for i in index)
        array[index] = sympy.Symbol(f"{name}_{suffix}" if suffix else name, **assumptions)
    return array


def expect_multilinear(expression: sympy.Expr, bernoullis: Sequence[sympy.Symbol], p: sympy.Expr) -> sympy.Expr:
    """Return E[expression] over independent Bernoulli(p) variables ``bernoullis``.

    The expression must be a polynomial in the Bernoulli variables (any coefficients). Each
    power R^j with j >= 1 becomes R, and then each R becomes p: the expectation of a product
    of distinct independent variables is the product of their means.
    """
    polynomial = sympy.Poly(sympy.expand(expression), *bernoullis)
    expectation = sympy.Integer(0)
    for exponents, coefficient in polynomial.terms():
        kept = sum(1 for e in exponents if e > 0)
        expectation += coefficient * p**kept
    return sympy.expand(expectation)


def solve_rational(matrix: np.ndarray, rhs: np.ndarray) -> np.ndarray:
    """Return one exact solution x of matrix @ x == rhs by Gauss-Jordan elimination over
    ``Fraction``; free variables of a singular but consistent system are set to 0.

    Raises:
        ValueError: the system is inconsistent (no solution exists).
    """
    a = [[Fraction(v) for v in row] for row in np.asarray(matrix, dtype=object).tolist()]
    b = [Fraction(v) for v in np.asarray(rhs, dtype=object).tolist()]
    rows, cols = len(a), len(a[0]) if a else 0
    pivots: list[int] = []
    row = 0
    for col in range(cols):
        pivot = next((r for r in range(row, rows) if a[r][col] != 0), None)
        if pivot is None:
            continue
        a[row], a[pivot] = a[pivot], a[row]
        b[row], b[pivot] = b[pivot], b[row]
        for r in range(rows):
            if r != row and a[r][col] != 0:
                factor = a[r][col] / a[row][col]
                a[r] = [x - factor * y for x, y in zip(a[r], a[row])]
                b[r] -= factor * b[row]
        pivots.append(col)
        row += 1
    if any(b[r] != 0 for r in range(row, rows)):
        raise ValueError("the linear system is inconsistent: elimination left a row 0 = nonzero")
    solution = [Fraction(0)] * cols
    for r, col in enumerate(pivots):
        solution[col] = b[r] / a[r][col]
    result = np.empty(cols, dtype=object)
    result[:] = solution
    return result

