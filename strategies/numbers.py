"""Scalar strategies that reach the hard corners of floating point on purpose.

``entries()`` mixes exact zeros, small integers and dyadic fractions (on which float64
arithmetic is exact, so analytic zeros such as ReLU kinks stay exactly zero) with general
floats in [-1, 1]. ``scales()`` draws a power of two, so multiplying by it is exact and moves an
array to tiny or huge magnitudes without changing its digits. Both shrink towards 0 and 1.
"""

from __future__ import annotations

from hypothesis import strategies as st

__all__ = ["DEFAULT_MAX_EXPONENT", "dyadics", "entries", "scales"]

# Three factors of 2^±90 stay inside float64's normal range (2^±1022) with room for sums.
DEFAULT_MAX_EXPONENT = 90


def dyadics(max_numerator: int = 16, max_denominator_exponent: int = 4) -> st.SearchStrategy[float]:
    """Draw m / 2^k with |m| <= max_numerator * 2^k, 0 <= k <= max_denominator_exponent: exactly
    representable numbers of magnitude at most max_numerator whose products and short sums are
    exact in float64. Shrinks towards 0."""
    scale = 2**max_denominator_exponent
    return st.integers(-max_numerator * scale, max_numerator * scale).map(lambda m: m / scale)


def entries(*, exact_only: bool = False) -> st.SearchStrategy[float]:
    """Draw one array entry: 0, a small integer, a dyadic fraction, or (unless ``exact_only``)
    a general float in [-1, 1] without subnormals. Shrinks towards 0."""
    exact = st.one_of(st.integers(-4, 4).map(float), dyadics())
    if exact_only:
        return exact
    general = st.floats(-1.0, 1.0, allow_nan=False, allow_infinity=False, allow_subnormal=False)
    return st.one_of(exact, general)


def scales(max_exponent: int = DEFAULT_MAX_EXPONENT) -> st.SearchStrategy[float]:
    """Draw 2^e with |e| <= max_exponent; e = 0 (scale 1) is the shrink target and is drawn often."""
    exponent = st.one_of(st.just(0), st.integers(-max_exponent, max_exponent))
    return exponent.map(lambda e: 2.0**e)
