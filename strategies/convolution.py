"""Strategies for signals, kernels and the parameters of strided and transpose convolutions.

Every strategy shrinks towards the smallest case: one sample, one tap, stride 1, zero padding,
zero output padding and zero entries. Odd sizes, n = 1 and asymmetric kernels are drawn as often
as the rest, because entries are drawn independently.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from strategies.linalg import vectors
from strategies.numbers import entries

__all__ = [
    "AdjointPair",
    "TransposeConvolution",
    "TransposeShape",
    "adjoint_pairs",
    "kernels",
    "output_paddings",
    "paddings",
    "phase_balanced_kernels",
    "signals",
    "strides",
    "transpose_convolutions",
    "transpose_shapes",
]

MAX_LENGTH = 8
MAX_KERNEL_SIZE = 7
MAX_STRIDE = 4


@dataclass(frozen=True)
class TransposeShape:
    """Sizes and parameters of a transpose convolution, possibly invalid."""

    length: int
    kernel_size: int
    stride: int
    padding: int
    output_padding: int


@dataclass(frozen=True)
class TransposeConvolution:
    """A valid transpose convolution problem: signal, kernel, stride, padding, output padding."""

    x: np.ndarray
    kernel: np.ndarray
    stride: int
    padding: int
    output_padding: int

    @property
    def output_length(self) -> int:
        n, k = self.x.shape[0], self.kernel.shape[0]
        return self.stride * (n - 1) + k - 2 * self.padding + self.output_padding


@dataclass(frozen=True)
class AdjointPair:
    """Inputs of a forward convolution and of its transpose: u has the forward input length n',
    v the forward output length n, and ``output_padding`` makes the transpose map R^n to R^n'."""

    u: np.ndarray
    v: np.ndarray
    kernel: np.ndarray
    stride: int
    padding: int
    output_padding: int


def signals(
    min_length: int = 1,
    max_length: int = MAX_LENGTH,
    *,
    exact_only: bool = False,
    scaled: bool = True,
) -> st.SearchStrategy[np.ndarray]:
    """Draw a float64 1-D signal of length in [min_length, max_length].

    Entries come from :func:`strategies.numbers.entries` (dyadic only when ``exact_only``), the
    whole signal times a power of two when ``scaled``. Shrinks towards min_length and zeros.
    """
    if min_length < 1 or max_length < min_length:
        raise ValueError(
            f"signals needs 1 <= min_length <= max_length, got min_length={min_length!r}, "
            f"max_length={max_length!r}"
        )
    lengths = st.integers(min_length, max_length)
    return lengths.flatmap(lambda n: vectors(n, exact_only=exact_only, scaled=scaled))


def kernels(
    min_size: int = 1, max_size: int = MAX_KERNEL_SIZE, *, exact_only: bool = False
) -> st.SearchStrategy[np.ndarray]:
    """Draw a float64 1-D kernel with size in [min_size, max_size] and independent entries from
    :func:`strategies.numbers.entries`, so kernels are asymmetric unless shrunk to symmetry.
    Kernels are not scaled, so their entries stay within [-16, 16]. Shrinks towards min_size and
    zeros."""
    if min_size < 1 or max_size < min_size:
        raise ValueError(
            f"kernels needs 1 <= min_size <= max_size, got min_size={min_size!r}, "
            f"max_size={max_size!r}"
        )
    sizes = st.integers(min_size, max_size)
    return sizes.flatmap(
        lambda k: hnp.arrays(np.float64, (k,), elements=entries(exact_only=exact_only))
    )


def strides(min_value: int = 1, max_value: int = MAX_STRIDE) -> st.SearchStrategy[int]:
    """Draw a stride in [min_value, max_value]. Shrinks towards min_value."""
    if min_value < 1 or max_value < min_value:
        raise ValueError(
            f"strides needs 1 <= min_value <= max_value, got min_value={min_value!r}, "
            f"max_value={max_value!r}"
        )
    return st.integers(min_value, max_value)


def output_paddings(stride: int) -> st.SearchStrategy[int]:
    """Draw every valid output padding for ``stride``: 0 <= op < s. Shrinks towards 0."""
    if stride < 1:
        raise ValueError(f"stride={stride!r} is invalid: it must be an integer >= 1")
    return st.integers(0, stride - 1)


def paddings(
    length: int, kernel_size: int, stride: int, output_padding: int
) -> st.SearchStrategy[int]:
    """Draw every padding p >= 0 that keeps n' = s(n-1) + K - 2p + op >= 1, including p > K - 1.
    Shrinks towards 0."""
    largest = (stride * (length - 1) + kernel_size + output_padding - 1) // 2
    if largest < 0:
        raise ValueError(
            f"no padding is valid for length={length!r}, kernel_size={kernel_size!r}, "
            f"stride={stride!r}, output_padding={output_padding!r}"
        )
    return st.integers(0, largest)


