r"""Residual connections: the block, its Jacobian, and projection shortcuts.

Claims, for X_1 = W_2 \mathrm{ReLU}(W_1 X_0) + X_0 with W_1, W_2 \in \mathbb{R}^{n \times n}
and D = \mathrm{diag}(1[W_1 X_0 > 0]) (He, Zhang, Ren and Sun, "Deep residual learning for
image recognition", CVPR 2016):

- the block computes the formula, and its Jacobian is W_2 D W_1 + I (without the shortcut,
  W_2 D W_1);
- the Jacobian's smallest singular value is *not* at least 1 (an erratum of the "magnitude at
  least I" argument); Weyl's inequality gives the correct bounds
  1 - \|W_2 D W_1\|_2 \le \sigma_{min}(J) \le \sigma_{max}(J) \le 1 + \|W_2 D W_1\|_2;
- a 1x1 stride-2 projection shortcut matches the main branch's output shape for every input
  size, is subsampling followed by a channel matrix P, and makes the Jacobian W_2 D W_1 + P.

The ReLU derivative convention is JAX's: ReLU'(0) = 0, so D_ii = 0 at an exact kink.
Strategies reach such kinks on purpose, and only they separate 1[z > 0] from 1[z >= 0].
"""

from __future__ import annotations

import math
from functools import partial

import jax
import numpy as np
from hypothesis import note
from hypothesis import strategies as st

from strategies.residual import (
    RESNET_TRANSITIONS,
    BlockShape,
    DenseBlock,
    ProjectionBlock,
    block_shapes,
    images,
    kernels_2d,
    projection_blocks,
    residual_blocks,
)
from theorems import Source, assert_close, assert_equal, assert_that, claim, error_model
from theorems._blocks import (
    basic_main_branch,
    bottleneck_main_branch,
    conv2d,
    jacobian_bound,
    jacobian_magnitude,
    materialize,
    plain_block,
    projection_block,
    projection_shortcut,
    relu_mask,
    require_certain_relu_pattern,
    residual_block,
)
from theorems.error_model import unit_roundoff

# Jitted once per input shape: one XLA compile per shape instead of one per primitive, which
# keeps a 100-example run with many shapes in seconds. jit does not change the derivative rule.
_residual_jacfwd = jax.jit(jax.jacfwd(residual_block, argnums=2))
_residual_jacrev = jax.jit(jax.jacrev(residual_block, argnums=2))
_plain_jacfwd = jax.jit(jax.jacfwd(plain_block, argnums=2))
_plain_jacrev = jax.jit(jax.jacrev(plain_block, argnums=2))
_projection_jacfwd = jax.jit(jax.jacfwd(projection_block, argnums=3))
_projection_jacrev = jax.jit(jax.jacrev(projection_block, argnums=3))

HE_2016 = "He, Zhang, Ren, Sun. Deep residual learning for image recognition. CVPR 2016"


def _source(part: str) -> Source:
    return Source(f"residual connections, {part}", HE_2016)


def _note_block(block: DenseBlock | ProjectionBlock) -> np.ndarray:
    """Record the pre-activation and D for the falsifying example, and return D's diagonal."""
    z = block.w1 @ block.x0
    mask = relu_mask(z)
    note(f"pre-activation z = W1 x0 = {z!r}")
    note(f"D = diag({mask.astype(int).tolist()})")
    return mask


# --- the block and its Jacobian ---------------------------------------------------------------


def block_formula(w1: np.ndarray, w2: np.ndarray, x0: np.ndarray) -> np.ndarray:
    """W2 max(W1 x0, 0) + x0, evaluated in NumPy as an independent reference."""
    return w2 @ np.maximum(w1 @ x0, 0.0) + x0


@claim(
    "residual.block_output",
    title="The residual block computes W2 ReLU(W1 X0) + X0",
    statement=r"X_1 = W_2\,\mathrm{ReLU}(W_1 X_0) + X_0",
    source=_source("part (a)"),
    strategy=residual_blocks(),
    evidence="numerical",
    examples=(
        # W1 x0 underflows to a subnormal that keeps few digits, and W2 scales the loss up.
        DenseBlock(
            w1=np.array([[1.2345e-120]]),
            w2=np.array([[1e250]]),
            x0=np.array([1e-200]),
            u=np.zeros(1),
            v=np.zeros(1),
        ),
    ),
)
def block_output(block: DenseBlock, formula=block_formula) -> None:
    _note_block(block)
    n = block.x0.shape[0]

    actual = residual_block(block.w1, block.w2, block.x0)
    expected = formula(block.w1, block.w2, block.x0)

    # |ReLU(a) - ReLU(b)| <= |a - b|, so the chain W2 (W1 x0) bounds the branch's error, and
    # adding x0 rounds once more. Each side is within that bound; the difference within twice.
    magnitude = np.abs(block.w2) @ np.abs(block.w1) @ np.abs(block.x0) + np.abs(block.x0)
    branch = error_model.product(block.w2, block.w1, block.x0, label="|W2||W1||x0|")
    bound = 2 * (branch + error_model.rounded(magnitude, 1, label="(|W2||W1||x0| + |x0|)"))
    assert_close(actual, expected, bound, what="block output vs formula")


