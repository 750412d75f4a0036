"""Dropout on the inputs of least squares is Tikhonov (generalized ridge) regularization.

With data X in R^{n x d} (columns f_j), targets y, weights w, keep probability p in (0, 1] and
a mask R with i.i.d. Bernoulli(p) entries (Srivastava et al., "Dropout: a simple way to prevent
neural networks from overfitting", JMLR 15, 2014, section 9.1 for linear regression):

.. math::
    E_R \\|y - (R \\odot X) w\\|^2 = \\|y - pXw\\|^2 + p(1-p) \\|\\tilde\\Gamma w\\|^2,
    \\qquad \\tilde\\Gamma = \\mathrm{diag}(\\|f_1\\|, \\dots, \\|f_d\\|),

because E[R_ij] = p and Var[R_ij] = p(1 - p), so each row contributes its squared mean residual
plus the variance of its kept terms. Rescaling w = p w~ turns this objective into the Tikhonov
objective ||y - Xw||^2 + ||Gamma w||^2 with Gamma = sqrt((1 - p) / p) Gamma~ (Tikhonov
regularization; Hoerl and Kennard, "Ridge regression", Technometrics 12, 1970). Inverted
dropout, which scales kept entries by 1/p during training, gives that objective directly.

Formulas are written over NumPy object arrays as well as float and JAX arrays, so the same
function is evaluated exactly on ``Fraction`` inputs and symbolically on SymPy symbols.
"""

from __future__ import annotations

import functools
import math
import numbers
from collections.abc import Callable
from decimal import ROUND_HALF_EVEN, Decimal, localcontext
from fractions import Fraction
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import sympy
from hypothesis import note
from hypothesis import strategies as st

from strategies.probability import DropoutProblem, dropout_problems, keep_probabilities
from theorems import assert_close, assert_equal, assert_that, claim, error_model, record_details, record_evidence
from theorems._registry import Source
from theorems.certified import assert_true_mean_equal, default_seed, design_mean_test
from theorems.exact import (
    MAX_ENUMERATED_ENTRIES,
    bernoulli_expectation,
    enumerate_masks,
    expect_multilinear,
    integers_over_common_denominator,
    solve_rational,
    symbol_array,
)

__all__ = [
    "column_norms_squared",
    "dropout_loss_variance",
    "dropout_objective",
    "gamma_scale",
    "inverted_dropout_objective",
    "sample_dropout_losses",
    "validate_dropout_problem",
]

SOURCE = Source(
    "part 3, Regularization and Dropout",
    "Srivastava et al., Dropout: a simple way to prevent neural networks from overfitting, JMLR 15 (2014)",
)
TIKHONOV_SOURCE = Source(
    "part 3, Regularization and Dropout",
    "Tikhonov regularization; Hoerl and Kennard, Ridge regression, Technometrics 12 (1970); "
    "Srivastava et al., JMLR 15 (2014)",
)


# --- validation -------------------------------------------------------------------------------


def validate_dropout_problem(X: Any, y: Any, w: Any, p: float, *, weights_name: str = "w") -> None:
    """Check the inputs of a dropout least-squares problem.

    ``weights_name`` is the name the messages use for ``w`` (e.g. ``w0`` for a starting point).

    Raises:
        ValueError: p outside (0, 1], a non-finite entry, X not 2-D, or y, w whose lengths do
            not match the rows and columns of X. The message names the parameter and its value.
    """
    _validate_keep_probability(p)
    arrays = {"X": np.asarray(X, dtype=np.float64), "y": np.asarray(y, dtype=np.float64), weights_name: np.asarray(w, dtype=np.float64)}
    for name, array in arrays.items():
        if not np.all(np.isfinite(array)):
            raise ValueError(f"{name}={array!r} is invalid: every entry must be finite (no NaN or infinity)")
    X_array, y_array, w_array = arrays["X"], arrays["y"], arrays[weights_name]
    if X_array.ndim != 2:
        raise ValueError(f"X has shape {X_array.shape!r}; X must be a 2-D n x d matrix")
    rows, cols = X_array.shape
    if y_array.shape != (rows,):
        raise ValueError(f"y has shape {y_array.shape!r}; with X of shape {X_array.shape!r} it must have shape ({rows},)")
    if w_array.shape != (cols,):
        raise ValueError(
            f"{weights_name} has shape {w_array.shape!r}; with X of shape {X_array.shape!r} it must have shape ({cols},)"
        )


def _validate_keep_probability(p: Any) -> None:
    """Raise ValueError unless p is a real number in (0, 1]. A bool is rejected."""
    is_real = isinstance(p, numbers.Real) and not isinstance(p, (bool, np.bool_))
    if not (is_real and 0 < p <= 1):
        raise ValueError(f"keep probability p={p!r} is invalid: p must lie in (0, 1] (p = 1 keeps every entry)")


