"""Input validation of the dropout and ridge helpers, and the exact moments behind the
certified Monte Carlo test, checked against enumeration of all masks."""

from fractions import Fraction

import numpy as np
import pytest
import sympy
from hypothesis import given

from strategies.probability import dropout_problems, keep_probabilities
from theorems.batchnorm import standardize_columns
from theorems.dropout import (
    column_norms_squared,
    dropout_loss_variance,
    dropout_objective,
    gamma_scale,
    inverted_dropout_objective,
    loss_range,
    sample_dropout_losses,
    validate_dropout_problem,
)
from theorems.exact import bernoulli_expectation, enumerate_masks, integers_over_common_denominator
from theorems.ridge import dropout_ridge_design, equal_column_norm, validate_ridge_strength

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


# --- validation of the public helpers --------------------------------------------------------

KEEP_PROBABILITY_INVALID = r"keep probability p=.* is invalid: p must lie in \(0, 1\]"


@pytest.mark.parametrize("p", [0, 1.5, -0.5, float("nan"), True])
def test_gamma_scale_rejects_keep_probability(p):
    with pytest.raises(ValueError, match=KEEP_PROBABILITY_INVALID):
        gamma_scale(p)


def test_gamma_scale_accepts_numpy_and_fraction():
    assert gamma_scale(np.float32(0.5)) == 1.0
    assert gamma_scale(Fraction(1, 2)) == 1.0
    assert gamma_scale(1) == 0.0


@pytest.mark.parametrize("objective", [dropout_objective, inverted_dropout_objective])
@pytest.mark.parametrize("p", [0, 2.0, float("nan")])
def test_objective_rejects_keep_probability(objective, p):
    with pytest.raises(ValueError, match=KEEP_PROBABILITY_INVALID):
        objective(X, Y, W, p)


@pytest.mark.parametrize("objective", [dropout_objective, inverted_dropout_objective])
def test_objective_rejects_nan_data(objective):
    data = X.copy()
    data[0, 0] = np.nan
    with pytest.raises(ValueError, match=r"(?s)^X=.* is invalid: every entry must be finite"):
        objective(data, Y, W, 0.5)


@pytest.mark.parametrize("objective", [dropout_objective, inverted_dropout_objective])
def test_objective_rejects_mismatched_targets(objective):
    with pytest.raises(ValueError, match=r"y has shape \(2,\); with X of shape \(3, 2\) it must have shape \(3,\)"):
        objective(X, Y[:2], W, 0.5)


def test_objective_still_exact_and_symbolic():
    fractions = [np.vectorize(Fraction, otypes=[object])(a) for a in (X, Y, W)]
    exact = dropout_objective(*fractions, Fraction(1, 2))
    symbol = sympy.Symbol("p", positive=True)
    symbolic = dropout_objective(X.astype(object), Y.astype(object), W.astype(object), symbol)

    assert isinstance(exact, Fraction)
    assert sympy.simplify(symbolic.subs(symbol, sympy.Rational(1, 2)) - sympy.Rational(exact.numerator, exact.denominator)) == 0


def test_column_norms_squared_rejects_vector():
    with pytest.raises(ValueError, match=r"X has shape \(3,\); X must be a 2-D n x d matrix"):
        column_norms_squared(Y)


@pytest.mark.parametrize("p", [1.5, float("nan"), 0.0])
def test_sample_losses_reject_keep_probability(p):
    with pytest.raises(ValueError, match=KEEP_PROBABILITY_INVALID):
        sample_dropout_losses(X * W, Y, p, 10, 0)


def test_sample_losses_reject_large_shape():
    with pytest.raises(ValueError, match=r"kept_terms has shape \(20, 20\); the maximum shape is 10 x 5"):
        sample_dropout_losses(np.ones((20, 20)), np.ones(20), 0.5, 10, 0)


@pytest.mark.parametrize("samples", [0, -5, 2.5, True])
def test_sample_losses_reject_sample_count(samples):
    with pytest.raises(ValueError, match=rf"samples={samples!r} is invalid: it must be an integer >= 1"):
        sample_dropout_losses(X * W, Y, 0.5, samples, 0)


def test_sample_losses_reject_mismatched_targets():
    with pytest.raises(ValueError, match=r"y has shape \(2,\); with kept_terms of shape \(3, 2\) it must have shape \(3,\)"):
        sample_dropout_losses(X * W, Y[:2], 0.5, 10, 0)


def test_loss_variance_rejects_keep_probability():
    kept = np.array([[Fraction(1), Fraction(-2)]], dtype=object)
    with pytest.raises(ValueError, match=KEEP_PROBABILITY_INVALID):
        dropout_loss_variance(kept, np.array([Fraction(1)], dtype=object), Fraction(2))


def test_loss_range_rejects_mismatched_targets():
    kept = np.array([[Fraction(1)], [Fraction(2)]], dtype=object)
    with pytest.raises(ValueError, match=r"y has shape \(1,\); with kept_terms of shape \(2, 1\) it must have shape \(2,\)"):
        loss_range(kept, np.array([Fraction(1)], dtype=object))


@pytest.mark.parametrize(("p", "lam"), [(1, 1.0), (0, 1.0), (2, 1.0), (float("nan"), 1.0), (0.5, -1.0)])
def test_equal_column_norm_rejects_input(p, lam):
    with pytest.raises(ValueError, match=r"(keep probability p=.* is invalid: p must lie in \(0, 1\)|p=1 gives Gamma = 0|lambda=-1.0 is invalid)"):
        equal_column_norm(p, lam)


def test_ridge_accepts_numpy_floats():
    validate_ridge_strength(np.float32(1))
    design = dropout_ridge_design(X[:, :1], np.float32(0.5), 1.0)

    np.testing.assert_allclose(np.linalg.norm(design, axis=0), [1.0])


def test_ridge_strength_rejects_bool():
    with pytest.raises(ValueError, match=r"ridge strength lambda=True is invalid"):
        validate_ridge_strength(True)


@pytest.mark.parametrize("magnitude", [1e200, 1e-200])
def test_ridge_design_extreme_columns(magnitude):
    design = dropout_ridge_design(np.array([[magnitude], [magnitude]]), 0.5, 1.0)

    np.testing.assert_allclose(design.ravel(), [2**-0.5, 2**-0.5], rtol=1e-15)


def test_ridge_design_rejects_overflowing_norm():
    with pytest.raises(ValueError, match=r"column 0 of X has a norm above the float64 maximum"):
        dropout_ridge_design(np.array([[1.7e308], [1.7e308]]), 0.5, 1.0)


@pytest.mark.parametrize("rows", [0, 1])
def test_batchnorm_needs_two_rows(rows):
    with pytest.raises(ValueError, match=rf"X has shape \({rows}, 2\): standardization needs at least 2 rows"):
        standardize_columns(np.ones((rows, 2)))


@pytest.mark.parametrize("magnitude", [1e200, 1e-200, 1.7e308])
def test_batchnorm_extreme_columns(magnitude):
    z = standardize_columns(np.array([[magnitude], [-magnitude]]))

    np.testing.assert_array_equal(z.ravel(), [1.0, -1.0])