block_output.mutant(
    "missing_skip",
    description="W2 ReLU(W1 X0), the shortcut dropped",
    formula=lambda w1, w2, x0: w2 @ np.maximum(w1 @ x0, 0.0),
)
block_output.mutant(
    "relu_after_sum",
    description="ReLU(W2 W1 X0) + X0, the nonlinearity in the wrong place",
    formula=lambda w1, w2, x0: np.maximum(w2 @ (w1 @ x0), 0.0) + x0,
)


def jacobian_closed_form(w1: np.ndarray, w2: np.ndarray, x0: np.ndarray) -> np.ndarray:
    """W2 D W1 + I with D = diag(1[W1 x0 > 0])."""
    mask = relu_mask(w1 @ x0)
    return w2 @ (mask[:, None] * w1) + np.eye(x0.shape[0])


@claim(
    "residual.jacobian",
    title="The block's Jacobian is W2 D W1 + I",
    statement=r"\frac{\partial X_1}{\partial X_0} = W_2 D W_1 + I,\quad D = \mathrm{diag}(1[W_1 X_0 > 0])",
    source=_source("part (b)"),
    strategy=residual_blocks(),
    evidence="numerical",
    notes="Checked convention: ReLU'(0) = 0, so D_ii = 0 where (W1 X0)_i = 0 exactly, as jax.nn.relu "
    "differentiates. Oracles: jacfwd, jacrev, and <v, J u> from jax.jvp against <J^T v, u> from jax.vjp.",
)
def jacobian(block: DenseBlock, closed_form=jacobian_closed_form) -> None:
    require_certain_relu_pattern(block.w1, block.x0)
    mask = _note_block(block)
    function = partial(residual_block, block.w1, block.w2)
    identity = np.eye(block.x0.shape[0])

    expected = closed_form(block.w1, block.w2, block.x0)
    bound = 2 * jacobian_bound(block.w1, block.w2, mask, identity)
    forward = _residual_jacfwd(block.w1, block.w2, block.x0)
    reverse = _residual_jacrev(block.w1, block.w2, block.x0)
    assert_close(forward, expected, bound, what="jacfwd Jacobian vs W2 D W1 + I")
    assert_close(reverse, expected, bound, what="jacrev Jacobian vs W2 D W1 + I")

    _assert_jvp_vjp_agree(function, block, mask)


def _assert_jvp_vjp_agree(function, block: DenseBlock, mask: np.ndarray) -> None:
    """<v, J u> from forward mode equals <J^T v, u> from reverse mode.

    Forward mode rounds W1 u (n terms) and W2 (D W1 u) (n terms), adds u and takes the inner
    product with v (n more terms); reverse mode does the same from the other end. The product
    bounds cover the chains in both evaluation orders, underflow included, and the last term
    covers the addition of u and the final inner product.
    """
    _, forward = jax.jvp(function, (block.x0,), (block.u,))
    _, pullback = jax.vjp(function, block.x0)
    (backward,) = pullback(block.v)
    left = float(np.dot(block.v, forward))
    right = float(np.dot(backward, block.u))
    note(f"<v, J u> = {left!r}, <J^T v, u> = {right!r}")

    n = block.x0.shape[0]
    masked = mask[:, None] * block.w1
    branch = error_model.product(block.v, block.w2, masked, block.u, label="|v|^T |W2||D||W1| |u|")
    shortcut = error_model.product(block.v, block.u, label="|v|^T |u|")
    total = np.abs(block.v) @ jacobian_magnitude(block.w1, block.w2, mask, np.eye(n)) @ np.abs(block.u)
    per_side = branch + shortcut + error_model.rounded(total, n + 1, label="|v|^T (|W2||D||W1| + I) |u|")
    assert_close(left, right, 2 * per_side, what="JVP/VJP inner products")


