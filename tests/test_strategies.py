"""The strategies reach the hard corners they promise: exact zeros, integers, non-dyadic floats,
magnitudes of 2^-90 and 2^90, and exact ReLU kinks. Invalid parameters raise ValueError.

Each reachability test calls ``hypothesis.find``, which raises when the strategy produces no
value with the property within ``find``'s example budget.
"""

from fractions import Fraction

import numpy as np
import pytest
from hypothesis import Phase, find, given, settings

from strategies.linalg import dimensions, matrices, scaled_arrays, vectors
from strategies.numbers import DEFAULT_MAX_EXPONENT, entries, scales
from strategies.residual import residual_blocks

SEARCH = settings(max_examples=2000, database=None, derandomize=True, deadline=None)
# Shrinking a block to the minimal kink takes seconds and shows nothing more than the first one.
SEARCH_UNSHRUNK = settings(SEARCH, phases=[Phase.generate])


def is_short_dyadic(x: float) -> bool:
    """Return whether x is m / 2^k with k <= 4, like the values of ``strategies.numbers.dyadics()``."""
    return Fraction(x).denominator <= 2**4


def test_entries_reach_zero():
    assert find(entries(), lambda x: x == 0.0, settings=SEARCH) == 0.0


def test_entries_reach_nonzero_integer():
    found = find(entries(), lambda x: x != 0.0 and x == int(x), settings=SEARCH)

    assert found in (1.0, -1.0)


def test_entries_reach_non_dyadic():
    found = find(entries(), lambda x: Fraction(x).denominator > 2**20, settings=SEARCH)

    assert -1.0 <= found <= 1.0


@settings(max_examples=200, database=None, deadline=None)
@given(entries(exact_only=True))
def test_exact_entries_are_short_dyadics(x):
    assert is_short_dyadic(x)


@pytest.mark.parametrize(
    ("condition", "expected"),
    [
        (lambda s: s <= 2.0**-DEFAULT_MAX_EXPONENT, 2.0**-90),
        (lambda s: s >= 2.0**DEFAULT_MAX_EXPONENT, 2.0**90),
    ],
    ids=["tiny", "huge"],
)
def test_scales_reach_extremes(condition, expected):
    assert find(scales(), condition, settings=SEARCH) == expected


@settings(max_examples=200, database=None, deadline=None)
@given(scales())
def test_scales_are_powers_of_two(s):
    mantissa, exponent = np.frexp(s)

    assert mantissa == 0.5
    assert -DEFAULT_MAX_EXPONENT <= exponent - 1 <= DEFAULT_MAX_EXPONENT


def exact_kink_rows(block) -> list[int]:
    """Return the rows i where (W1 x0)_i is exactly 0 in rational arithmetic although some
    product W1[i, j] x0[j] is nonzero, so cancellation, not a zero row or input, makes the kink."""
    rows = []
    for i, row in enumerate(block.w1):
        products = [Fraction(float(w)) * Fraction(float(x)) for w, x in zip(row, block.x0)]
        if sum(products) == 0 and any(products):
            rows.append(i)
    return rows


def test_residual_blocks_reach_exact_kink():
    block = find(residual_blocks(), lambda b: bool(exact_kink_rows(b)), settings=SEARCH_UNSHRUNK)
    (row, *_) = exact_kink_rows(block)

    assert (block.w1 @ block.x0)[row] == 0.0
    assert block.w1[row].any()


@pytest.mark.parametrize(
    ("min_value", "max_value", "named"),
    [(-1, 3, "min_value=-1"), (4, 2, "max_value=2")],
    ids=["negative_min", "max_below_min"],
)
def test_dimensions_invalid(min_value, max_value, named):
    with pytest.raises(ValueError, match=rf"dimensions needs 0 <= min_value <= max_value, got .*{named}"):
        dimensions(min_value, max_value)


@pytest.mark.parametrize("bounds", [(1.5, 2), (1, 2.0), (True, 2)], ids=["float_min", "float_max", "bool_min"])
def test_dimensions_rejects_non_integers(bounds):
    with pytest.raises(ValueError, match=r"_value=.* is invalid: dimensions needs integer bounds"):
        dimensions(*bounds)


@pytest.mark.parametrize(
    ("make", "named"),
    [
        (lambda: matrices(-1, 2), r"rows=-1"),
        (lambda: matrices(2, 1.5), r"cols=1\.5"),
        (lambda: vectors(-3), r"n=-3"),
        (lambda: vectors(True), r"n=True"),
        (lambda: scaled_arrays((2, -1)), r"shape\[1\]=-1"),
    ],
    ids=["negative_rows", "float_cols", "negative_length", "bool_length", "negative_axis"],
)
def test_array_strategies_reject_sizes(make, named):
    with pytest.raises(ValueError, match=rf"{named} is invalid: it must be an integer >= 0"):
        make()


def test_scaled_arrays_rejects_non_tuple_shape():
    with pytest.raises(ValueError, match=r"shape=3 is invalid: it must be a tuple of integers >= 0"):
        scaled_arrays(3)


def test_scaled_arrays_have_no_subnormals():
    # A tiny general float times 2^-90 would be subnormal, which XLA reads as 0.
    tiny = np.finfo(np.float64).tiny

    @given(scaled_arrays((3,)))
    @settings(max_examples=300, database=None)
    def check(array):
        assert not np.any((array != 0) & (np.abs(array) < tiny))

    check()