def _is_concrete(*values: Any) -> bool:
    """Return whether no value is a SymPy expression, an array holding one, or a JAX tracer.

    The formulas under test also run on SymPy symbols and inside jax.grad, where the inputs
    have no numeric value to validate.
    """
    for value in values:
        if isinstance(value, (sympy.Basic, jax.core.Tracer)):
            return False
        if isinstance(value, np.ndarray) and value.dtype == object:
            if any(isinstance(entry, sympy.Basic) for entry in value.flat):
                return False
    return True


def _validate_kept_terms(kept_terms: Any, y: Any) -> None:
    """Raise ValueError unless kept_terms is a 2-D n x d array and y has shape (n,)."""
    shape = np.shape(kept_terms)
    if len(shape) != 2:
        raise ValueError(f"kept_terms has shape {shape!r}; kept_terms must be a 2-D n x d array")
    if np.shape(y) != (shape[0],):
        raise ValueError(
            f"y has shape {np.shape(y)!r}; with kept_terms of shape {shape!r} it must have shape ({shape[0]},)"
        )


# --- the formulas under test -------------------------------------------------------------------


def column_norms_squared(X: Any) -> Any:
    """Return (||f_1||^2, ..., ||f_d||^2): the squared diagonal of Gamma~.

    Raises:
        ValueError: X is not a 2-D n x d array.
    """
    ndim = getattr(X, "ndim", None)
    if ndim is None:
        ndim = np.ndim(X)
    if ndim != 2:
        raise ValueError(f"X has shape {np.shape(X)!r}; X must be a 2-D n x d matrix")
    return (X * X).sum(axis=0)


def _row_norms_squared(X: Any) -> Any:
    return (X * X).sum(axis=1)


def _weighted_penalty(diagonal_squared: Any, w: Any) -> Any:
    """||Gamma w||^2 for Gamma = diag(sqrt(diagonal_squared)); a diagonal of the wrong length
    (e.g. one entry per row) is a wrong formula for Gamma, so it refutes the claim."""
    assert_that(
        len(diagonal_squared) == len(w),
        f"the penalty diagonal has {len(diagonal_squared)} entries but w has {len(w)}; "
        "Gamma~ must be d x d, one entry per column of X",
    )
    return (diagonal_squared * w * w).sum()


def _squared_norm(v: Any) -> Any:
    return (v * v).sum()


def dropout_objective(X: Any, y: Any, w: Any, p: Any) -> Any:
    """Return ||y - pXw||^2 + p(1-p) ||Gamma~ w||^2, objective (4) of the dropout problem.

    Raises:
        ValueError: on numeric inputs, whatever :func:`validate_dropout_problem` rejects.
            SymPy and traced JAX inputs are not checked.
    """
    if _is_concrete(X, y, w, p):
        validate_dropout_problem(X, y, w, p)
    return _squared_norm(y - p * (X @ w)) + p * (1 - p) * _weighted_penalty(column_norms_squared(X), w)


def inverted_dropout_objective(X: Any, y: Any, w: Any, p: Any) -> Any:
    """Return ||y - Xw||^2 + ((1-p)/p) ||Gamma~ w||^2, the expected inverted-dropout loss.

    Raises:
        ValueError: on numeric inputs, whatever :func:`validate_dropout_problem` rejects.
            SymPy and traced JAX inputs are not checked.
    """
    if _is_concrete(X, y, w, p):
        validate_dropout_problem(X, y, w, p)
    return _squared_norm(y - X @ w) + (1 - p) / p * _weighted_penalty(column_norms_squared(X), w)


def gamma_scale(p: float) -> float:
    """Return sqrt((1 - p) / p), the factor with Gamma = factor * Gamma~.

    Raises:
        ValueError: p is not a real number in (0, 1].
    """
    _validate_keep_probability(p)
    p = float(p)
    return math.sqrt((1.0 - p) / p)


def _p_squared_objective(X: Any, y: Any, w: Any, p: Any) -> Any:
    return _squared_norm(y - p * (X @ w)) + p * p * _weighted_penalty(column_norms_squared(X), w)


def _row_norm_objective(X: Any, y: Any, w: Any, p: Any) -> Any:
    return _squared_norm(y - p * (X @ w)) + p * (1 - p) * _weighted_penalty(_row_norms_squared(X), w)


def _squared_norm_diagonal_objective(X: Any, y: Any, w: Any, p: Any) -> Any:
    squares = column_norms_squared(X)
    return _squared_norm(y - p * (X @ w)) + p * (1 - p) * _weighted_penalty(squares * squares, w)


# --- dropout.expected_loss: exact -------------------------------------------------------------