jacobian.mutant(
    "missing_identity",
    description="W2 D W1, the +I of the shortcut dropped",
    closed_form=lambda w1, w2, x0: w2 @ (relu_mask(w1 @ x0)[:, None] * w1),
)
jacobian.mutant(
    "missing_relu_mask",
    description="W2 W1 + I, D dropped",
    closed_form=lambda w1, w2, x0: w2 @ w1 + np.eye(x0.shape[0]),
)
jacobian.mutant(
    "factors_swapped",
    description="W1 D W2 + I, the factors in the wrong order",
    closed_form=lambda w1, w2, x0: w1 @ (relu_mask(w1 @ x0)[:, None] * w2) + np.eye(x0.shape[0]),
)
jacobian.mutant(
    "transposed",
    description="(W2 D W1)^T + I, the transpose",
    closed_form=lambda w1, w2, x0: (w2 @ (relu_mask(w1 @ x0)[:, None] * w1)).T + np.eye(x0.shape[0]),
)
jacobian.mutant(
    "mask_at_kink",
    description="D = diag(1[W1 X0 >= 0]); differs only at exact kinks",
    closed_form=lambda w1, w2, x0: w2 @ ((w1 @ x0 >= 0).astype(float)[:, None] * w1) + np.eye(x0.shape[0]),
)


def plain_jacobian_closed_form(w1: np.ndarray, w2: np.ndarray, x0: np.ndarray) -> np.ndarray:
    """W2 D W1 with D = diag(1[W1 x0 > 0])."""
    return w2 @ (relu_mask(w1 @ x0)[:, None] * w1)


@claim(
    "residual.jacobian_without_skip",
    title="Without the shortcut the Jacobian is W2 D W1",
    statement=r"\frac{\partial}{\partial X_0} W_2\,\mathrm{ReLU}(W_1 X_0) = W_2 D W_1",
    source=_source("part (b)"),
    strategy=residual_blocks(),
    evidence="numerical",
    notes="Same ReLU'(0) = 0 convention as residual.jacobian.",
)
def jacobian_without_skip(block: DenseBlock, closed_form=plain_jacobian_closed_form) -> None:
    require_certain_relu_pattern(block.w1, block.x0)
    mask = _note_block(block)

    expected = closed_form(block.w1, block.w2, block.x0)
    bound = 2 * jacobian_bound(block.w1, block.w2, mask, None)
    forward = _plain_jacfwd(block.w1, block.w2, block.x0)
    reverse = _plain_jacrev(block.w1, block.w2, block.x0)
    assert_close(forward, expected, bound, what="jacfwd Jacobian vs W2 D W1")
    assert_close(reverse, expected, bound, what="jacrev Jacobian vs W2 D W1")


jacobian_without_skip.mutant(
    "identity_added",
    description="W2 D W1 + I, a shortcut that is not there",
    closed_form=jacobian_closed_form,
)


# --- singular values -------------------------------------------------------------------------


def _singular_value_error(matrix: np.ndarray, rounding: error_model.Bound) -> float:
    """Absolute error of computed singular values of ``matrix``: LAPACK's backward-stable SVD
    moves each by at most p(n) u ||A||_2 (LAPACK Users' Guide, 3rd ed., section 4.9, taking
    p(n) = n), and forming A moved them by at most ||fl(A) - A||_2 <= ||bound||_F (Weyl)."""
    n = max(matrix.shape)
    svd_error = n * unit_roundoff(np.float64) * float(np.linalg.norm(matrix, 2))
    return svd_error + float(np.linalg.norm(rounding.array))


def _residual_spectrum(block: DenseBlock) -> tuple[np.ndarray, float, float]:
    """Return J = W2 D W1 + I, ||W2 D W1||_2, and the error bound on J's singular values."""
    mask = _note_block(block)
    branch = block.w2 @ (mask[:, None] * block.w1)
    jacobian_matrix = branch + np.eye(block.x0.shape[0])
    error = _singular_value_error(jacobian_matrix, jacobian_bound(block.w1, block.w2, mask, np.eye(len(mask))))
    error += _singular_value_error(branch, jacobian_bound(block.w1, block.w2, mask, None))
    note(f"W2 D W1 = {branch.tolist()}")
    return jacobian_matrix, float(np.linalg.norm(branch, 2)), error


