"""Strategies for dropout and ridge inputs: keep probabilities, ridge strengths, design matrices.

Keep probabilities reach both edges of (0, 1] (p = 1, which turns dropout off, and tiny p) and
stay mostly away from 1/2, where p^2 = p (1 - p) and a formula that confuses the two agrees
with the right one. Design matrices have whole columns that are zero, tiny (2^-60) or large
(2^60), because dropout's penalty and the ridge change of variables act per column.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

import numpy as np
from hypothesis import strategies as st

from strategies.numbers import dyadics, entries

__all__ = [
    "COLUMN_SCALES",
    "DropoutProblem",
    "design_matrices",
    "dropout_problems",
    "keep_probabilities",
    "ridge_strength_roots",
]

# Whole columns are scaled by one of these powers of two: ordinary, tiny and large magnitudes.
COLUMN_SCALES = (1.0, 2.0**-60, 2.0**60)

# Dyadic keep probabilities at the edges and away from 1/2; 1/4 first, so it is the shrink target.
_EDGE_PROBABILITIES = (0.25, 1.0, 0.75, 0.125, 0.875, 1.0 / 16, 15.0 / 16, 2.0**-10, 1.0 - 2.0**-10, 2.0**-20)


def keep_probabilities(*, include_one: bool = True, low: float = 0.0, high: float = 1.0) -> st.SearchStrategy[float]:
    """Draw a keep probability p in (low, high], (low, high) without ``include_one`` when high = 1.

    Values are dyadic (m / 2^k), so Fraction(p) is exact and 1 - p is exact in float64: the
    edge values above, then m / 2^k for k <= 12. Shrinks towards 1/4.

    Raises:
        ValueError: the bounds do not satisfy 0 <= low < high <= 1.
    """
    if not 0.0 <= low < high <= 1.0:
        raise ValueError(f"keep_probabilities needs 0 <= low < high <= 1, got low={low!r}, high={high!r}")

    def allowed(p: float) -> bool:
        return low < p <= high and (include_one or p < 1.0)

    edges = [p for p in _EDGE_PROBABILITIES if allowed(p)]
    general = st.integers(1, 12).flatmap(lambda k: st.integers(1, 2**k).map(lambda m: m / 2.0**k)).filter(allowed)
    return st.one_of(st.sampled_from(edges), general) if edges else general


def ridge_strength_roots() -> st.SearchStrategy[float]:
    """Draw s = lambda^(1/2) = (m / 8) 2^e with 1 <= m <= 16 and |e| <= 10, so lambda = s^2 spans
    about 14 decades and both lambda and its square root are exact rationals. Shrinks to 1/8."""
    return st.builds(lambda m, e: (m / 8.0) * 2.0**e, st.integers(1, 16), st.one_of(st.just(0), st.integers(-10, 10)))


def _column(rows: int, *, exact_only: bool, allow_zero: bool) -> st.SearchStrategy[np.ndarray]:
    values = st.lists(entries(exact_only=exact_only), min_size=rows, max_size=rows)
    scale = st.sampled_from(COLUMN_SCALES)

    def build(column: list[float], factor: float, zero: bool) -> np.ndarray:
        array = np.asarray(column, dtype=np.float64) * factor
        if zero:
            return np.zeros(rows)
        if not allow_zero and not array.any():
            array[0] = factor  # keep the column's magnitude class, but make it nonzero
        return array

    zero = st.booleans() if allow_zero else st.just(False)
    return st.builds(build, values, scale, zero)


def design_matrices(
    rows: int, cols: int, *, exact_only: bool = True, allow_zero_columns: bool = True
) -> st.SearchStrategy[np.ndarray]:
    """Draw a float64 rows x cols matrix, column by column; each column is zero (when allowed),
    or entries of :func:`strategies.numbers.entries` times 1, 2^-60 or 2^60. With
    ``exact_only`` every entry is a small dyadic number, so products of a few entries are exact.
    Shrinks towards zero entries and unscaled columns."""
    columns = [_column(rows, exact_only=exact_only, allow_zero=allow_zero_columns) for _ in range(cols)]
    return st.tuples(*columns).map(lambda cs: np.stack(cs, axis=1) if cs else np.zeros((rows, 0)))


@dataclass(frozen=True)
class DropoutProblem:
    """A least-squares problem under dropout: data X (n x d), targets y, weights w, keep
    probability p. All entries are finite floats whose ``Fraction`` values are exact."""

    X: np.ndarray
    y: np.ndarray
    w: np.ndarray
    p: float

    @property
    def shape(self) -> tuple[int, int]:
        return self.X.shape

    def fractions(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, Fraction]:
        from theorems.exact import fractions_of

        return fractions_of(self.X), fractions_of(self.y), fractions_of(self.w), Fraction(self.p)


@st.composite
def dropout_problems(
    draw: st.DrawFn,
    *,
    max_rows: int = 4,
    max_cols: int = 3,
    max_entries: int | None = None,
    exact_only: bool = True,
    allow_zero_columns: bool = True,
    probabilities: st.SearchStrategy[float] | None = None,
    large_targets: bool = True,
) -> DropoutProblem:
    """Draw a :class:`DropoutProblem` with 1 <= n <= max_rows, 1 <= d <= max_cols and n d <=
    ``max_entries`` (when given). Weights are dyadic; targets are entries times 1, or
    times 2^60 too when ``large_targets``.
    Shrinks towards a 1 x 1 problem with p = 1/4."""
    rows = draw(st.integers(1, max_rows), label="n")
    limit = max_cols if max_entries is None else max(1, min(max_cols, max_entries // rows))
    cols = draw(st.integers(1, limit), label="d")
    X = draw(design_matrices(rows, cols, exact_only=exact_only, allow_zero_columns=allow_zero_columns), label="X")
    y_scale = draw(st.sampled_from((1.0, 2.0**60) if large_targets else (1.0,)), label="y scale")
    y = np.asarray(draw(st.lists(entries(exact_only=exact_only), min_size=rows, max_size=rows)), dtype=np.float64)
    w = np.asarray(draw(st.lists(dyadics(), min_size=cols, max_size=cols), label="w"), dtype=np.float64)
    p = draw(probabilities if probabilities is not None else keep_probabilities(), label="p")
    return DropoutProblem(X=X, y=y * y_scale, w=w, p=p)