def _enumerated_expected_loss(problem: DropoutProblem) -> Fraction:
    """E_R ||y - (R o X) w||^2 summed over all 2^(n d) masks in integer arithmetic."""
    X, y, w, _ = problem.fractions()
    kept_terms = X * w  # a_ij = X_ij w_j, exact as Fractions
    integers, denominator = integers_over_common_denominator(np.concatenate([kept_terms.reshape(-1), y]))
    rows, cols = problem.shape
    a = integers[: rows * cols].reshape(rows, cols)
    targets = integers[rows * cols :]
    masks = enumerate_masks((rows, cols))
    residuals = targets - (masks * a).sum(axis=2)
    losses = (residuals * residuals).sum(axis=1)
    return bernoulli_expectation(losses, masks, Fraction(problem.p)) / denominator**2


# The symbolic proof covers every shape with at most this many entries that the run draws.
_SYMBOLIC_MAX_ENTRIES = 6
_proven_shapes: dict[Callable[..., Any], set[tuple[int, int]]] = {}


@functools.lru_cache(maxsize=None)
def _symbolic_difference(rows: int, cols: int, objective: Callable[..., Any]) -> sympy.Expr:
    X = symbol_array("x", (rows, cols), real=True)
    y = symbol_array("y", (rows,), real=True)
    w = symbol_array("w", (cols,), real=True)
    R = symbol_array("r", (rows, cols))
    p = sympy.Symbol("p", positive=True)
    loss = _squared_norm(y - (R * X) @ w)
    expectation = expect_multilinear(loss, list(R.reshape(-1)), p)
    return sympy.expand(expectation - objective(X, y, w, p))


@claim(
    "dropout.expected_loss",
    title="Dropout's expected squared loss is the least-squares loss of pXw plus a column-norm penalty",
    statement=r"E_R\|y-(R\odot X)w\|^2=\|y-pXw\|^2+p(1-p)\|\tilde\Gamma w\|^2,\ \tilde\Gamma=\mathrm{diag}(\|f_j\|)",
    source=SOURCE,
    # deferred: the Monte Carlo section below defines the larger problems.
    strategy=st.one_of(dropout_problems(max_entries=MAX_ENUMERATED_ENTRIES), st.deferred(lambda: _certified_problems())),
    evidence="exact",
    notes=(
        "Exact on every drawn input with n d <= 12 by enumerating all 2^(n d) masks in rational "
        "arithmetic, and proven symbolically with SymPy for every drawn shape with n d <= 6 "
        "(details: symbolic_shapes). Larger shapes, up to 10 x 5, get the certified Bernstein "
        "mean test of dropout.inverted_dropout_is_ridge (alpha = 1e-9 per example); the ledger "
        "then shows exact+certified and counts each kind in evidence_counts."
    ),
)
def expected_loss(problem: DropoutProblem, *, objective: Callable[..., Any] = dropout_objective) -> None:
    validate_dropout_problem(problem.X, problem.y, problem.w, problem.p)
    X, y, w, p = problem.fractions()
    rows, cols = problem.shape
    if rows * cols > MAX_ENUMERATED_ENTRIES:
        record_evidence("certified")
        penalty = p * (1 - p) * (column_norms_squared(X) * w * w).sum()
        _certify_mean_loss(problem, X * w, objective(X, y, w, p), penalty, what="mean dropout loss")
        return

    record_evidence("exact")
    enumerated = _enumerated_expected_loss(problem)
    closed_form = objective(X, y, w, p)
    note(f"E over masks = {enumerated}, closed form = {closed_form}")
    assert_equal(enumerated, closed_form, what="expected loss over all masks and the closed form")

    if rows * cols <= _SYMBOLIC_MAX_ENTRIES:
        difference = _symbolic_difference(rows, cols, objective)
        note(f"symbolic E[loss] - closed form for {rows} x {cols}: {difference}")
        assert_equal(difference, sympy.Integer(0), what=f"symbolic difference for {rows} x {cols} inputs")
        _proven_shapes.setdefault(objective, set()).add((rows, cols))
        record_details(symbolic_shapes=sorted(_proven_shapes[objective]))


expected_loss.mutant("p_squared", description="penalty p^2 in place of p(1-p)", objective=_p_squared_objective)
expected_loss.mutant("row_norms", description="Gamma~ built from row norms, not column norms", objective=_row_norm_objective)
expected_loss.mutant(
    "squared_norms", description="Gamma~ with squared column norms on the diagonal", objective=_squared_norm_diagonal_objective
)


# --- dropout.expected_gradient: autodiff over all masks ----------------------------------------

_PADDED_SHAPE = (4, 3)  # every shape with n <= 4, d <= 3 pads to this, so XLA compiles once
_PADDED_MASKS = 2**MAX_ENUMERATED_ENTRIES