@claim(
    "residual.jacobian_at_least_identity",
    title="Erratum: the Jacobian's singular values are at least 1",
    statement=r"\sigma_{min}(W_2 D W_1 + I) \ge 1",
    source=_source("part (b), 'a magnitude of at least I'"),
    strategy=residual_blocks(),
    evidence="numerical",
    expected="refuted",
    corrected_by="residual.singular_value_bounds",
    notes="False: W2 D W1 = -I gives J = 0. The identity keeps J away from 0 only while "
    "||W2 D W1||_2 < 1; see residual.singular_value_bounds and residual.expected_gradient_norm.",
)
def jacobian_at_least_identity(block: DenseBlock) -> None:
    require_certain_relu_pattern(block.w1, block.x0)
    jacobian_matrix, _, error = _residual_spectrum(block)
    smallest = float(np.linalg.svd(jacobian_matrix, compute_uv=False).min())
    note(f"sigma_min(J) = {smallest!r}, error bound {error:.3g}")
    assert_that(
        smallest >= 1.0 - error,
        f"sigma_min(W2 D W1 + I) = {smallest!r} < 1 (beyond the error bound {error:.3g})",
    )


@claim(
    "residual.singular_value_bounds",
    title="Weyl: the Jacobian's singular values lie within 1 +- ||W2 D W1||_2",
    statement=r"1 - \|W_2 D W_1\|_2 \le \sigma_{min}(J) \le \sigma_{max}(J) \le 1 + \|W_2 D W_1\|_2",
    source=_source("part (b), corrected"),
    strategy=residual_blocks(),
    evidence="numerical",
    notes="Weyl's inequality for J = I + W2 D W1. The lower bound is informative only when "
    "||W2 D W1||_2 < 1.",
)
def singular_value_bounds(
    block: DenseBlock, lower_bound=lambda norm: 1.0 - norm, upper_bound=lambda norm: 1.0 + norm
) -> None:
    require_certain_relu_pattern(block.w1, block.x0)
    jacobian_matrix, branch_norm, error = _residual_spectrum(block)
    singular_values = np.linalg.svd(jacobian_matrix, compute_uv=False)
    smallest, largest = float(singular_values.min()), float(singular_values.max())
    low, high = lower_bound(branch_norm), upper_bound(branch_norm)
    note(f"sigma(J) in [{smallest!r}, {largest!r}], ||W2 D W1||_2 = {branch_norm!r}, error bound {error:.3g}")

    assert_that(
        low <= smallest + error,
        f"lower bound fails: {low!r} > sigma_min(J) = {smallest!r} by more than the error bound {error:.3g}",
    )
    assert_that(
        largest <= high + error,
        f"upper bound fails: sigma_max(J) = {largest!r} > {high!r} by more than the error bound {error:.3g}",
    )


singular_value_bounds.mutant(
    "lower_bound_one",
    description="sigma_min(J) >= 1, the uncorrected argument",
    lower_bound=lambda norm: 1.0,
)
singular_value_bounds.mutant(
    "norm_squared",
    description="1 + ||W2 D W1||_2^2 as the upper bound, as if the branch added its squared norm",
    upper_bound=lambda norm: 1.0 + norm * norm,
)


# --- projection shortcuts --------------------------------------------------------------------


def _output_shape(function, *shapes: tuple[int, ...]) -> tuple[int, ...]:
    """Return the output shape of ``function`` on float64 arguments of these shapes, without computing it."""
    arguments = [jax.ShapeDtypeStruct(s, np.float64) for s in shapes]
    return tuple(jax.eval_shape(function, *arguments).shape)


def main_branch_shape(spec: BlockShape) -> tuple[int, ...]:
    image = (1, spec.h, spec.w, spec.c_in)
    if spec.kind == "basic":
        return _output_shape(
            partial(basic_main_branch, stride=spec.stride),
            image,
            (3, 3, spec.c_in, spec.c_out),
            (3, 3, spec.c_out, spec.c_out),
        )
    return _output_shape(
        partial(bottleneck_main_branch, stride=spec.stride),
        image,
        (1, 1, spec.c_in, spec.c_mid),
        (3, 3, spec.c_mid, spec.c_mid),
        (1, 1, spec.c_mid, spec.c_out),
    )


def shortcut_shape(spec: BlockShape) -> tuple[int, ...]:
    """Output shape of the 1x1 projection at the block's stride with padding 0."""
    return _output_shape(
        partial(projection_shortcut, stride=spec.stride), (1, spec.h, spec.w, spec.c_in), (1, 1, spec.c_in, spec.c_out)
    )


