"""Strategies for matrices, vectors and their sizes, built on ``hypothesis.extra.numpy``."""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from strategies.numbers import entries, scales

__all__ = ["dimensions", "matrices", "scaled_arrays", "vectors"]


def _is_integer(value: object) -> bool:
    return isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_))


def _validate_size(name: str, value: object) -> None:
    """Raise ValueError unless ``value`` is an integer >= 0. A bool is rejected."""
    if isinstance(value, (bool, np.bool_)):
        raise ValueError(f"{name}={value!r} is invalid: it must be an integer >= 0, not a bool")
    if not _is_integer(value) or value < 0:
        raise ValueError(f"{name}={value!r} is invalid: it must be an integer >= 0")


def dimensions(min_value: int = 1, max_value: int = 6) -> st.SearchStrategy[int]:
    """Draw a size in [min_value, max_value]; shrinks towards min_value. Odd sizes included."""
    for name, value in (("min_value", min_value), ("max_value", max_value)):
        if not _is_integer(value):
            raise ValueError(f"{name}={value!r} is invalid: dimensions needs integer bounds, not floats or bools")
    if min_value < 0 or max_value < min_value:
        raise ValueError(
            f"dimensions needs 0 <= min_value <= max_value, got min_value={min_value!r}, "
            f"max_value={max_value!r}"
        )
    return st.integers(min_value, max_value)


_SMALLEST_NORMAL = float(np.finfo(np.float64).tiny)


def scaled_arrays(shape: tuple[int, ...], *, exact_only: bool = False, scaled: bool = True) -> st.SearchStrategy[np.ndarray]:
    """Draw a float64 array of :func:`strategies.numbers.entries`, times a power of two when
    ``scaled`` (so tiny and huge magnitudes appear). The falsifying example prints the final
    array, not the recipe.

    Scaling can make a tiny entry subnormal. Such entries are set to 0, because XLA on CPU
    reads subnormal inputs as 0 while NumPy does not, so the two oracles would disagree about
    the input itself rather than about the claim.

    Raises:
        ValueError: ``shape`` is not a tuple of integers >= 0.
    """
    if not isinstance(shape, tuple):
        raise ValueError(f"shape={shape!r} is invalid: it must be a tuple of integers >= 0")
    for axis, size in enumerate(shape):
        _validate_size(f"shape[{axis}]", size)

    @st.composite
    def draw_array(draw: st.DrawFn) -> np.ndarray:
        array = draw(hnp.arrays(np.float64, shape, elements=entries(exact_only=exact_only)))
        if not scaled:
            return array
        array = array * draw(scales())
        array[np.abs(array) < _SMALLEST_NORMAL] = 0.0
        return array

    return draw_array()


def matrices(
    rows: int, cols: int, *, exact_only: bool = False, scaled: bool = True
) -> st.SearchStrategy[np.ndarray]:
    """Draw a rows x cols :func:`scaled_arrays` matrix. Zero rows and columns arise when every
    entry of them shrinks to 0.

    Raises:
        ValueError: ``rows`` or ``cols`` is not an integer >= 0.
    """
    _validate_size("rows", rows)
    _validate_size("cols", cols)
    return scaled_arrays((rows, cols), exact_only=exact_only, scaled=scaled)


def vectors(n: int, *, exact_only: bool = False, scaled: bool = True) -> st.SearchStrategy[np.ndarray]:
    """Draw a float64 vector of length n, like :func:`matrices`.

    Raises:
        ValueError: ``n`` is not an integer >= 0.
    """
    _validate_size("n", n)
    return scaled_arrays((n,), exact_only=exact_only, scaled=scaled)
