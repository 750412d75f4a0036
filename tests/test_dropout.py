"""Input validation of the dropout and ridge helpers, and the exact moments behind the
certified Monte Carlo test, checked against enumeration of all masks."""

from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given

from strategies.probability import dropout_problems, keep_probabilities
from theorems.batchnorm import standardize_columns
from theorems.dropout import dropout_loss_variance, loss_range, validate_dropout_problem
from theorems.exact import bernoulli_expectation, enumerate_masks, integers_over_common_denominator
from theorems.ridge import dropout_ridge_design, validate_ridge_strength

X = np.array([[1.0, 2.0], [3.0, -1.0], [0.5, 0.0]])
Y = np.array([1.0, 0.0, -1.0])
W = np.array([0.5, -2.0])


@pytest.mark.parametrize("p", [0.0, -0.25, 1.5, float("nan")])
def test_keep_probability_outside_range(p):
    with pytest.raises(ValueError, match=r"keep probability p=.* is invalid: p must lie in \(0, 1\]"):
        validate_dropout_problem(X, Y, W, p)


@pytest.mark.parametrize("name", ["X", "y", "w"])
def test_non_finite_array(name):
    arrays = {"X": X.copy(), "y": Y.copy(), "w": W.copy()}
    arrays[name].flat[0] = np.inf
    with pytest.raises(ValueError, match=rf"(?s)^{name}=.* is invalid: every entry must be finite"):
        validate_dropout_problem(arrays["X"], arrays["y"], arrays["w"], 0.5)


def test_mismatched_targets():
    with pytest.raises(ValueError, match=r"y has shape \(2,\); with X of shape \(3, 2\) it must have shape \(3,\)"):
        validate_dropout_problem(X, Y[:2], W, 0.5)


def test_mismatched_weights():
    with pytest.raises(ValueError, match=r"w has shape \(3,\); with X of shape \(3, 2\) it must have shape \(2,\)"):
        validate_dropout_problem(X, Y, np.ones(3), 0.5)


def test_data_not_a_matrix():
    with pytest.raises(ValueError, match=r"X has shape \(3,\); X must be a 2-D n x d matrix"):
        validate_dropout_problem(Y, Y, W, 0.5)


@pytest.mark.parametrize("lam", [0.0, -1.0, float("inf")])
def test_ridge_strength_not_positive(lam):
    with pytest.raises(ValueError, match=r"ridge strength lambda=.* is invalid: lambda must be a finite number > 0"):
        validate_ridge_strength(lam)


def test_zero_column_makes_gamma_singular():
    singular = X.copy()
    singular[:, 1] = 0.0
    with pytest.raises(ValueError, match=r"column 1 of X is zero, so Gamma .* is singular"):
        dropout_ridge_design(singular, 0.5, 1.0)


def test_keep_all_makes_gamma_zero():
    with pytest.raises(ValueError, match=r"p=1 gives Gamma = 0, which is singular"):
        dropout_ridge_design(X, 1.0, 1.0)


def test_constant_column_rejected_by_batchnorm():
    with pytest.raises(ValueError, match=r"column 0 of X is constant"):
        standardize_columns(np.array([[2.0, 1.0], [2.0, 3.0]]))


def test_keep_probabilities_invalid_bounds():
    with pytest.raises(ValueError, match=r"keep_probabilities needs 0 <= low < high <= 1"):
        keep_probabilities(low=0.5, high=0.5)


def _enumerated_moments(problem):
    X, y, w, p = problem.fractions()
    kept = X * w
    masks = enumerate_masks(problem.shape)
    integers, denominator = integers_over_common_denominator(np.concatenate([kept.reshape(-1), y]))
    rows, cols = problem.shape
    a = integers[: rows * cols].reshape(rows, cols)
    residuals = integers[rows * cols :] - (masks * a).sum(axis=2)
    losses = (residuals * residuals).sum(axis=1)
    mean = bernoulli_expectation(losses, masks, p) / denominator**2
    second = bernoulli_expectation(losses * losses, masks, p) / denominator**4
    values = [Fraction(v, denominator**2) for v in losses.tolist()]
    return kept, y, p, mean, second - mean * mean, min(values), max(values)


@given(dropout_problems(max_entries=8))
def test_loss_variance_matches_enumeration(problem):
    kept, y, p, _, variance, _, _ = _enumerated_moments(problem)

    assert dropout_loss_variance(kept, y, p) == variance


@given(dropout_problems(max_entries=8))
def test_loss_range_bounds_enumeration(problem):
    kept, y, _, _, _, least, greatest = _enumerated_moments(problem)

    low, high = loss_range(kept, y)

    assert low <= least
    assert high == greatest
