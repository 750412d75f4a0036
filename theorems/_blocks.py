"""Residual blocks as JAX functions, their closed-form Jacobians, and the ReLU-kink guard.

Dense block: X1 = W2 ReLU(W1 X0) + X0. Convolutional blocks use NHWC images and HWIO kernels
with ``jax.lax.conv_general_dilated`` (cross-correlation, as every deep-learning framework does).
"""

from __future__ import annotations

from fractions import Fraction
from functools import partial
from typing import Callable

import jax
import jax.numpy as jnp
import numpy as np
from hypothesis import assume, note

from theorems import error_model

_DIMENSIONS = ("NHWC", "HWIO", "NHWC")
_EXACT_SIGNIFICAND = 2**53


def residual_block(w1, w2, x0):
    """X1 = W2 ReLU(W1 X0) + X0, the block with an identity shortcut."""
    return w2 @ jax.nn.relu(w1 @ x0) + x0


def plain_block(w1, w2, x0):
    """W2 ReLU(W1 X0): the same block without the shortcut."""
    return w2 @ jax.nn.relu(w1 @ x0)


def projection_block(w1, w2, p, x0):
    """X1 = W2 ReLU(W1 X0) + P X0, the block with a projection shortcut."""
    return w2 @ jax.nn.relu(w1 @ x0) + p @ x0


def relu_mask(z: np.ndarray) -> np.ndarray:
    """D's diagonal: 1 where z > 0 and 0 elsewhere, so D = 0 at a kink z = 0 (JAX's ReLU'(0))."""
    return (np.asarray(z) > 0).astype(np.float64)


@partial(jax.jit, static_argnums=(2, 3))
def conv2d(x, kernel, stride: int, padding: int):
    """Cross-correlate an NHWC batch with an HWIO kernel at the given stride and zero padding."""
    pads = ((padding, padding), (padding, padding))
    return jax.lax.conv_general_dilated(x, kernel, (stride, stride), pads, dimension_numbers=_DIMENSIONS)


def basic_main_branch(x, k1, k2, stride: int):
    """conv 3x3 (stride, pad 1) -> ReLU -> conv 3x3 (stride 1, pad 1)."""
    return conv2d(jax.nn.relu(conv2d(x, k1, stride, 1)), k2, 1, 1)


def bottleneck_main_branch(x, k1, k2, k3, stride: int):
    """conv 1x1 -> ReLU -> conv 3x3 (stride, pad 1) -> ReLU -> conv 1x1."""
    hidden = jax.nn.relu(conv2d(x, k1, 1, 0))
    hidden = jax.nn.relu(conv2d(hidden, k2, stride, 1))
    return conv2d(hidden, k3, 1, 0)


def projection_shortcut(x, kernel, stride: int):
    """Apply the 1x1 convolution at the block's stride, with no padding."""
    return conv2d(x, kernel, stride, 0)


def materialize(linear: Callable, input_shape: tuple[int, ...]) -> np.ndarray:
    """Return the matrix A with linear(x).ravel() = A x.ravel(), by applying ``linear`` to the
    standard basis as one batch (the first axis of ``input_shape`` must be a batch of 1)."""
    size = int(np.prod(input_shape))
    basis = np.eye(size).reshape((size, *input_shape[1:]))
    outputs = np.asarray(linear(basis))
    return outputs.reshape(size, -1).T


def require_certain_relu_pattern(w: np.ndarray, x: np.ndarray) -> None:
    """Reject the draw (``hypothesis.assume``) unless every entry of z = W x has the same sign in
    every floating-point evaluation order.

    An entry is certain when the row's products and all their partial sums are exact (then z_i is
    the same number however it is summed, so an exact kink z_i = 0 stays 0), or when
    |z_i| > 2 gamma_n (|W||x|)_i, more than twice the worst rounding error. Otherwise the ReLU
    pattern D would depend on summation order, and two correct Jacobians could disagree.
    """
    z = np.asarray(w, dtype=np.float64) @ np.asarray(x, dtype=np.float64)
    rounding = error_model.product(w, x).array
    uncertain = [
        i for i in range(z.shape[0]) if abs(z[i]) <= 2.0 * rounding[i] and not _row_is_exact(w[i], x)
    ]
    if uncertain:
        note(f"rejected: the signs of z = W x at {uncertain} depend on rounding")
    assume(not uncertain)


def _row_is_exact(row: np.ndarray, x: np.ndarray) -> bool:
    """True when every product row_j x_j and every partial sum of them is a float64 number.

    Floats are dyadic rationals, so the products are integer multiples of 2^-E for the largest
    denominator exponent E. If their absolute sum times 2^E is below 2^53, every partial sum in
    any order is such a multiple below 2^53 in magnitude, and so it is representable.
    """
    products = [Fraction(float(a)) * Fraction(float(b)) for a, b in zip(row, x)]
    products = [p for p in products if p != 0]
    if not products:
        return True
    tiny = Fraction(float(np.finfo(np.float64).tiny))
    if any(abs(p) < tiny for p in products):
        return False
    exponent = max(p.denominator.bit_length() - 1 for p in products)
    total = sum(abs(p) for p in products) * 2**exponent
    return total < _EXACT_SIGNIFICAND


def jacobian_magnitude(w1: np.ndarray, w2: np.ndarray, mask: np.ndarray, shortcut: np.ndarray | None) -> np.ndarray:
    """|W2||D||W1| + |S|, the magnitude that rounding errors in J = W2 D W1 + S scale with."""
    magnitude = np.abs(w2) @ (mask[:, None] * np.abs(w1))
    return magnitude if shortcut is None else magnitude + np.abs(shortcut)


def jacobian_bound(w1: np.ndarray, w2: np.ndarray, mask: np.ndarray, shortcut: np.ndarray | None) -> error_model.Bound:
    """Bound on |fl(J) - J| for J = W2 D W1 + S, S the shortcut's Jacobian (I or P) or None.

    Multiplying by D (0 or 1) and by basis vectors is exact, so any evaluation order rounds
    only the m-term sums of the hidden width m and the final addition of S:
    gamma_{m+1} (|W2||D||W1| + |S|) plus underflow. Two computed Jacobians differ by at most
    twice this.
    """
    operations = w1.shape[0] + (0 if shortcut is None else 1)
    label = "|W2||D||W1|" if shortcut is None else "(|W2||D||W1| + |S|)"
    return error_model.rounded(jacobian_magnitude(w1, w2, mask, shortcut), operations, label=label)