@claim(
    "residual.projection_shapes",
    title="A 1x1 strided projection always matches the main branch; identity rarely does",
    statement=r"\mathrm{shape}(F(X_0)) = \mathrm{shape}(\mathrm{conv}_{1\times1,s}(X_0)) "
    r"= (\lceil H/s \rceil, \lceil W/s \rceil, C_{out}) \;\forall H, W \ge 1",
    source=_source("part (c)"),
    strategy=st.one_of(block_shapes(), st.sampled_from(RESNET_TRANSITIONS)),
    evidence="exact",
    examples=RESNET_TRANSITIONS,
    notes="Basic block: conv3x3/s/pad 1 -> ReLU -> conv3x3/1/pad 1; bottleneck: conv1x1 -> conv3x3/s/pad 1 "
    "-> conv1x1. Shortcut: conv1x1/s/pad 0. Fixed examples: every projection transition of ResNet-18/34 "
    "and ResNet-50 at 224 x 224. An identity shortcut fits only when ceil(H/s) = H, ceil(W/s) = W and "
    "C_in = C_out, i.e. H = W = 1 at stride 2.",
)
def projection_shapes(spec: BlockShape, shortcut=shortcut_shape) -> None:
    note(f"block: {spec}")
    main = main_branch_shape(spec)
    projected = shortcut(spec)
    predicted = (1, math.ceil(spec.h / spec.stride), math.ceil(spec.w / spec.stride), spec.c_out)
    note(f"main branch {main}, projection {projected}, predicted {predicted}")

    assert_equal(projected, main, what="projection and main-branch output shapes")
    assert_equal(main, predicted, what="main-branch shape and (ceil(H/s), ceil(W/s), C_out)")

    identity_fits = (1, spec.h, spec.w, spec.c_in) == main
    rule = spec.h == predicted[1] and spec.w == predicted[2] and spec.c_in == spec.c_out
    assert_equal(identity_fits, rule, what="identity-shortcut fit and the rule 'H, W unchanged, C_in = C_out'")