def _mask_loss(w: jax.Array, mask: jax.Array, X: jax.Array, y: jax.Array) -> jax.Array:
    residual = y - (mask * X) @ w
    return residual @ residual


@jax.jit
def _expected_mask_gradient(w: jax.Array, masks: jax.Array, weights: jax.Array, X: jax.Array, y: jax.Array) -> jax.Array:
    gradients = jax.vmap(jax.grad(_mask_loss), in_axes=(None, 0, None, None))(w, masks, X, y)
    return weights @ gradients


def _padded_gradient_inputs(problem: DropoutProblem) -> tuple[np.ndarray, ...]:
    rows, cols = problem.shape
    masks = enumerate_masks((rows, cols))
    padded_masks = np.zeros((_PADDED_MASKS, *_PADDED_SHAPE))
    padded_masks[: len(masks), :rows, :cols] = masks
    kept = masks.reshape(len(masks), -1).sum(axis=1)
    weights = np.zeros(_PADDED_MASKS)
    weights[: len(masks)] = problem.p**kept * (1.0 - problem.p) ** (rows * cols - kept)
    X = np.zeros(_PADDED_SHAPE)
    X[:rows, :cols] = problem.X
    y = np.zeros(_PADDED_SHAPE[0])
    y[:rows] = problem.y
    w = np.zeros(_PADDED_SHAPE[1])
    w[:cols] = problem.w
    return w, padded_masks, weights, X, y


@claim(
    "dropout.expected_gradient",
    title="Dropout SGD steps are unbiased for the regularized objective",
    statement=r"E_R\nabla_w\|y-(R\odot X)w\|^2=\nabla_w\big(\|y-pXw\|^2+p(1-p)\|\tilde\Gamma w\|^2\big)",
    source=SOURCE,
    strategy=dropout_problems(max_entries=MAX_ENUMERATED_ENTRIES),
    evidence="numerical",
    notes=(
        "Both gradients come from jax.grad: the left side is the probability-weighted sum of "
        "the per-mask gradients over all 2^(n d) masks (n d <= 12), the right side the gradient "
        "of the objective under test. Tolerance: gamma_K times 3 |X|^T(|y| + |X||w|), with K = "
        "2^(n d) + 3 n d + 2 d + 12 rounded operations per entry (mask weights, per-mask "
        "gradient, sum over masks)."
    ),
)
def expected_gradient(problem: DropoutProblem, *, objective: Callable[..., Any] = dropout_objective) -> None:
    validate_dropout_problem(problem.X, problem.y, problem.w, problem.p)
    rows, cols = problem.shape

    padded = _padded_gradient_inputs(problem)
    enumerated = np.asarray(_expected_mask_gradient(*(jnp.asarray(a) for a in padded)))[:cols]
    X, y, w = (jnp.asarray(a) for a in (problem.X, problem.y, problem.w))
    closed_form = np.asarray(jax.grad(lambda v: objective(X, y, v, problem.p))(w))

    magnitude = np.abs(problem.X).T @ (np.abs(problem.y) + np.abs(problem.X) @ np.abs(problem.w))
    operations = 2 ** (rows * cols) + 3 * rows * cols + 2 * cols + 12
    bound = error_model.rounded(3.0 * 2.0 * magnitude, operations, label="3 |2 X^T(|y| + |X||w|)|")
    note(f"E[grad] over masks = {enumerated}, grad of closed form = {closed_form}")
    assert_close(enumerated, closed_form, bound, what="expected per-mask gradient and gradient of the objective")


expected_gradient.mutant("p_squared", description="penalty p^2 in place of p(1-p)", objective=_p_squared_objective)
expected_gradient.mutant("row_norms", description="Gamma~ built from row norms", objective=_row_norm_objective)


# --- dropout.rescaled_weights_solve_tikhonov: exact -------------------------------------------


def _dropout_weights_to_tikhonov(w_tilde: Any, p: Any) -> Any:
    return p * w_tilde


def _tikhonov_scale_squared(p: Any) -> Any:
    """Return (1 - p) / p = (Gamma_jj / Gamma~_jj)^2."""
    return (1 - p) / p


def _evaluate(formula: Callable[..., Any], *arguments: Any, name: str) -> Any:
    try:
        return formula(*arguments)
    except ZeroDivisionError:
        assert_that(False, f"{name} divides by zero at {arguments!r}, where the claim is defined")


