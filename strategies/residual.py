"""Strategies for residual blocks: dense weights and inputs, and convolutional block shapes.

Dense blocks come in two flavours, mixed by ``residual_blocks``:

- general: entries from :func:`strategies.numbers.entries` times a power of two, so
  magnitudes span 2^-90 to 2^90 and zeros, integers and dyadic fractions appear often;
- kinked: dyadic entries only, with some rows of W1 rebuilt orthogonal to x0, so that the
  pre-activation W1 x0 has entries that are exactly 0 with a nonzero row of W1 behind them.
  That is the only input on which ``1[z > 0]`` and ``1[z >= 0]`` give different Jacobians.

Everything shrinks towards n = 1, zero matrices and scale 1.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from hypothesis import strategies as st

from strategies.linalg import dimensions, matrices, scaled_arrays, vectors

__all__ = [
    "BlockShape",
    "DenseBlock",
    "ProjectionBlock",
    "block_shapes",
    "projection_blocks",
    "residual_blocks",
    "RESNET_TRANSITIONS",
]


@dataclass(frozen=True)
class DenseBlock:
    """Weights W1, W2 (n x n), input x0 (n), and a tangent u and cotangent v for JVP/VJP."""

    w1: np.ndarray
    w2: np.ndarray
    x0: np.ndarray
    u: np.ndarray
    v: np.ndarray


@dataclass(frozen=True)
class ProjectionBlock:
    """Rectangular weights W1 (m x n), W2 (k x m), projection P (k x n) and input x0 (n)."""

    w1: np.ndarray
    w2: np.ndarray
    p: np.ndarray
    x0: np.ndarray


@dataclass(frozen=True)
class BlockShape:
    """One residual block's shapes: a basic block (3x3 stride s, 3x3) or a bottleneck
    (1x1, 3x3 stride s, 1x1), on an NHWC input of height h, width w and c_in channels."""

    kind: str
    h: int
    w: int
    c_in: int
    c_mid: int
    c_out: int
    stride: int
    name: str = ""


def _kink_rows(w1: np.ndarray, x0: np.ndarray, rows: list[int], pairs: list[tuple[int, int]]) -> np.ndarray:
    """Rebuild the chosen rows of w1 as x0_k e_j - x0_j e_k, so that row . x0 is exactly 0."""
    w1 = w1.copy()
    n = x0.shape[0]
    for row, (j, k) in zip(rows, pairs):
        candidate = np.zeros(n)
        if n >= 2 and j != k:
            candidate[j] = x0[k]
            candidate[k] = -x0[j]
        if not candidate.any():
            zeros = np.flatnonzero(x0 == 0.0)
            if zeros.size:
                candidate[zeros[0]] = 1.0
        if candidate.any():
            w1[row] = candidate
    return w1


@st.composite
def _kinked_blocks(draw: st.DrawFn, n: int) -> DenseBlock:
    x0 = draw(vectors(n, exact_only=True))
    if n == 1:
        # A 1 x 1 pre-activation is exactly 0 with w1 != 0 only when x0 is 0.
        x0 = np.zeros(1)
    w1 = draw(matrices(n, n, exact_only=True))
    rows = draw(st.lists(st.integers(0, n - 1), min_size=1, max_size=n, unique=True))
    pairs = [draw(st.tuples(st.integers(0, n - 1), st.integers(0, n - 1))) for _ in rows]
    w1 = _kink_rows(w1, x0, rows, pairs)
    w2 = draw(matrices(n, n, exact_only=True))
    u = draw(vectors(n, exact_only=True))
    v = draw(vectors(n, exact_only=True))
    return DenseBlock(w1=w1, w2=w2, x0=x0, u=u, v=v)


@st.composite
def _general_blocks(draw: st.DrawFn, n: int) -> DenseBlock:
    return DenseBlock(
        w1=draw(matrices(n, n)),
        w2=draw(matrices(n, n)),
        x0=draw(vectors(n)),
        u=draw(vectors(n)),
        v=draw(vectors(n)),
    )


def residual_blocks(min_n: int = 1, max_n: int = 6) -> st.SearchStrategy[DenseBlock]:
    """Draw square dense residual blocks of size n in [min_n, max_n], general or kinked."""
    return dimensions(min_n, max_n).flatmap(lambda n: st.one_of(_general_blocks(n), _kinked_blocks(n)))


@st.composite
def projection_blocks(draw: st.DrawFn, max_size: int = 5) -> ProjectionBlock:
    """Draw a block with a projection shortcut: W1 (m x n), W2 (k x m), P (k x n), x0 (n).

    Sizes are independent in [1, max_size], so tall, wide and square shapes all occur."""
    n = draw(dimensions(1, max_size))
    m = draw(dimensions(1, max_size))
    k = draw(dimensions(1, max_size))
    exact = draw(st.booleans())
    return ProjectionBlock(
        w1=draw(matrices(m, n, exact_only=exact)),
        w2=draw(matrices(k, m, exact_only=exact)),
        p=draw(matrices(k, n, exact_only=exact)),
        x0=draw(vectors(n, exact_only=exact)),
    )


def images(h: int, w: int, c: int, *, exact_only: bool = False) -> st.SearchStrategy[np.ndarray]:
    """Draw a float64 NHWC batch of one h x w image with c channels."""
    return scaled_arrays((1, h, w, c), exact_only=exact_only)


def kernels_2d(kh: int, kw: int, c_in: int, c_out: int, *, exact_only: bool = False) -> st.SearchStrategy[np.ndarray]:
    """Draw a float64 HWIO convolution kernel."""
    return scaled_arrays((kh, kw, c_in, c_out), exact_only=exact_only)


def block_shapes(max_side: int = 40, max_channels: int = 8) -> st.SearchStrategy[BlockShape]:
    """Draw basic-block shapes at stride 2 with sides in [1, max_side] (odd sides included) and
    channel counts in [1, max_channels]; shrinks towards 1 x 1 with one channel."""
    return st.builds(
        lambda h, w, c_in, c_out: BlockShape("basic", h, w, c_in, c_out, c_out, 2),
        dimensions(1, max_side),
        dimensions(1, max_side),
        dimensions(1, max_channels),
        dimensions(1, max_channels),
    )


def _resnet_transitions() -> tuple[BlockShape, ...]:
    """The first block of each stage whose shortcut needs a projection, at 224 x 224 input.

    After the 7x7 stride-2 stem and the stride-2 max pool the first stage sees 56 x 56. Basic
    blocks (ResNet-18/34) keep 64 channels in the first stage, so projections start at conv3_x.
    Bottleneck blocks (ResNet-50) expand 64 to 256 channels already in conv2_x, at stride 1;
    the stride sits on the 3x3 convolution, as in torchvision's ResNet-50.
    """
    basic = [
        BlockShape("basic", 56, 56, 64, 128, 128, 2, "resnet18/34 conv3_x"),
        BlockShape("basic", 28, 28, 128, 256, 256, 2, "resnet18/34 conv4_x"),
        BlockShape("basic", 14, 14, 256, 512, 512, 2, "resnet18/34 conv5_x"),
    ]
    bottleneck = [
        BlockShape("bottleneck", 56, 56, 64, 64, 256, 1, "resnet50 conv2_x"),
        BlockShape("bottleneck", 56, 56, 256, 128, 512, 2, "resnet50 conv3_x"),
        BlockShape("bottleneck", 28, 28, 512, 256, 1024, 2, "resnet50 conv4_x"),
        BlockShape("bottleneck", 14, 14, 1024, 512, 2048, 2, "resnet50 conv5_x"),
    ]
    return tuple(basic + bottleneck)


RESNET_TRANSITIONS: tuple[BlockShape, ...] = _resnet_transitions()
