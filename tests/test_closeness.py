"""The closeness check: its pass/fail boundary, its failure messages, and what it records.

Bounds here are powers of two and the compared values are dyadic, so every difference below is
computed exactly and "at the bound" means exactly at the bound.
"""

import re
from fractions import Fraction

import numpy as np
import pytest

from theorems import ClaimViolation, assert_close, assert_equal, assert_that
from theorems._context import run_context
from theorems.error_model import Bound, exact, product

BOUND = Bound(np.array(2.0**-10), "test bound 2^-10")


def test_close_within_bound():
    assert_close(np.array([1.0, -3.0]), np.array([1.0 + 2.0**-11, -3.0]), BOUND)


def test_close_exactly_at_bound():
    assert_close(np.array([1.0]), np.array([1.0 + 2.0**-10]), BOUND)


@pytest.mark.parametrize(
    "expected",
    [
        1.0 + 2.0**-10 * (1.0 + 2.0**-10),
        # One ulp of 1 + 2^-10 beyond the bound: the difference is 2^-10 + 2^-52.
        float(np.nextafter(1.0 + 2.0**-10, 2.0)),
    ],
    ids=["relative_2_to_minus_10", "one_ulp"],
)
def test_close_just_beyond_bound(expected):
    with pytest.raises(ClaimViolation, match="failing entries: 1 of 1"):
        assert_close(np.array([1.0]), np.array([expected]), BOUND)


def _seven_failing_entries():
    """Return a 3 x 3 case whose first seven entries (row-major) fail by 1, 2, ..., 7."""
    actual = np.ones((3, 3))
    offsets = np.zeros(9)
    offsets[:7] = np.arange(1.0, 8.0)
    expected = (actual + offsets.reshape(3, 3)).astype(np.float32)
    return actual, expected


@pytest.fixture
def mismatch_message():
    actual, expected = _seven_failing_entries()
    with run_context("topic.some_claim"):
        with pytest.raises(ClaimViolation) as raised:
            assert_close(actual, expected, BOUND, what="left and right sides")
    return str(raised.value)


def test_message_names_claim(mismatch_message):
    assert mismatch_message.startswith("topic.some_claim: left and right sides are not close")


def test_message_shapes_and_dtypes(mismatch_message):
    assert "actual:   shape (3, 3), dtype float64" in mismatch_message
    assert "expected: shape (3, 3), dtype float32" in mismatch_message


def test_message_tolerance_derivation(mismatch_message):
    assert "tolerance: per entry, test bound 2^-10" in mismatch_message


def test_message_failing_count(mismatch_message):
    assert "failing entries: 7 of 9" in mismatch_message


def test_message_lists_five_entries(mismatch_message):
    listed = re.findall(r"^  at \((\d), (\d)\): actual (\S+), expected (\S+),", mismatch_message, re.MULTILINE)

    assert len(listed) == 5
    assert listed[0] == ("0", "0", "1.0", "2.0")
    assert listed[4] == ("1", "1", "1.0", "6.0")


def test_message_max_errors(mismatch_message):
    # Entry (2, 0) has the largest error, 7, and the largest relative error, 7 / 8.
    assert "max absolute error: 7 at (2, 0)" in mismatch_message
    assert "max relative error: 0.875 at (2, 0)" in mismatch_message


def test_message_without_run_context():
    with pytest.raises(ClaimViolation, match=r"^assert_close: values are not close"):
        assert_close(np.array([0.0]), np.array([1.0]), BOUND)


def test_shape_mismatch():
    with pytest.raises(ClaimViolation) as raised:
        assert_close(np.zeros((2, 3)), np.zeros((3, 2)), BOUND)
    message = str(raised.value)

    assert "shapes differ" in message
    assert "shape (2, 3)" in message
    assert "shape (3, 2)" in message


@pytest.mark.parametrize(
    ("actual", "expected", "side"),
    [
        ([1.0, np.nan], [1.0, np.nan], "actual"),
        ([1.0, np.inf], [1.0, np.inf], "actual"),
        ([np.nan, 2.0], [1.0, 2.0], "actual"),
        ([1.0, 2.0], [1.0, -np.inf], "expected"),
        ([1.0, 2.0], [np.nan, 2.0], "expected"),
    ],
    ids=["both_nan", "both_inf", "actual_nan", "expected_minus_inf", "expected_nan"],
)
def test_non_finite_fails(actual, expected, side):
    huge = Bound(np.array(np.inf), "an infinite bound")

    with pytest.raises(ClaimViolation, match=rf"{side} has 1 non-finite entries \(NaN or inf\)"):
        assert_close(np.array(actual), np.array(expected), huge)