@claim(
    "dropout.rescaled_weights_solve_tikhonov",
    title="Scaling dropout weights by p solves the Tikhonov problem with Gamma = sqrt((1-p)/p) Gamma~",
    statement=(
        r"w=p\tilde w,\ \Gamma=\sqrt{(1-p)/p}\,\tilde\Gamma:\ L_4(\tilde w)=\|y-Xw\|^2+\|\Gamma w\|^2"
        r"\ \text{and}\ p\,\arg\min L_4=\arg\min\big(\|y-Xw\|^2+\|\Gamma w\|^2\big)"
    ),
    source=TIKHONOV_SOURCE,
    strategy=dropout_problems(max_entries=MAX_ENUMERATED_ENTRIES),
    evidence="exact",
    notes=(
        "Rational arithmetic throughout: Gamma^2 = ((1-p)/p) diag(||f_j||^2) is rational. The "
        "minimizer of (4) solves p^2 X^T X + p(1-p) Gamma~^2 = p X^T y (one solution, free "
        "variables 0 when singular), and the check verifies that p times it satisfies the normal "
        "equations of (3), which characterize its minimizers because (3) is a convex quadratic."
    ),
)
def rescaled_weights_solve_tikhonov(
    problem: DropoutProblem,
    *,
    weights_map: Callable[..., Any] = _dropout_weights_to_tikhonov,
    scale_squared: Callable[..., Any] = _tikhonov_scale_squared,
) -> None:
    validate_dropout_problem(problem.X, problem.y, problem.w, problem.p)
    X, y, w_tilde, p = problem.fractions()
    squares = column_norms_squared(X)
    scale = _evaluate(scale_squared, p, name="the squared Gamma scale")
    w = _evaluate(weights_map, w_tilde, p, name="the weight map")

    dropout_value = dropout_objective(X, y, w_tilde, p)
    tikhonov_value = _squared_norm(y - X @ w) + scale * (squares * w * w).sum()
    assert_equal(tikhonov_value, dropout_value, what="Tikhonov objective at w and dropout objective at w~")

    gram = X.T @ X
    dropout_minimizer = solve_rational(p * p * gram + p * (1 - p) * np.diag(squares), p * (X.T @ y))
    mapped = _evaluate(weights_map, dropout_minimizer, p, name="the weight map")
    residual = (gram + scale * np.diag(squares)) @ mapped - X.T @ y
    note(f"dropout minimizer {dropout_minimizer.tolist()}, mapped {mapped.tolist()}")
    assert_equal(residual.tolist(), [Fraction(0)] * len(residual), what="normal-equation residual of (3) at p w~*")


rescaled_weights_solve_tikhonov.mutant(
    "divide_by_p", description="w = w~ / p in place of p w~", weights_map=lambda w_tilde, p: w_tilde / p
)
rescaled_weights_solve_tikhonov.mutant(
    "inverted_gamma_scale",
    description="Gamma = sqrt(p/(1-p)) Gamma~ in place of sqrt((1-p)/p) Gamma~",
    scale_squared=lambda p: p / (1 - p),
)


# --- dropout.gamma_scale_table (erratum) and dropout.gamma_scale_factor ------------------------

# The document's table of sqrt((1-p)/p), as printed.
PRINTED_TABLE = (("0.9", "0.33"), ("0.5", "1"), ("0.1", "3.16"), ("0.01", "10"), ("0.001", "31.6"))
CORRECTED_TABLE = (("0.9", "0.33"), ("0.5", "1"), ("0.1", "3"), ("0.01", "10"), ("0.001", "31.6"))


def _exact_scale(p_text: str) -> Decimal:
    with localcontext() as context:
        context.prec = 40
        p = Decimal(p_text)
        return ((1 - p) / p).sqrt()


def _round_as_printed(value: Decimal, printed: str) -> Decimal:
    """Round ``value`` at the place of the printed number's last significant digit: its last
    decimal if it has a point, else its last nonzero digit ("10" is 1e1, "31.6" is 0.1)."""
    if "." in printed:
        place = Decimal(1).scaleb(-len(printed.split(".")[1]))
    else:
        place = Decimal(1).scaleb(len(printed) - len(printed.rstrip("0")))
    return (value / place).quantize(Decimal(1), rounding=ROUND_HALF_EVEN) * place


def _check_table_row(row: tuple[str, str], exact: Decimal) -> None:
    p_text, printed = row
    rounded = _round_as_printed(exact, printed)
    note(f"p = {p_text}: sqrt((1-p)/p) = {exact:.6f}, rounded as printed: {rounded}, printed: {printed}")
    record_details(**{f"scale_at_p_{p_text}": float(exact)})
    assert_equal(rounded.normalize(), Decimal(printed).normalize(), what=f"sqrt((1-p)/p) at p = {p_text} and the printed {printed}")


