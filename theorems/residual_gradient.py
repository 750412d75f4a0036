"""A skip connection keeps the expected backpropagated gradient norm at least ||g||.

For the residual block X1 = W2 ReLU(W1 X0) + X0 (He et al., "Deep residual learning for image
recognition", CVPR 2016) the Jacobian is J = W2 D W1 + I with D = diag(1[W1 X0 > 0]). If W2 has
i.i.d. zero-mean entries of variance sigma^2, independent of W1 and X0, then for every upstream
gradient g, with v = W2^T g (E[v v^T] = sigma^2 ||g||^2 I),

.. math:: E\\|J^T g\\|^2 = \\|g\\|^2 + 2 E[g^T W_1^T D v] + E\\|W_1^T D v\\|^2
          = \\|g\\|^2 + \\sigma^2 \\|g\\|^2 \\|D W_1\\|_F^2 \\ge \\|g\\|^2,

while without the skip E||(W2 D W1)^T g||^2 = sigma^2 ||g||^2 ||D W1||_F^2, which tends to 0
with sigma or with D W1.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from hypothesis import note
from hypothesis import strategies as st

from strategies.numbers import dyadics
from theorems import assert_that, claim, error_model
from theorems._registry import Source
from theorems.certified import assert_true_mean_equal, default_seed, design_mean_test
from theorems.exact import fractions_of
from theorems._blocks import relu_mask

__all__ = ["expected_gradient_norm_squared", "sample_gradient_norms_squared"]

SOURCE = Source(
    "part 1, Residual Connection",
    "He, Zhang, Ren and Sun, Deep residual learning for image recognition, CVPR 2016",
)

_WIDTH = 6  # every block pads to 6 x 6, so XLA compiles the sampler once
_SAMPLE_CHUNK = 4096
# The certified test detects an error of a quarter of the growth term sigma^2 ||g||^2 ||D W1||_F^2.
DETECTED_FRACTION_OF_GROWTH = 0.25


@dataclass(frozen=True)
class GradientProblem:
    """First-layer weights W1 (n x n), input x0, upstream gradient g and the scale sigma of W2."""

    W1: np.ndarray
    x0: np.ndarray
    g: np.ndarray
    sigma: float


@st.composite
def _gradient_problems(draw: st.DrawFn) -> GradientProblem:
    n = draw(st.integers(1, _WIDTH), label="n")
    vector = st.lists(dyadics(), min_size=n, max_size=n).map(np.asarray)
    W1 = np.asarray(draw(st.lists(dyadics(), min_size=n * n, max_size=n * n), label="W1")).reshape(n, n)
    sigma = draw(st.sampled_from((1.0, 0.5, 2.0, 2.0**-10, 0.125, 3.0)), label="sigma")
    return GradientProblem(W1=W1, x0=draw(vector, label="x0"), g=draw(vector, label="g"), sigma=sigma)


def _active_rows(W1: Any, x0: Any) -> np.ndarray:
    """D as a 0/1 integer vector, so it keeps rational inputs exact (ReLU'(0) = 0 at a kink)."""
    return relu_mask(W1 @ x0).astype(int)


def expected_gradient_norm_squared(g: Any, W1: Any, x0: Any, sigma: Any) -> Any:
    """Return ||g||^2 + sigma^2 ||g||^2 ||D W1||_F^2 (exact on ``Fraction`` inputs)."""
    active = _active_rows(W1, x0)
    g_squared = (g * g).sum()
    return g_squared + sigma * sigma * g_squared * (W1 * W1 * active[:, None]).sum()


def _without_skip(g: Any, W1: Any, x0: Any, sigma: Any) -> Any:
    return expected_gradient_norm_squared(g, W1, x0, sigma) - (g * g).sum()


@functools.partial(jax.jit, static_argnames=("count", "skip"))
def _norms_squared(key: jax.Array, B: jax.Array, g: jax.Array, sigma: jax.Array, count: int, skip: bool) -> jax.Array:
    signs = jax.random.rademacher(key, (count, *B.shape), dtype=B.dtype)
    v = sigma * jnp.einsum("sij,i->sj", signs, g)  # v = W2^T g for W2 = sigma * signs
    backward = jnp.einsum("ij,sj->si", B, v) + (g if skip else 0.0)
    return jnp.sum(backward * backward, axis=-1)


def sample_gradient_norms_squared(B: np.ndarray, g: np.ndarray, sigma: float, samples: int, seed: int, *, skip: bool) -> np.ndarray:
    """Return at least ``samples`` draws of ||B W2^T g + [skip] g||^2 for W2 with i.i.d. entries
    +-sigma (Rademacher times sigma: mean 0, variance sigma^2, bounded), where B = W1^T D."""
    n = len(g)
    padded_B = np.zeros((_WIDTH, _WIDTH))
    padded_B[:n, :n] = B
    padded_g = np.zeros(_WIDTH)
    padded_g[:n] = g
    key = jax.random.PRNGKey(seed)
    chunks = [
        np.asarray(_norms_squared(jax.random.fold_in(key, i), jnp.asarray(padded_B), jnp.asarray(padded_g), jnp.asarray(sigma), count=_SAMPLE_CHUNK, skip=skip))
        for i in range(-(-samples // _SAMPLE_CHUNK))
    ]
    return np.concatenate(chunks)


def _range_and_variance(B: np.ndarray, g: np.ndarray, sigma: float, skip: bool) -> tuple[float, float, float]:
    """Return (low, high, variance bound) of Q = ||B v + [skip] g||^2 with v = W2^T g.

    |v_k| <= sigma ||g||_1, so ||B v|| <= ||B||_F sqrt(n) sigma ||g||_1. For the variance,
    Var Q <= E[(Q - c)^2] with c = [skip] ||g||^2, Q - c = 2 [skip] g^T B v + ||B v||^2, and
    E(g^T B v)^2 = sigma^2 ||g||^2 ||B^T g||^2, E||v||^4 <= n (n + 2) sigma^4 ||g||^4 (fourth
    moment of a Rademacher sum is at most 3 times the squared second), so
    Var Q <= 8 [skip] sigma^2 ||g||^2 ||B^T g||^2 + 2 ||B||_2^4 n (n + 2) sigma^4 ||g||^4.
    Every bound is inflated by a relative 1e-12 so its own rounding cannot make it too small.
    """
    n = len(g)
    g_norm = float(np.linalg.norm(g))
    reach = float(np.linalg.norm(B)) * math.sqrt(n) * sigma * float(np.abs(g).sum())
    high = ((g_norm if skip else 0.0) + reach) ** 2
    spectral = float(np.linalg.norm(B, 2)) if B.size else 0.0
    cross = 8.0 * sigma**2 * g_norm**2 * float(np.linalg.norm(B.T @ g)) ** 2 if skip else 0.0
    variance = cross + 2.0 * spectral**4 * n * (n + 2) * sigma**4 * g_norm**4
    inflate = 1.0 + 1e-12
    return 0.0, high * inflate, variance * inflate


@claim(
    "residual.expected_gradient_norm",
    title="With a skip connection the expected squared gradient norm is ||g||^2 plus a nonnegative term",
    statement=(
        r"E_{W_2}\|J^Tg\|^2=\|g\|^2+\sigma^2\|g\|^2\|DW_1\|_F^2\ge\|g\|^2,\ "
        r"E_{W_2}\|(W_2DW_1)^Tg\|^2=\sigma^2\|g\|^2\|DW_1\|_F^2"
    ),
    source=SOURCE,
    strategy=_gradient_problems(),
    evidence="certified",
    notes=(
        "Certified Monte Carlo for both expectations (with and without the skip), W2 = sigma "
        "times a Rademacher matrix, n <= 6. Two-sided Bernstein intervals at alpha = 1e-9 each, "
        "with an analytic variance bound and range (see _range_and_variance); the sample count "
        "detects an error of a quarter of sigma^2 ||g||^2 ||D W1||_F^2 at false pass rate 1e-3, "
        "capped at 65536. The no-skip value tends to 0 with sigma (sigma = 2^-10 is drawn) or "
        "with D W1, while the skip value stays >= ||g||^2. Seed: THEOREMS_SEED, logged as seed."
    ),
)
def expected_gradient_norm(problem: GradientProblem, *, closed_form: Callable[..., Any] = expected_gradient_norm_squared) -> None:
    g, W1, x0 = (fractions_of(a) for a in (problem.g, problem.W1, problem.x0))
    sigma = Fraction(problem.sigma)
    active = _active_rows(W1, x0)
    B = problem.W1.T * active[None, :]  # W1^T D, exact: D is 0/1
    growth = sigma * sigma * (g * g).sum() * (W1 * W1 * active[:, None]).sum()
    seed = default_seed()

    with_skip = closed_form(g, W1, x0, sigma)
    without_skip = closed_form(g, W1, x0, sigma) - (g * g).sum()
    assert_that(with_skip >= (g * g).sum(), f"E||J^T g||^2 = {float(with_skip)!r} is below ||g||^2 = {float((g * g).sum())!r}")

    for skip, expected, label in ((True, with_skip, "with the skip"), (False, without_skip, "without the skip")):
        low, high, variance = _range_and_variance(B, problem.g, problem.sigma, skip)
        design = design_mean_test(float(DETECTED_FRACTION_OF_GROWTH * growth), low=low, high=high, variance_bound=variance)
        samples = sample_gradient_norms_squared(B, problem.g, problem.sigma, design.samples, seed + int(skip), skip=skip)
        rounding = error_model.gamma(3 * len(problem.g) + 6, np.float64) * high + abs(float(expected)) * 2.0**-52
        note(f"{label}: expected {float(expected)!r}, range [0, {high!r}], variance bound {variance!r}")
        assert_true_mean_equal(samples, float(expected), design, seed=seed, rounding=rounding, what=f"mean ||J^T g||^2 {label}")


expected_gradient_norm.mutant("no_skip", description="drops the identity: sigma^2 ||g||^2 ||D W1||_F^2 only", closed_form=_without_skip)
expected_gradient_norm.mutant(
    "sigma_not_squared",
    description="sigma in place of sigma^2",
    closed_form=lambda g, W1, x0, sigma: expected_gradient_norm_squared(g, W1, x0, Fraction(math.sqrt(sigma))),
)
expected_gradient_norm.mutant(
    "without_relu_mask",
    description="||W1||_F in place of ||D W1||_F (forgets the ReLU derivative)",
    closed_form=lambda g, W1, x0, sigma: (g * g).sum() * (1 + sigma * sigma * (W1 * W1).sum()),
)
