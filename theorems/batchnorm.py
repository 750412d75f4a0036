"""Batch-norm standardization makes every column of a batch the same norm.

Batch normalization (Ioffe and Szegedy, "Batch normalization: accelerating deep network
training by reducing internal covariate shift", ICML 2015) standardizes each feature over the
batch: z_ij = (x_ij - mu_j) / sigma_j with mu_j the column mean and sigma_j^2 the population
variance (divisor n). With eps = 0 and no constant column,

.. math:: \\|z_j\\|^2 = \\sum_i (x_{ij} - \\mu_j)^2 / \\sigma_j^2 = n \\sigma_j^2 / \\sigma_j^2 = n,

so every column has norm sqrt(n): the analogue of dropout's equal column norms of X~.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from hypothesis import note
from hypothesis import strategies as st

from strategies.probability import design_matrices
from theorems import assert_close, claim, error_model
from theorems._registry import Source

__all__ = ["standardize_columns"]

SOURCE = Source(
    "part 3, Regularization and Dropout",
    "Ioffe and Szegedy, Batch normalization: accelerating deep network training by reducing "
    "internal covariate shift, ICML 2015",
)


def standardize_columns(X: np.ndarray) -> np.ndarray:
    """Return (X - column mean) / column population standard deviation, with eps = 0.

    Each column is first divided by the power of two at or below its max abs entry, which is
    exact and cancels in the result, so huge or tiny columns neither overflow nor underflow.

    Raises:
        ValueError: X is not a 2-D finite matrix, X has fewer than 2 rows (one row makes every
            column constant), or a column is constant (its deviation is 0).
    """
    X = np.asarray(X, dtype=np.float64)
    if X.ndim != 2 or not np.all(np.isfinite(X)):
        raise ValueError(f"X={X!r} is invalid: need a 2-D matrix of finite entries")
    if X.shape[0] < 2:
        raise ValueError(
            f"X has shape {X.shape!r}: standardization needs at least 2 rows, because a column "
            "with fewer rows is constant and has standard deviation 0"
        )
    X = X / _power_of_two_scales(X)
    deviations = X - X.mean(axis=0)
    scale = np.sqrt((deviations * deviations).mean(axis=0))
    constant = np.flatnonzero(scale == 0.0)
    if constant.size:
        raise ValueError(f"column {int(constant[0])} of X is constant, so its standard deviation is 0 and eps = 0 divides by it")
    return deviations / scale


def _power_of_two_scales(X: np.ndarray) -> np.ndarray:
    """Return, per column, the power of two 2^e with 2^e <= max |x_ij| < 2^(e+1), or 1 for a
    zero column. Dividing by it is exact, also for subnormal entries."""
    largest = np.abs(X).max(axis=0)
    _, exponents = np.frexp(largest)
    return np.where(largest > 0, np.ldexp(1.0, exponents - 1), 1.0)


def _non_constant(X: np.ndarray) -> np.ndarray:
    X = X.copy()
    for j in range(X.shape[1]):
        if np.all(X[:, j] == X[0, j]):
            X[0, j] += max(1.0, abs(X[0, j]))  # a different first entry, of the column's size
    return X


@st.composite
def _batches(draw: st.DrawFn) -> np.ndarray:
    rows = draw(st.integers(2, 6), label="n")
    cols = draw(st.integers(1, 4), label="d")
    return _non_constant(draw(design_matrices(rows, cols), label="X"))


@claim(
    "batchnorm.equal_column_norms",
    title="Batch-norm standardization (eps = 0) gives every non-constant column norm sqrt(n)",
    statement=r"z_{ij}=(x_{ij}-\mu_j)/\sigma_j\ \Rightarrow\ \|z_j\|=\sqrt n",
    source=SOURCE,
    strategy=_batches(),
    evidence="numerical",
    notes=(
        "Domain: n >= 2 rows and no constant column (a constant column has sigma = 0). "
        "sigma_j is computed from the same rounded deviations that are divided by it, so the "
        "result does not depend on cancellation in the mean. Tolerance: gamma_{3n+8} sqrt(n)."
    ),
)
def equal_column_norms(X: np.ndarray, *, standardize: Callable[[np.ndarray], np.ndarray] = standardize_columns) -> None:
    rows = X.shape[0]
    norms = np.linalg.norm(standardize(X), axis=0)
    target = np.full_like(norms, np.sqrt(rows))
    note(f"column norms {norms.tolist()}")
    assert_close(norms, target, error_model.rounded(np.sqrt(rows), 3 * rows + 8, label="sqrt(n)"), what="column norms and sqrt(n)")


def _sample_standardize(X: np.ndarray) -> np.ndarray:
    deviations = X - X.mean(axis=0)
    return deviations / np.sqrt((deviations * deviations).sum(axis=0) / (X.shape[0] - 1))


equal_column_norms.mutant("sample_variance", description="divisor n - 1 (sample variance) in place of n", standardize=_sample_standardize)
equal_column_norms.mutant(
    "no_centering", description="divide by the standard deviation without subtracting the mean", standardize=lambda X: X / X.std(axis=0)
)