@st.composite
def phase_balanced_kernels(
    draw: st.DrawFn, stride: int, *, max_size: int = MAX_KERNEL_SIZE
) -> np.ndarray:
    """Draw a dyadic kernel of size in [stride, max_size] whose s phase sums (sums of k[j] over
    j = r mod s) are all equal: a kernel from :func:`kernels`, then the first tap of each phase
    shifted so that its phase sums to the first phase's sum. Shrinks towards zeros."""
    if not 1 <= stride <= max_size:
        raise ValueError(
            f"stride={stride!r} is invalid: phase-balanced kernels need 1 <= stride <= "
            f"max_size={max_size!r}, so that every phase has a tap"
        )
    kernel = draw(kernels(stride, max_size, exact_only=True), label="unbalanced kernel").copy()
    target = kernel[0::stride].sum()
    for phase in range(1, stride):
        kernel[phase] += target - kernel[phase::stride].sum()
    return kernel


@st.composite
def transpose_shapes(draw: st.DrawFn, *, allow_invalid: bool = False) -> TransposeShape:
    """Draw the sizes and parameters of a transpose convolution.

    With ``allow_invalid``, about half of the draws break one rule: stride 0, a negative padding,
    an output padding outside [0, s), or a padding so large that n' <= 0. Shrinks towards
    (n, K, s, p, op) = (1, 1, 1, 0, 0).
    """
    length = draw(st.integers(1, MAX_LENGTH), label="length")
    kernel_size = draw(st.integers(1, MAX_KERNEL_SIZE), label="kernel_size")
    stride = draw(strides(), label="stride")
    output_padding = draw(output_paddings(stride), label="output_padding")
    padding = draw(paddings(length, kernel_size, stride, output_padding), label="padding")
    if allow_invalid and draw(st.booleans(), label="break a rule"):
        rule = draw(st.sampled_from(["stride", "padding", "output_padding", "too_much_padding"]))
        if rule == "stride":
            stride = draw(st.integers(-1, 0), label="invalid stride")
        elif rule == "padding":
            padding = draw(st.integers(-3, -1), label="invalid padding")
        elif rule == "output_padding":
            output_padding = draw(
                st.one_of(st.integers(-2, -1), st.integers(stride, stride + 2)),
                label="invalid output_padding",
            )
        else:
            # n' = L + op - 2p <= 0 from p = ceil((L + op) / 2) on, with L = s(n-1) + K.
            smallest = -(-(stride * (length - 1) + kernel_size + output_padding) // 2)
            padding = draw(st.integers(smallest, smallest + 3), label="too large padding")
    return TransposeShape(length, kernel_size, stride, padding, output_padding)


@st.composite
def transpose_convolutions(
    draw: st.DrawFn,
    *,
    max_length: int = MAX_LENGTH,
    max_kernel_size: int = MAX_KERNEL_SIZE,
    max_stride: int = MAX_STRIDE,
    exact_only: bool = True,
    scaled: bool = True,
) -> TransposeConvolution:
    """Draw a valid transpose convolution with every valid padding and output padding.

    The signal comes from :func:`signals`, the kernel from :func:`kernels`. With ``exact_only``
    (the default) every entry is dyadic, so the results are exact in float64. Shrinks towards a
    one-sample signal, a one-tap kernel, stride 1 and no padding.
    """
    stride = draw(strides(1, max_stride), label="stride")
    x = draw(signals(1, max_length, exact_only=exact_only, scaled=scaled), label="x")
    kernel = draw(kernels(1, max_kernel_size, exact_only=exact_only), label="kernel")
    output_padding = draw(output_paddings(stride), label="output_padding")
    padding = draw(
        paddings(x.shape[0], kernel.shape[0], stride, output_padding), label="padding"
    )
    return TransposeConvolution(x, kernel, stride, padding, output_padding)


@st.composite
def adjoint_pairs(draw: st.DrawFn, *, exact_only: bool = False) -> AdjointPair:
    """Draw (u, v) for the adjoint identity <conv(u), v> = <u, convT(v)>.

    The transpose problem is drawn first (v, kernel, s, p, op), then u of the matching length
    n'. Entries are general floats unless ``exact_only``, and u and v are scaled independently by
    powers of two. Shrinks like :func:`transpose_convolutions`.
    """
    problem = draw(transpose_convolutions(exact_only=exact_only), label="transpose problem")
    u = draw(vectors(problem.output_length, exact_only=exact_only), label="u")
    return AdjointPair(
        u, problem.x, problem.kernel, problem.stride, problem.padding, problem.output_padding
    )
