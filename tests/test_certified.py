"""Calibration of the certified mean test: false alarm rate, power, and rejected mutants.

Each test runs many seeded, independent mean tests on the dropout loss of a fixed problem and
bounds the number of rejections with an exact binomial quantile at level 1e-6, so a correct
test fails this file with probability at most about 1e-6.
"""

from fractions import Fraction

import numpy as np
import pytest

from theorems import ClaimViolation
from theorems.certified import (
    assert_true_mean_equal,
    bernstein_half_width,
    bernstein_interval,
    binomial_upper_quantile,
    design_mean_test,
    dkwm_interval,
    dkwm_sample_count,
    empirical_bernstein_interval,
)
from theorems.dropout import (
    _p_squared_objective,
    _row_norm_objective,
    _squared_norm_diagonal_objective,
    dropout_loss_variance,
    dropout_objective,
    loss_range,
    sample_dropout_losses,
)
from theorems.exact import fractions_of

RUNS = 1000
CHUNK = 4096
LEVEL = 1e-6

# Square, so that a Gamma~ built from row norms has the right size and fails on its values.
X = np.array([[1.0, -0.5, 2.0], [0.25, 1.0, 0.0], [-1.0, 0.75, 0.5]])
Y = np.array([1.0, -2.0, 0.5])
W = np.array([0.5, -1.0, 0.75])
P = 0.25


def problem_parts():
    Xf, yf, wf, p = fractions_of(X), fractions_of(Y), fractions_of(W), Fraction(P)
    kept = Xf * wf
    low, high = loss_range(kept, yf)
    return kept, float(dropout_objective(Xf, yf, wf, p)), float(low), float(high), float(dropout_loss_variance(kept, yf, p))


def run_tests(expected, samples_per_run, alpha, seed=7):
    kept, _, low, high, variance = problem_parts()
    a = np.asarray(kept, dtype=np.float64)
    draws = sample_dropout_losses(a, Y, P, RUNS * samples_per_run, seed).reshape(RUNS, samples_per_run)
    rejections = 0
    for run in draws:
        interval = bernstein_interval(run, low=low, high=high, variance_bound=variance, alpha=alpha)
        rejections += not interval.contains(expected)
    return rejections


def test_false_alarm_rate_at_most_alpha():
    _, expected, *_ = problem_parts()
    rejections = run_tests(expected, CHUNK, alpha=0.01)

    assert rejections <= binomial_upper_quantile(RUNS, 0.01, LEVEL), f"{rejections} of {RUNS} true identities rejected"


def test_designed_discrepancy_detected():
    _, expected, low, high, variance = problem_parts()
    alpha, beta = 0.01, 0.01
    width = high - low
    discrepancy = bernstein_half_width(CHUNK, width, variance, alpha / 2) + bernstein_half_width(CHUNK, width, variance, beta)
    design = design_mean_test(discrepancy, low=low, high=high, variance_bound=variance, alpha=alpha, beta=beta)
    assert design.samples <= CHUNK

    rejections = run_tests(expected + discrepancy, CHUNK, alpha=alpha)
    misses = RUNS - rejections

    assert misses <= binomial_upper_quantile(RUNS, beta, LEVEL), f"{misses} of {RUNS} shifted means passed"


@pytest.mark.parametrize("objective", [_p_squared_objective, _row_norm_objective, _squared_norm_diagonal_objective])
def test_expected_loss_mutants_rejected(objective):
    Xf, yf, wf, p = fractions_of(X), fractions_of(Y), fractions_of(W), Fraction(P)
    kept, _, low, high, variance = problem_parts()
    wrong = float(objective(Xf, yf, wf, p))
    design = design_mean_test(abs(wrong - float(dropout_objective(Xf, yf, wf, p))) / 2, low=low, high=high, variance_bound=variance)
    samples = sample_dropout_losses(np.asarray(kept, dtype=np.float64), Y, P, design.samples, 11)

    with pytest.raises(ClaimViolation, match="outside"):
        assert_true_mean_equal(samples, wrong, design, seed=11)


def test_true_expected_loss_accepted():
    kept, expected, low, high, variance = problem_parts()
    design = design_mean_test(expected / 10, low=low, high=high, variance_bound=variance)
    samples = sample_dropout_losses(np.asarray(kept, dtype=np.float64), Y, P, design.samples, 11)

    interval = assert_true_mean_equal(samples, expected, design, seed=11)

    assert interval.contains(expected)


def test_bernstein_needs_fewer_samples_than_dkwm():
    _, expected, low, high, variance = problem_parts()

    design = design_mean_test(expected / 10, low=low, high=high, variance_bound=variance)

    assert design.samples < dkwm_sample_count(expected / 10, low, high, 1e-9, 1e-3)
    assert design.ratio_to_dkwm < 1


def test_other_intervals_cover_true_mean():
    kept, expected, low, high, _ = problem_parts()
    samples = sample_dropout_losses(np.asarray(kept, dtype=np.float64), Y, P, 4 * CHUNK, 3)

    assert dkwm_interval(samples, low=low, high=high).contains(expected)
    assert empirical_bernstein_interval(samples, low=low, high=high).contains(expected)


def test_sample_outside_range_is_error():
    with pytest.raises(ValueError, match="outside the declared range"):
        bernstein_interval([0.0, 2.0], low=0.0, high=1.0, variance_bound=0.25)


@pytest.mark.parametrize("alpha", [0.0, 1.0, -0.5])
def test_invalid_alpha_rejected(alpha):
    with pytest.raises(ValueError, match=r"alpha=.* is invalid: an error rate must lie in \(0, 1\)"):
        design_mean_test(1.0, low=0.0, high=1.0, variance_bound=0.1, alpha=alpha)


def test_seed_from_environment(monkeypatch):
    from theorems.certified import default_seed

    monkeypatch.setenv("THEOREMS_SEED", "123")
    assert default_seed() == 123
    monkeypatch.setenv("THEOREMS_SEED", "abc")
    with pytest.raises(ValueError, match="THEOREMS_SEED='abc' is invalid"):
        default_seed()


def test_binomial_quantile_small_case():
    # Binomial(10, 1/2): P(X > 8) = 11/1024 <= 0.02 < P(X > 7) = 56/1024.
    assert binomial_upper_quantile(10, Fraction(1, 2), 0.02) == 8