def test_analytic_zero_within_product_model():
    # The exact sum of these four float64 numbers is 0, but left-to-right summation rounds
    # 1 + 2^-53 to 1 and leaves -2^-53.
    terms = [1.0, 2.0**-53, -1.0, -(2.0**-53)]
    computed = ((terms[0] + terms[1]) + terms[2]) + terms[3]
    bound = product(np.ones(4), np.array(terms))

    assert computed != 0.0
    assert_close(computed, 0.0, bound)


def test_analytic_zero_rejected_bit_exact():
    terms = [1.0, 2.0**-53, -1.0, -(2.0**-53)]
    computed = ((terms[0] + terms[1]) + terms[2]) + terms[3]

    with pytest.raises(ClaimViolation, match="0 \\(bit-exact\\)"):
        assert_close(computed, 0.0, exact())


def test_exact_rejects_one_ulp():
    with pytest.raises(ClaimViolation, match="failing entries: 1 of 1"):
        assert_close(np.array([1.0]), np.array([np.nextafter(1.0, 2.0)]), exact())


def test_exact_accepts_equal_arrays():
    values = np.array([0.1, -2.5, 1e300])

    assert_close(values, values.copy(), exact())


def test_equal_arrays():
    assert_equal(np.arange(6.0).reshape(2, 3), np.arange(6.0).reshape(2, 3))


def test_equal_arrays_differ():
    with pytest.raises(ClaimViolation, match="failing entries: 1 of 3"):
        assert_equal(np.array([1.0, 2.0, 3.0]), np.array([1.0, 2.0, 4.0]))


def test_equal_tuples():
    assert_equal((2, 3), (2, 3))


def test_equal_tuples_differ():
    with run_context("topic.shapes"):
        with pytest.raises(ClaimViolation) as raised:
            assert_equal((2, 3), (3, 2), what="output shapes")
    message = str(raised.value)

    assert message.startswith("topic.shapes: output shapes differ")
    assert "actual:   (2, 3)" in message
    assert "expected: (3, 2)" in message


def test_equal_fractions():
    assert_equal(Fraction(1, 3) + Fraction(1, 6), Fraction(1, 2))


def test_equal_fractions_differ():
    with pytest.raises(ClaimViolation, match=r"Fraction\(1, 3\)"):
        assert_equal(Fraction(1, 3), Fraction(1, 3) + Fraction(1, 10**30))


# Integers must not pass through float64, where 2^53 + 1 rounds to 2^53.
@pytest.mark.parametrize(
    ("actual", "expected"),
    [(2**53 + 1, 2**53), (np.array([2**53 + 1]), np.array([2**53]))],
    ids=["python_int", "int64_array"],
)
def test_equal_large_integers_differ(actual, expected):
    with pytest.raises(ClaimViolation):
        assert_equal(actual, expected)


def test_that_true():
    assert_that(2 > 1, "2 should exceed 1")


def test_that_false():
    with run_context("topic.inequality"):
        with pytest.raises(ClaimViolation, match=r"^topic\.inequality: sigma_min = 0\.5 < 1$"):
            assert_that(False, "sigma_min = 0.5 < 1")


def test_records_worst_ratio():
    with run_context("topic.ratio") as context:
        assert_close(np.array([1.0, 2.0]), np.array([1.0 + 2.0**-12, 2.0 + 2.0**-11]), BOUND)
        assert_close(np.array([1.0]), np.array([1.0 + 2.0**-13]), BOUND)

    assert context.comparisons == 2
    assert context.worst_ratio == 0.5


def test_records_failure_as_infinite_ratio():
    with run_context("topic.ratio") as context:
        with pytest.raises(ClaimViolation):
            assert_close(np.array([0.0]), np.array([1.0]), exact())

    assert context.worst_ratio == np.inf


@pytest.mark.parametrize(
    ("compare", "ratio"),
    [
        (lambda: assert_equal((1, 2), (1, 2)), 0.0),
        (lambda: assert_that(True, "true"), 0.0),
        (lambda: assert_close(np.zeros(2), np.zeros((2, 1)), BOUND), np.inf),
        (lambda: assert_close(np.array([np.nan]), np.array([np.nan]), BOUND), np.inf),
    ],
    ids=["equal", "that", "shape_mismatch", "nan"],
)
def test_every_comparison_records(compare, ratio):
    with run_context("topic.ratio") as context:
        try:
            compare()
        except ClaimViolation:
            pass

    assert context.comparisons == 1
    assert context.worst_ratio == ratio


def test_equal_array_against_list():
    with pytest.raises(ClaimViolation, match="differ"):
        assert_equal(np.array([1, 2]), [1, 3])


def test_equal_tuples_of_arrays():
    assert_equal((np.array([1, 2]), 3), (np.array([1, 2]), 3))

    with pytest.raises(ClaimViolation, match="differ"):
        assert_equal((np.array([1, 2]), 3), (np.array([1, 5]), 3))
