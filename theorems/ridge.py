"""Tikhonov regularization is ridge regression after a change of variables.

For an invertible Gamma and lambda > 0, with X~ = lambda^(1/2) X Gamma^(-1) and
w~ = lambda^(-1/2) Gamma w (Tikhonov regularization; Hoerl and Kennard, "Ridge regression",
Technometrics 12, 1970):

.. math:: \\|y - Xw\\|^2 + \\|\\Gamma w\\|^2 = \\|y - \\tilde X \\tilde w\\|^2 + \\lambda \\|\\tilde w\\|^2,

and the minimizers correspond. For the dropout Gamma = sqrt((1-p)/p) diag(||f_j||), every
column of X~ has the same norm c = lambda^(1/2) sqrt(p / (1-p)) (Srivastava et al., JMLR 15, 2014).
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import numpy as np
from hypothesis import note
from hypothesis import strategies as st

from strategies.numbers import dyadics
from strategies.probability import design_matrices, keep_probabilities, ridge_strength_roots
from theorems import assert_close, assert_equal, claim, error_model
from theorems._registry import Source
from theorems.exact import fractions_of, solve_rational

__all__ = ["dropout_ridge_design", "equal_column_norm", "validate_ridge_strength"]

SOURCE = Source(
    "part 3, Regularization and Dropout",
    "Tikhonov regularization; Hoerl and Kennard, Ridge regression, Technometrics 12 (1970)",
)


def _is_real_number(value: Any) -> bool:
    """Return whether ``value`` is a real number (int, float, Fraction or NumPy scalar), not a bool."""
    return isinstance(value, numbers.Real) and not isinstance(value, (bool, np.bool_))


def validate_ridge_strength(lam: float) -> None:
    """Raises ValueError unless lambda is a finite real number > 0 (a bool is rejected)."""
    if not (_is_real_number(lam) and math.isfinite(lam) and lam > 0):
        raise ValueError(f"ridge strength lambda={lam!r} is invalid: lambda must be a finite number > 0")


def _validate_open_keep_probability(p: float) -> None:
    """Raise ValueError unless 0 < p < 1, the range where the dropout Gamma is invertible."""
    if not (_is_real_number(p) and 0 < p <= 1):
        raise ValueError(f"keep probability p={p!r} is invalid: p must lie in (0, 1)")
    if p == 1:
        raise ValueError("keep probability p=1 gives Gamma = 0, which is singular: use p in (0, 1)")


def _column_norms(X: np.ndarray) -> np.ndarray:
    """Return the Euclidean norm of each column of a finite X without overflow or underflow.

    Each column is divided by the power of two 2^e with 2^e <= max |x_ij| < 2^(e+1) before it
    is squared and summed, and the norm is multiplied back by 2^e. Both steps are exact, so the
    result rounds as the plain formula does wherever that one neither overflows nor underflows.

    Raises:
        ValueError: a column's norm exceeds the float64 maximum.
    """
    largest = np.abs(X).max(axis=0)
    _, exponents = np.frexp(largest)
    scales = np.where(largest > 0, np.ldexp(1.0, exponents - 1), 1.0)
    with np.errstate(over="ignore"):
        norms = np.linalg.norm(X / scales, axis=0) * scales
    overflowed = np.flatnonzero(~np.isfinite(norms))
    if overflowed.size:
        column = int(overflowed[0])
        raise ValueError(
            f"column {column} of X has a norm above the float64 maximum {float(np.finfo(np.float64).max)!r}, "
            "so Gamma is not representable. Scale X down."
        )
    return norms


def dropout_ridge_design(X: Any, p: float, lam: float) -> np.ndarray:
    """Return X~ = lambda^(1/2) X Gamma^(-1) for the dropout Gamma = sqrt((1-p)/p) diag(||f_j||).

    Raises:
        ValueError: p outside (0, 1); p = 1 (Gamma = 0 is singular); p so small that
            sqrt((1-p)/p) overflows; lambda <= 0; a non-finite entry; X not 2-D; a column
            norm above the float64 maximum; or a zero column f_j, which makes Gamma singular.
    """
    _validate_open_keep_probability(p)
    validate_ridge_strength(lam)
    p, lam = float(p), float(lam)
    factor = math.sqrt((1.0 - p) / p)
    if not math.isfinite(factor):
        raise ValueError(f"keep probability p={p!r} is too small: sqrt((1-p)/p) overflows float64")
    X = np.asarray(X, dtype=np.float64)
    if X.ndim != 2:
        raise ValueError(f"X has shape {X.shape!r}; X must be a 2-D n x d matrix")
    if not np.all(np.isfinite(X)):
        raise ValueError(f"X={X!r} is invalid: every entry must be finite (no NaN or infinity)")
    if X.shape[0] == 0:
        raise ValueError(f"X has shape {X.shape!r}: it needs at least one row, else every column is zero")
    norms = _column_norms(X)
    zero = np.flatnonzero(norms == 0.0)
    if zero.size:
        raise ValueError(
            f"column {int(zero[0])} of X is zero, so Gamma = sqrt((1-p)/p) diag(||f_j||) is singular; "
            "drop the column or use a Gamma with positive diagonal"
        )
    # Dividing by the norms first keeps every entry in [-1, 1], so the product cannot overflow.
    return X / norms * (math.sqrt(lam) / factor)


def equal_column_norm(p: float, lam: float) -> float:
    """Return c = lambda^(1/2) sqrt(p / (1-p)), the common column norm of X~.

    Raises:
        ValueError: p outside (0, 1) or lambda not a finite number > 0.
    """
    _validate_open_keep_probability(p)
    validate_ridge_strength(lam)
    p, lam = float(p), float(lam)
    return math.sqrt(lam) * math.sqrt(p / (1.0 - p))


# --- ridge.change_of_variables: exact ------------------------------------------------------------


@dataclass(frozen=True)
class RidgeProblem:
    """Data X, targets y, weights w, an invertible Gamma = P L D U and s = lambda^(1/2)."""

    X: np.ndarray
    y: np.ndarray
    w: np.ndarray
    gamma: np.ndarray
    root: float


@st.composite
def _ridge_problems(draw: st.DrawFn) -> RidgeProblem:
    rows = draw(st.integers(1, 4), label="n")
    cols = draw(st.integers(1, 3), label="d")
    X = draw(design_matrices(rows, cols), label="X")
    y = np.asarray(draw(st.lists(dyadics(), min_size=rows, max_size=rows)), dtype=np.float64)
    w = np.asarray(draw(st.lists(dyadics(), min_size=cols, max_size=cols)), dtype=np.float64)
    # Gamma = P L D U with unit triangular L, U, nonzero diagonal D and a permutation P is
    # invertible by construction, and every invertible matrix has this form.
    off = st.lists(dyadics(), min_size=cols * cols, max_size=cols * cols).map(lambda v: np.asarray(v).reshape(cols, cols))
    lower = np.tril(draw(off, label="L"), -1) + np.eye(cols)
    upper = np.triu(draw(off, label="U"), 1) + np.eye(cols)
    diagonal = draw(st.lists(dyadics().filter(lambda v: v != 0), min_size=cols, max_size=cols), label="D")
    order = draw(st.permutations(range(cols)), label="P")
    gamma = (np.eye(cols)[list(order)] @ lower @ np.diag(diagonal) @ upper)
    return RidgeProblem(X=X, y=y, w=w, gamma=gamma, root=draw(ridge_strength_roots(), label="lambda^(1/2)"))


def _ridge_variables(X: Any, gamma: Any, w: Any, root: Any) -> tuple[Any, Any]:
    """Return (X~, w~) = (lambda^(1/2) X Gamma^(-1), lambda^(-1/2) Gamma w)."""
    inverse = np.column_stack([solve_rational(gamma, column) for column in np.eye(len(w), dtype=int).astype(object)])
    return root * (X @ inverse), (gamma @ w) / root


def _squared_norm(v: Any) -> Any:
    return (v * v).sum()


@claim(
    "ridge.change_of_variables",
    title="Tikhonov with any invertible Gamma is ridge regression in the variables X~, w~",
    statement=(
        r"\tilde X=\lambda^{1/2}X\Gamma^{-1},\ \tilde w=\lambda^{-1/2}\Gamma w:\ "
        r"\|y-Xw\|^2+\|\Gamma w\|^2=\|y-\tilde X\tilde w\|^2+\lambda\|\tilde w\|^2,\ \text{minimizers correspond}"
    ),
    source=SOURCE,
    strategy=_ridge_problems(),
    evidence="exact",
    notes=(
        "Rational arithmetic with Gamma = P L D U (permutation, unit lower, nonzero diagonal, unit "
        "upper; dyadic entries), so Gamma^(-1) is exact and no conditioning assumption is needed. "
        "lambda = s^2 with s = (m/8) 2^e, |e| <= 10, spans about 14 decades. The ridge minimizer "
        "w~* solves (X~^T X~ + lambda I) w~ = X~^T y and must equal lambda^(-1/2) Gamma w*, "
        "where w* solves (X^T X + Gamma^T Gamma) w = X^T y; both systems are nonsingular."
    ),
)
def change_of_variables(problem: RidgeProblem, *, variables: Callable[..., Any] = _ridge_variables) -> None:
    X, y, w, gamma = (fractions_of(a) for a in (problem.X, problem.y, problem.w, problem.gamma))
    root = Fraction(problem.root)
    lam = root * root
    X_ridge, w_ridge = variables(X, gamma, w, root)

    tikhonov = _squared_norm(y - X @ w) + _squared_norm(gamma @ w)
    ridge = _squared_norm(y - X_ridge @ w_ridge) + lam * _squared_norm(w_ridge)
    assert_equal(ridge, tikhonov, what="ridge objective at (X~, w~) and Tikhonov objective at w")

    cols = len(w)
    tikhonov_minimizer = solve_rational(X.T @ X + gamma.T @ gamma, X.T @ y)
    ridge_minimizer = solve_rational(X_ridge.T @ X_ridge + lam * np.eye(cols, dtype=int).astype(object), X_ridge.T @ y)
    _, mapped = variables(X, gamma, tikhonov_minimizer, root)
    note(f"Tikhonov minimizer {tikhonov_minimizer.tolist()}, ridge minimizer {ridge_minimizer.tolist()}")
    assert_equal(ridge_minimizer.tolist(), mapped.tolist(), what="ridge minimizer and lambda^(-1/2) Gamma w*")


def _variables_with_inverted_root(X: Any, gamma: Any, w: Any, root: Any) -> tuple[Any, Any]:
    X_ridge, w_ridge = _ridge_variables(X, gamma, w, root)
    return X_ridge / (root * root), w_ridge


def _variables_with_gamma_transpose(X: Any, gamma: Any, w: Any, root: Any) -> tuple[Any, Any]:
    return _ridge_variables(X, gamma.T, w, root)


change_of_variables.mutant(
    "inverted_root", description="X~ = lambda^(-1/2) X Gamma^(-1)", variables=_variables_with_inverted_root
)
change_of_variables.mutant(
    "gamma_transpose", description="Gamma^T in place of Gamma (equal only for symmetric Gamma)", variables=_variables_with_gamma_transpose
)


# --- ridge.equal_column_norms: float64 -----------------------------------------------------------


@dataclass(frozen=True)
class ColumnNormInput:
    X: np.ndarray
    p: float
    root: float


@st.composite
def _column_norm_inputs(draw: st.DrawFn) -> ColumnNormInput:
    rows = draw(st.integers(1, 6), label="n")
    cols = draw(st.integers(1, 4), label="d")
    # Dyadic entries: with general floats a square can underflow, which the error model excludes.
    X = draw(design_matrices(rows, cols, exact_only=True, allow_zero_columns=False), label="X")
    p = draw(keep_probabilities(include_one=False), label="p")
    return ColumnNormInput(X=X, p=p, root=draw(ridge_strength_roots(), label="lambda^(1/2)"))


@claim(
    "ridge.equal_column_norms",
    title="With the dropout Gamma, every column of X~ has norm lambda^(1/2) sqrt(p/(1-p))",
    statement=r"\Gamma=\sqrt{(1-p)/p}\,\tilde\Gamma:\ \|\tilde f_j\|=c=\lambda^{1/2}\sqrt{p/(1-p)}\ \text{for every } j",
    source=SOURCE,
    strategy=_column_norm_inputs(),
    evidence="numerical",
    notes=(
        "Domain: no zero column and p < 1, on purpose. A zero column or p = 1 makes Gamma "
        "singular, and dropout_ridge_design raises ValueError naming the column or p. Columns are "
        "ordinary, tiny (2^-60) or large (2^60). Tolerance: gamma_{2n+16} c, for two column norms "
        "(n squares and a sum each) and a dozen divisions, products and square roots."
    ),
)
def equal_column_norms(inputs: ColumnNormInput, *, norm: Callable[[float, float], float] = equal_column_norm) -> None:
    lam = inputs.root * inputs.root
    X_ridge = dropout_ridge_design(inputs.X, inputs.p, lam)
    norms = np.linalg.norm(X_ridge, axis=0)
    c = norm(inputs.p, lam)
    rows = inputs.X.shape[0]
    note(f"column norms of X~ {norms.tolist()}, c = {c!r}")
    assert_close(norms, np.full_like(norms, c), error_model.rounded(c, 2 * rows + 16, label="c"), what="column norms of X~ and c")


equal_column_norms.mutant(
    "inverted_factor",
    description="c = lambda^(1/2) sqrt((1-p)/p)",
    norm=lambda p, lam: math.sqrt(lam) * math.sqrt((1.0 - p) / p),
)
