"""The floating-point error model: its constants, its bounds, and its soundness against exact
rational arithmetic."""

from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given, note, settings
from hypothesis import strategies as st

from strategies.linalg import dimensions, matrices
from theorems import error_model
from theorems.error_model import Bound, gamma, product, rounded, unit_roundoff

REALMIN = float(np.finfo(np.float64).tiny)


@pytest.mark.parametrize(("dtype", "u"), [(np.float64, 2.0**-53), (np.float32, 2.0**-24)])
def test_unit_roundoff(dtype, u):
    assert unit_roundoff(dtype) == u


@pytest.mark.parametrize("k", [0, 1, 3, 1000])
def test_gamma_formula(k):
    u = 2.0**-53

    assert gamma(k, np.float64) == k * u / (1.0 - k * u)


@pytest.mark.parametrize(("k", "dtype"), [(2**53, np.float64), (2**24, np.float32), (2**25, np.float32)])
def test_gamma_undefined(k, dtype):
    with pytest.raises(ValueError, match=rf"gamma_k is undefined for k={k}"):
        gamma(k, dtype)


def test_gamma_negative_k():
    with pytest.raises(ValueError, match="gamma needs k >= 0 operations, got k=-1"):
        gamma(-1, np.float64)


def test_product_two_by_two():
    a = np.array([[1.0, -2.0], [3.0, 4.0]])
    b = np.array([[-1.0, 0.5], [2.0, -3.0]])
    # |A||B| by hand: [[1*1 + 2*2, 1*0.5 + 2*3], [3*1 + 4*2, 3*0.5 + 4*3]].
    magnitude = np.array([[5.0, 6.5], [11.0, 13.5]])
    u = 2.0**-53
    gamma_2 = 2 * u / (1 - 2 * u)

    bound = product(a, b, label="|A||B|")

    # One inner product of length 2 with flush-to-zero loses at most 2 * 2 realmin, counted
    # once for each evaluation order.
    np.testing.assert_array_equal(bound.array, gamma_2 * magnitude + (1 + gamma_2) * 8 * REALMIN)
    assert bound.derivation == "gamma_2 |A||B| + underflow (float64)"


def test_product_vector_counts_inner_length():
    bound = product(np.ones(5), np.ones(5))

    assert bound.array == gamma(5, np.float64) * 5.0 + (1 + gamma(5, np.float64)) * 20 * REALMIN


def test_product_underflow_term_alone():
    # With zero magnitudes only the underflow term is left: 2 * 2 realmin per order, 2 orders.
    bound = product(np.zeros((2, 2)), np.zeros((2, 2)))

    np.testing.assert_array_equal(bound.array, np.full((2, 2), (1 + gamma(2, np.float64)) * 8 * REALMIN))


def test_product_underflow_scaled_from_left():
    # Right to left, x^T (A y) loses 2 realmin in A y, which |x| = 2^600 scales up.
    x, a, y = np.array([2.0**600]), np.array([[1.0]]), np.array([1.0])

    bound = product(x, a, y)

    assert bound.array >= 2 * REALMIN * 2.0**600


def test_product_needs_factor():
    with pytest.raises(ValueError, match="at least one factor"):
        product()


def test_rounded_bound():
    bound = rounded(np.array([-2.0, 4.0]), 3, label="|x|")

    np.testing.assert_array_equal(bound.array, gamma(3, np.float64) * np.array([2.0, 4.0]) + 6 * REALMIN)
    assert bound.derivation == "gamma_3 |x| + 6 realmin (float64)"


def test_bound_addition():
    total = Bound(np.array([1.0, 2.0]), "first") + Bound(np.array(0.5), "second")

    np.testing.assert_array_equal(total.array, [1.5, 2.5])
    assert total.derivation == "first + second"


@pytest.mark.parametrize(("factor", "text"), [(2, "2 (base)"), (0.5, "0.5 (base)")])
def test_bound_scaling(factor, text):
    scaled = factor * Bound(np.array([4.0]), "base")

    np.testing.assert_array_equal(scaled.array, [4.0 * factor])
    assert scaled.derivation == text


def test_exact_bound_is_zero():
    bound = error_model.exact()

    assert bound.array == 0.0
    assert bound.derivation == "0 (bit-exact)"


def _exact_product(a: np.ndarray, b: np.ndarray) -> list[list[Fraction]]:
    rows, inner = a.shape
    cols = b.shape[1]
    return [
        [sum((Fraction(float(a[i, k])) * Fraction(float(b[k, j])) for k in range(inner)), Fraction(0)) for j in range(cols)]
        for i in range(rows)
    ]


@st.composite
def _matrix_pairs(draw):
    m, k, n = draw(dimensions(1, 6)), draw(dimensions(1, 6)), draw(dimensions(1, 6))
    return draw(matrices(m, k)), draw(matrices(k, n))


@settings(max_examples=60, database=None, deadline=None)
@given(_matrix_pairs())
def test_product_bound_is_sound(pair):
    a, b = pair
    computed = a @ b
    exact = _exact_product(a, b)
    bound = product(a, b).array

    for (i, j), value in np.ndenumerate(computed):
        error = abs(Fraction(float(value)) - exact[i][j])
        note(f"entry {(i, j)}: computed {value!r}, error {float(error)!r}, bound {bound[i, j]!r}")
        assert error <= Fraction(float(bound[i, j]))


# With three factors, A B underflows to 0 and C scales the lost 2^-1200 up to 2^-600, so the
# underflow term must be propagated through the later factors.
def test_product_chain_underflow():
    a = np.array([[2.0**-600]])
    b = np.array([[2.0**-600]])
    c = np.array([[2.0**600]])
    computed = (a @ b) @ c
    exact = 2.0**-600

    error = abs(float(computed[0, 0]) - exact)

    assert error <= float(product(a, b, c).array[0, 0])
