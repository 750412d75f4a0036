"""Forward-error bounds for floating-point results, after Higham, *Accuracy and Stability of
Numerical Algorithms* (2nd ed., 2002), chapter 3.

Every tolerance in the suite is a :class:`Bound`: a per-entry absolute bound on the difference
between two computed results, with a derivation that the failure message prints. With unit
roundoff u (2^-53 for float64, 2^-24 for float32) and

.. math:: \\gamma_k = \\frac{k u}{1 - k u},

a product of matrices computed in any order of summation, with or without fused multiply-add,
satisfies :math:`|fl(A_1 \\cdots A_m) - A_1 \\cdots A_m| \\le \\gamma_K |A_1| \\cdots |A_m|` where
K is the sum of the inner dimensions (Higham, eq. 3.13 applied m - 1 times, with
:math:`(1+\\gamma_a)(1+\\gamma_b) \\le 1 + \\gamma_{a+b}`). The bound holds entrywise, so an entry
that is exactly 0 analytically but about 1e-16 numerically is covered by the magnitudes of the
operands, not by an ad hoc absolute tolerance.

The model assumes no overflow and normal (or zero) inputs: XLA on CPU reads a subnormal input
as 0, an error no bound on the operations can cover, so the strategies never draw one.
Underflow in results is covered by an absolute term of a few smallest normal numbers per
operation (propagated through later factors in :func:`product`), because XLA on CPU flushes
subnormal results to zero.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = [
    "Bound",
    "exact",
    "gamma",
    "product",
    "rounded",
    "unit_roundoff",
]


def unit_roundoff(dtype: Any) -> float:
    """Return u = eps / 2 for a floating dtype: 2^-53 for float64, 2^-24 for float32."""
    info = np.finfo(np.dtype(dtype))
    return float(info.eps) / 2.0


def gamma(k: int, dtype: Any) -> float:
    """Return gamma_k = k u / (1 - k u).

    Raises:
        ValueError: k is negative, or k u >= 1 (the model no longer bounds anything).
    """
    if k < 0:
        raise ValueError(f"gamma needs k >= 0 operations, got k={k!r}")
    u = unit_roundoff(dtype)
    if k * u >= 1.0:
        raise ValueError(f"gamma_k is undefined for k={k!r} with u={u!r}: k u must be < 1")
    return k * u / (1.0 - k * u)


@dataclass(frozen=True)
class Bound:
    """A per-entry absolute error bound and the derivation that produced it.

    ``array`` broadcasts against the compared arrays; ``derivation`` is a formula in words,
    e.g. ``gamma_5 |W2||D||W1|``, which the closeness check prints on failure.
    """

    array: np.ndarray
    derivation: str

    def __add__(self, other: Bound) -> Bound:
        return Bound(self.array + other.array, f"{self.derivation} + {other.derivation}")

    def __rmul__(self, factor: float) -> Bound:
        return Bound(float(factor) * self.array, f"{_format_factor(factor)}({self.derivation})")


def _format_factor(factor: float) -> str:
    return f"{factor:g} " if float(factor) != int(factor) else f"{int(factor)} "


def exact() -> Bound:
    """Return the zero bound, for results that must agree bit for bit."""
    return Bound(np.zeros(()), "0 (bit-exact)")


def product(*factors: Any, dtype: Any = np.float64, label: str | None = None) -> Bound:
    """Return gamma_K |F1| |F2| ... |Fm| plus an underflow term for the product F1 F2 ... Fm.

    Factors are matrices or vectors (a 1-D first factor is a row, a 1-D last factor a column);
    K is the sum of the inner dimensions, the number of rounded operations per output entry.
    A length-k inner product loses at most 2k realmin to underflow (k products and k sums, each
    flushed to zero at worst), and what one stage loses is scaled by the magnitudes of the
    factors applied after it. The bound adds that loss for left-to-right and for right-to-left
    evaluation, so it covers both orders, e.g. (v^T A) u and v^T (A u). Magnitudes are
    multiplied in float64 with |.| applied entrywise. ``label`` names the factors.
    """
    if not factors:
        raise ValueError("product needs at least one factor")
    tiny = float(np.finfo(np.dtype(dtype)).tiny)
    magnitudes = [np.abs(np.asarray(f, dtype=np.float64)) for f in factors]
    value = magnitudes[0]
    for m in magnitudes[1:]:
        value = value @ m
    inner = sum(m.shape[-1] if m.ndim else 1 for m in magnitudes[:-1])
    lost = _underflow_left_to_right(magnitudes, tiny) + _underflow_left_to_right(_reversed_chain(magnitudes), tiny).T

    name = np.dtype(dtype).name
    rounding = gamma(inner, dtype)
    text = f"gamma_{inner} {label or f'|product of {len(factors)} factors|'} + underflow ({name})"
    return Bound(rounding * value + (1.0 + rounding) * lost, text)


def _underflow_left_to_right(magnitudes: list[np.ndarray], tiny: float) -> np.ndarray:
    """Absolute loss to underflow when (((F1 F2) F3) ...) is evaluated left to right."""
    value = magnitudes[0]
    lost = np.zeros_like(value)
    for m in magnitudes[1:]:
        length = value.shape[-1] if value.ndim else 1
        lost = lost @ m + 2 * length * tiny
        value = value @ m
    return lost


def _reversed_chain(magnitudes: list[np.ndarray]) -> list[np.ndarray]:
    """Return the factors of (F1 ... Fm)^T = Fm^T ... F1^T. Right-to-left evaluation of the
    product is left-to-right evaluation of this transposed chain."""
    return [m.T for m in reversed(magnitudes)]


def rounded(magnitude: Any, operations: int, *, dtype: Any = np.float64, label: str = "|x|") -> Bound:
    """Return gamma_k |x| + 2k realmin: k rounded operations applied to a value of size |x|.

    The realmin term covers results flushed to zero in a length-k inner product (k products and
    k sums) whose result is not scaled further. A chain of products, where an intermediate may
    underflow and later factors scale the loss up, needs :func:`product`.
    """
    return _rounding_bound(np.abs(np.asarray(magnitude, dtype=np.float64)), operations, dtype, label)


def _rounding_bound(magnitude: np.ndarray, operations: int, dtype: Any, label: str) -> Bound:
    tiny = float(np.finfo(np.dtype(dtype)).tiny)
    array = gamma(operations, dtype) * magnitude + 2 * operations * tiny
    name = np.dtype(dtype).name
    return Bound(array, f"gamma_{operations} {label} + {2 * operations} realmin ({name})")