projection_shapes.mutant(
    "shortcut_padded",
    description="1x1 shortcut with padding 1, copied from the 3x3 convolutions",
    shortcut=lambda spec: _output_shape(
        lambda x, k: conv2d(x, k, spec.stride, 1), (1, spec.h, spec.w, spec.c_in), (1, 1, spec.c_in, spec.c_out)
    ),
)
projection_shapes.mutant(
    "shortcut_floor",
    description="output side floor(H/s) instead of ceil(H/s), the shape of a 2x2 stride-2 pool without padding",
    shortcut=lambda spec: (1, spec.h // spec.stride, spec.w // spec.stride, spec.c_out),
)


@st.composite
def _projection_inputs(draw: st.DrawFn) -> tuple[np.ndarray, np.ndarray]:
    h, w = draw(st.integers(1, 9)), draw(st.integers(1, 9))
    c_in, c_out = draw(st.integers(1, 5)), draw(st.integers(1, 5))
    exact = draw(st.booleans())
    image = draw(images(h, w, c_in, exact_only=exact))
    channels = draw(kernels_2d(1, 1, c_in, c_out, exact_only=exact))[0, 0]
    return image, channels


def subsample(image: np.ndarray) -> np.ndarray:
    """Keep rows and columns 0, 2, 4, ...: the pixels a stride-2 1x1 convolution reads."""
    return image[:, ::2, ::2, :]


@claim(
    "residual.projection_is_linear_map",
    title="A 1x1 stride-2 convolution is subsampling, then a channel matrix P at each pixel",
    statement=r"\mathrm{conv}_{1\times1,2}(X; P)[i, j, :] = P^\top X[2i, 2j, :]",
    source=_source("part (c)"),
    strategy=_projection_inputs(),
    evidence="numerical",
)
def projection_is_linear_map(case: tuple[np.ndarray, np.ndarray], sampler=subsample) -> None:
    image, channels = case
    note(f"image shape {image.shape}, P shape {channels.shape}")
    convolved = projection_shortcut(image, channels[None, None], 2)
    sampled = sampler(image)
    expected = sampled @ channels

    per_side = error_model.rounded(np.abs(sampled) @ np.abs(channels), channels.shape[0], label="|X_sub||P|")
    assert_close(convolved, expected, 2 * per_side, what="1x1 stride-2 convolution vs subsample-then-P")


projection_is_linear_map.mutant(
    "odd_pixels",
    description="samples rows and columns 1, 3, 5, ... instead of 0, 2, 4, ...",
    sampler=lambda image: image[:, 1::2, 1::2, :],
)


def projection_jacobian_closed_form(w1: np.ndarray, w2: np.ndarray, p: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """W2 D W1 + P."""
    return w2 @ (mask[:, None] * w1) + p


@st.composite
def _conv_blocks(draw: st.DrawFn) -> dict[str, np.ndarray]:
    # A few sizes (1 x 1, odd, even, non-square) bound the number of XLA compiles per run.
    h, w = draw(st.sampled_from([(1, 1), (3, 3), (4, 4), (2, 3), (1, 4)]))
    c_in, c_out = draw(st.sampled_from([(1, 1), (2, 1), (1, 2), (2, 2)]))
    exact = draw(st.booleans())
    return {
        "x0": draw(images(h, w, c_in, exact_only=exact)),
        "k1": draw(kernels_2d(3, 3, c_in, c_out, exact_only=exact)),
        "k2": draw(kernels_2d(3, 3, c_out, c_out, exact_only=exact)),
        "kp": draw(kernels_2d(1, 1, c_in, c_out, exact_only=exact)),
    }


@claim(
    "residual.projection_jacobian",
    title="With a projection shortcut the Jacobian is W2 D W1 + P",
    statement=r"\frac{\partial}{\partial X_0}\left(W_2\,\mathrm{ReLU}(W_1 X_0) + P X_0\right) = W_2 D W_1 + P",
    source=_source("part (c)"),
    strategy=st.tuples(projection_blocks(), _conv_blocks()),
    evidence="numerical",
    notes="Dense form with rectangular W1 (m x n), W2 (k x m), P (k x n); convolutional form with the "
    "3x3/2 -> ReLU -> 3x3/1 main branch and the 1x1/2 shortcut, against their materialized matrices.",
)
def projection_jacobian(case: tuple[ProjectionBlock, dict[str, np.ndarray]], closed_form=projection_jacobian_closed_form) -> None:
    dense, conv = case

    require_certain_relu_pattern(dense.w1, dense.x0)
    mask = _note_block(dense)
    expected = closed_form(dense.w1, dense.w2, dense.p, mask)
    bound = 2 * jacobian_bound(dense.w1, dense.w2, mask, dense.p)
    forward = _projection_jacfwd(dense.w1, dense.w2, dense.p, dense.x0)
    reverse = _projection_jacrev(dense.w1, dense.w2, dense.p, dense.x0)
    assert_close(forward, expected, bound, what="dense jacfwd Jacobian vs W2 D W1 + P")
    assert_close(reverse, expected, bound, what="dense jacrev Jacobian vs W2 D W1 + P")

    _check_conv_projection_jacobian(conv, closed_form)


def _conv_block(x_flat, x_shape, k1, k2, kp):
    """Apply the basic block with a projection shortcut to a flattened input."""
    image = x_flat.reshape(x_shape)
    return (basic_main_branch(image, k1, k2, 2) + projection_shortcut(image, kp, 2)).ravel()


_conv_jacfwd = jax.jit(jax.jacfwd(_conv_block), static_argnums=1)


def _check_conv_projection_jacobian(conv: dict[str, np.ndarray], closed_form) -> None:
    x0, k1, k2, kp = conv["x0"], conv["k1"], conv["k2"], conv["kp"]
    first = materialize(lambda x: conv2d(x, k1, 2, 1), x0.shape)
    hidden_shape = (1, *conv2d(x0, k1, 2, 1).shape[1:])
    second = materialize(lambda h: conv2d(h, k2, 1, 1), hidden_shape)
    shortcut = materialize(lambda x: projection_shortcut(x, kp, 2), x0.shape)
    flat = x0.ravel()
    require_certain_relu_pattern(first, flat)
    mask = relu_mask(first @ flat)
    note(f"conv block: input {x0.shape}, hidden {hidden_shape}, D = diag({mask.astype(int).tolist()})")

    expected = closed_form(first, second, shortcut, mask)
    bound = 2 * jacobian_bound(first, second, mask, shortcut)
    actual = _conv_jacfwd(flat, x0.shape, k1, k2, kp)
    assert_close(actual, expected, bound, what="conv-block jacfwd Jacobian vs A2 D A1 + P")


projection_jacobian.mutant(
    "projection_dropped",
    description="W2 D W1, as if the shortcut contributed nothing",
    closed_form=lambda w1, w2, p, mask: w2 @ (mask[:, None] * w1),
)
projection_jacobian.mutant(
    "mask_dropped",
    description="W2 W1 + P, D dropped",
    closed_form=lambda w1, w2, p, mask: w2 @ w1 + p,
)
