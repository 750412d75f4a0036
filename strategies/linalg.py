"""Strategies for matrices, vectors and their sizes, built on ``hypothesis.extra.numpy``."""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from strategies.numbers import entries, scales

__all__ = ["dimensions", "matrices", "scaled_arrays", "vectors"]


def dimensions(min_value: int = 1, max_value: int = 6) -> st.SearchStrategy[int]:
    """Draw a size in [min_value, max_value]; shrinks towards min_value. Odd sizes included."""
    if min_value < 0 or max_value < min_value:
        raise ValueError(
            f"dimensions needs 0 <= min_value <= max_value, got min_value={min_value!r}, "
            f"max_value={max_value!r}"
        )
    return st.integers(min_value, max_value)


def scaled_arrays(shape: tuple[int, ...], *, exact_only: bool = False, scaled: bool = True) -> st.SearchStrategy[np.ndarray]:
    """Draw a float64 array of :func:`strategies.numbers.entries`, times a power of two when
    ``scaled`` (so tiny and huge magnitudes appear). The falsifying example prints the final
    array, not the recipe."""

    @st.composite
    def draw_array(draw: st.DrawFn) -> np.ndarray:
        array = draw(hnp.arrays(np.float64, shape, elements=entries(exact_only=exact_only)))
        return array * draw(scales()) if scaled else array

    return draw_array()


def matrices(
    rows: int, cols: int, *, exact_only: bool = False, scaled: bool = True
) -> st.SearchStrategy[np.ndarray]:
    """Draw a rows x cols :func:`scaled_arrays` matrix. Zero rows and columns arise when every
    entry of them shrinks to 0."""
    return scaled_arrays((rows, cols), exact_only=exact_only, scaled=scaled)


def vectors(n: int, *, exact_only: bool = False, scaled: bool = True) -> st.SearchStrategy[np.ndarray]:
    """Draw a float64 vector of length n, like :func:`matrices`."""
    return scaled_arrays((n,), exact_only=exact_only, scaled=scaled)