@claim(
    "dropout.gamma_scale_table",
    title="The document's table of sqrt((1-p)/p) at p = 0.9, 0.5, 0.1, 0.01, 0.001",
    statement=r"\sqrt{(1-p)/p}=0.33,\ 1,\ 3.16,\ 10,\ 31.6\ \text{at}\ p=0.9,0.5,0.1,0.01,0.001",
    source=TIKHONOV_SOURCE,
    strategy=st.sampled_from(PRINTED_TABLE),
    evidence="exact",
    expected="refuted",
    corrected_by="dropout.gamma_scale_factor",
    notes=(
        "Matching rule: the exact value, rounded half-even at the place of the printed number's "
        "last significant digit (trailing zeros of an integer are not significant), must equal "
        "the printed number. So p = 0.01 gives 9.9499 and '10' matches at the tens place. At "
        "p = 0.1 the value is sqrt(9) = 3 exactly; the printed 3.16 is 1/sqrt(p), the small-p "
        "approximation."
    ),
)
def gamma_scale_table(row: tuple[str, str]) -> None:
    _check_table_row(row, _exact_scale(row[0]))


@st.composite
def _scale_factor_inputs(draw: st.DrawFn) -> tuple[tuple[str, str], float, float]:
    row = draw(st.sampled_from(CORRECTED_TABLE), label="table row")
    first = draw(keep_probabilities(), label="p1")
    second = draw(keep_probabilities(), label="p2")
    return row, min(first, second), max(first, second)


@claim(
    "dropout.gamma_scale_factor",
    title="sqrt((1-p)/p) decreases in p, is 0 at p = 1, grows like p^(-1/2) as p -> 0, and its table",
    statement=(
        r"s(p)=\sqrt{(1-p)/p}:\ s\downarrow,\ s(1)=0,\ \sqrt{p}\,s(p)=\sqrt{1-p}\to1;\ "
        r"s=0.33,1,3,10,31.6\ \text{at}\ p=0.9,0.5,0.1,0.01,0.001"
    ),
    source=TIKHONOV_SOURCE,
    strategy=_scale_factor_inputs(),
    evidence="numerical",
    notes=(
        "Corrects dropout.gamma_scale_table: 3 in place of 3.16 at p = 0.1, same matching rule. "
        "The factor is evaluated in float64; sqrt(p) s(p) = sqrt(1 - p) is compared within "
        "gamma_6 sqrt(1 - p), and monotonicity is checked on pairs of dyadic p at least 2^-12 apart."
    ),
)
def gamma_scale_factor(inputs: tuple[tuple[str, str], float, float], *, scale: Callable[[float], float] = gamma_scale) -> None:
    row, smaller, larger = inputs
    _check_table_row(row, Decimal(_evaluate(scale, float(row[0]), name="the scale factor")))

    at_one = _evaluate(scale, 1.0, name="the scale factor")
    assert_equal(at_one, 0.0, what="the scale factor at p = 1")
    low_value = _evaluate(scale, smaller, name="the scale factor")
    high_value = _evaluate(scale, larger, name="the scale factor")
    assert_that(
        low_value >= high_value,
        f"the scale factor increases from p = {smaller!r} ({low_value!r}) to p = {larger!r} ({high_value!r})",
    )
    product = math.sqrt(smaller) * low_value
    assert_close(product, math.sqrt(1.0 - smaller), error_model.rounded(math.sqrt(1.0 - smaller), 6, label="sqrt(1-p)"), what="sqrt(p) times the scale factor")


gamma_scale_factor.mutant(
    "inverted", description="sqrt(p/(1-p)) in place of sqrt((1-p)/p)", scale=lambda p: math.sqrt(p / (1.0 - p))
)


# --- Monte Carlo sampling of per-mask losses ---------------------------------------------------

_SAMPLE_CHUNK = 4096
_CERTIFIED_SHAPE = (10, 5)  # every Monte Carlo problem pads to this, so XLA compiles once


@functools.partial(jax.jit, static_argnames=("count",))
def _masked_losses(key: jax.Array, a: jax.Array, y: jax.Array, p: jax.Array, count: int) -> jax.Array:
    keep = jax.random.bernoulli(key, p, (count, *a.shape))
    residual = y - jnp.sum(jnp.where(keep, a, 0.0), axis=-1)
    return jnp.sum(residual * residual, axis=-1)


def sample_dropout_losses(kept_terms: np.ndarray, y: np.ndarray, p: float, samples: int, seed: int) -> np.ndarray:
    """Return at least ``samples`` draws of sum_i (y_i - sum_j R_ij a_ij)^2 with R_ij i.i.d.
    Bernoulli(p), where a = ``kept_terms`` (at most 10 x 5), in chunks of 4096.

    jax.random.bernoulli compares a uniform float64 on a 2^-52 grid with p, so for a dyadic p
    with at most 52 fraction bits each mask entry is kept with probability exactly p.

    Raises:
        ValueError: p outside (0, 1]; samples not an integer >= 1; seed not an integer;
            kept_terms not a finite 2-D array of at most 10 x 5; or y not finite of length n.
    """
    _validate_keep_probability(p)
    if isinstance(samples, (bool, np.bool_)) or not isinstance(samples, (int, np.integer)) or samples < 1:
        raise ValueError(f"samples={samples!r} is invalid: it must be an integer >= 1")
    if isinstance(seed, (bool, np.bool_)) or not isinstance(seed, (int, np.integer)):
        raise ValueError(f"seed={seed!r} is invalid: it must be an integer")
    kept_terms = np.asarray(kept_terms, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    _validate_kept_terms(kept_terms, y)
    rows, cols = kept_terms.shape
    if rows > _CERTIFIED_SHAPE[0] or cols > _CERTIFIED_SHAPE[1]:
        raise ValueError(
            f"kept_terms has shape {kept_terms.shape!r}; the maximum shape is "
            f"{_CERTIFIED_SHAPE[0]} x {_CERTIFIED_SHAPE[1]}"
        )
    for name, array in (("kept_terms", kept_terms), ("y", y)):
        if not np.all(np.isfinite(array)):
            raise ValueError(f"{name}={array!r} is invalid: every entry must be finite (no NaN or infinity)")
    a = np.zeros(_CERTIFIED_SHAPE)
    a[:rows, :cols] = kept_terms
    targets = np.zeros(_CERTIFIED_SHAPE[0])
    targets[:rows] = y
    key = jax.random.PRNGKey(seed)
    chunks = []
    for index in range(-(-samples // _SAMPLE_CHUNK)):
        chunk_key = jax.random.fold_in(key, index)
        chunks.append(np.asarray(_masked_losses(chunk_key, jnp.asarray(a), jnp.asarray(targets), jnp.asarray(p), count=_SAMPLE_CHUNK)))
    return np.concatenate(chunks)


def dropout_loss_variance(kept_terms: np.ndarray, y: np.ndarray, p: Fraction) -> Fraction:
    """Return Var_R sum_i (y_i - sum_j R_ij a_ij)^2 exactly, for ``Fraction`` arrays.

    Rows are independent, so the variance is a sum over rows. In a row, Z = m + U with mean
    m = y - p sum_j a_j and U = -sum_j a_j (R_j - p); the central moments of R_j - p are
    mu2 = pq, mu3 = pq(q - p), mu4 = pq(1 - 3pq) with q = 1 - p, and
    Var(Z^2) = 4 m^2 E[U^2] + 4 m E[U^3] + E[U^4] - E[U^2]^2.

    Raises:
        ValueError: p outside (0, 1], kept_terms not 2-D, or y not of length n.
    """
    _validate_keep_probability(p)
    _validate_kept_terms(kept_terms, y)
    q = 1 - p
    mu2, mu3, mu4 = p * q, p * q * (q - p), p * q * (1 - 3 * p * q)
    total = Fraction(0)
    for row, target in zip(kept_terms.tolist(), y.tolist()):
        mean = target - p * sum(row, start=Fraction(0))
        second = mu2 * sum((a * a for a in row), start=Fraction(0))
        third = -mu3 * sum((a**3 for a in row), start=Fraction(0))
        fourth = (mu4 - 3 * mu2 * mu2) * sum((a**4 for a in row), start=Fraction(0)) + 3 * second * second
        total += 4 * mean * mean * second + 4 * mean * third + fourth - second * second
    return total


def loss_range(kept_terms: np.ndarray, y: np.ndarray) -> tuple[Fraction, Fraction]:
    """Return (low, high) with low <= sum_i (y_i - sum_j R_ij a_ij)^2 <= high for every 0/1
    mask R. Per row the kept sum lies in [sum of negative a_ij, sum of positive a_ij], and both
    ends are attained, so ``high`` is the maximum; ``low`` may lie below the minimum because
    the kept sum takes only finitely many values in that interval.

    Raises:
        ValueError: kept_terms is not 2-D, or y is not of length n.
    """
    _validate_kept_terms(kept_terms, y)
    low, high = Fraction(0), Fraction(0)
    for row, target in zip(kept_terms.tolist(), y.tolist()):
        least = sum((a for a in row if a < 0), start=Fraction(0))
        greatest = sum((a for a in row if a > 0), start=Fraction(0))
        far = max(abs(target - least), abs(target - greatest))
        near = Fraction(0) if least <= target <= greatest else min(abs(target - least), abs(target - greatest))
        low += near * near
        high += far * far
    return low, high


def _float_below(value: Fraction) -> float:
    number = float(value)
    return number if Fraction(number) <= value else math.nextafter(number, -math.inf)


def _float_above(value: Fraction) -> float:
    number = float(value)
    return number if Fraction(number) >= value else math.nextafter(number, math.inf)


# --- dropout.inverted_dropout_is_ridge: certified Monte Carlo -----------------------------------

# The certified test detects an error of a quarter of the penalty term.
DETECTED_FRACTION_OF_PENALTY = 0.25


def _certified_problems() -> st.SearchStrategy[DropoutProblem]:
    rows, cols = _CERTIFIED_SHAPE
    # Targets of ordinary size: a residual 2^60 times the penalty would need about 2^120 samples.
    return dropout_problems(max_rows=rows, max_cols=cols, exact_only=True, large_targets=False)


def _certify_mean_loss(
    problem: DropoutProblem, kept_terms: np.ndarray, expected: Fraction, penalty: Fraction, *, what: str
) -> None:
    """Certify E_R sum_i (y_i - sum_j R_ij a_ij)^2 = ``expected`` with a = ``kept_terms``.

    The Bernstein test uses the loss's exact range and variance over all masks and detects an
    error of a quarter of ``penalty`` (the regularization term the claim is about).
    """
    rows, cols = problem.shape
    y = problem.fractions()[1]
    low, high = loss_range(kept_terms, y)
    variance = dropout_loss_variance(kept_terms, y, Fraction(problem.p))
    design = design_mean_test(
        float(DETECTED_FRACTION_OF_PENALTY * penalty),
        low=_float_below(low),
        high=_float_above(high),
        variance_bound=_float_above(variance),
    )

    seed = default_seed()
    a = np.asarray([[float(v) for v in row] for row in kept_terms.tolist()])
    samples = sample_dropout_losses(a, problem.y, problem.p, design.samples, seed)
    # Each sample sums rows * cols rounded terms and squares them; the expected value is one
    # rounding of an exact rational.
    magnitude = sum((abs(t) + sum(abs(v) for v in row)) ** 2 for row, t in zip(kept_terms.tolist(), y.tolist()))
    rounding = error_model.gamma(rows + cols + 4, np.float64) * float(magnitude) + abs(float(expected)) * 2.0**-52
    note(f"expected {float(expected)!r}, range [{float(low)!r}, {float(high)!r}], variance {float(variance)!r}, {design}")
    assert_true_mean_equal(samples, float(expected), design, seed=seed, rounding=rounding, what=what)


@claim(
    "dropout.inverted_dropout_is_ridge",
    title="Inverted dropout (kept entries scaled by 1/p) has the Tikhonov objective as expected loss",
    statement=r"E_R\|y-(R\odot X/p)w\|^2=\|y-Xw\|^2+\frac{1-p}{p}\|\tilde\Gamma w\|^2",
    source=SOURCE,
    strategy=_certified_problems(),
    evidence="certified",
    notes=(
        "Certified Monte Carlo on shapes up to 10 x 5: masks from jax.random, a two-sided "
        "Bernstein interval at false alarm rate alpha = 1e-9 per example with the exact variance "
        "of the per-mask loss (closed form over rational inputs) and its exact range over all "
        "masks. The sample count detects an error of a quarter of the penalty term with false "
        "pass rate 1e-3, capped at 65536 samples (details: capped_count counts the examples that "
        "needed more, e.g. tiny p). Seed: THEOREMS_SEED, logged as seed."
    ),
)
def inverted_dropout_is_ridge(problem: DropoutProblem, *, objective: Callable[..., Any] = inverted_dropout_objective) -> None:
    validate_dropout_problem(problem.X, problem.y, problem.w, problem.p)
    X, y, w, p = problem.fractions()

    expected = objective(X, y, w, p)
    penalty = (1 - p) / p * (column_norms_squared(X) * w * w).sum()
    _certify_mean_loss(problem, X * w / p, expected, penalty, what="mean inverted-dropout loss")


def _inverted_with_dropout_factor(X: Any, y: Any, w: Any, p: Any) -> Any:
    return _squared_norm(y - X @ w) + p * (1 - p) * _weighted_penalty(column_norms_squared(X), w)


def _inverted_with_squared_norms(X: Any, y: Any, w: Any, p: Any) -> Any:
    squares = column_norms_squared(X)
    return _squared_norm(y - X @ w) + (1 - p) / p * _weighted_penalty(squares * squares, w)


inverted_dropout_is_ridge.mutant(
    "dropout_factor", description="penalty factor p(1-p) of plain dropout in place of (1-p)/p", objective=_inverted_with_dropout_factor
)
inverted_dropout_is_ridge.mutant(
    "squared_norms", description="Gamma~ with squared column norms on the diagonal", objective=_inverted_with_squared_norms
)
