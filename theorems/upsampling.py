r"""Upsampling by convolution and transpose convolution.

The claims follow the convolution arithmetic of Dumoulin and Visin, "A guide to convolution
arithmetic for deep learning" (arXiv:1603.07285, 2016). For x in R^n let

.. math:: k = [\tfrac12, 1, \tfrac12], \qquad
          y = [x_1, \tfrac{x_1+x_2}{2}, x_2, \dots, \tfrac{x_{n-1}+x_n}{2}, x_n] \in R^{2n-1}.

- Inserting one zero between samples and cross-correlating with k (stride 1, zero padding 1)
  gives y, for every n >= 1, and k is the only length-3 kernel that does so (n >= 2).
- The transpose convolution of x with k, stride 2 and padding 1 gives y.
- The transpose convolution with stride s, padding p and output padding op has length
  n' = s(n-1) + K - 2p + op. It equals inserting s - 1 zeros, padding K-1-p zeros on the left
  and K-1-p+op on the right, and cross-correlating with the flipped kernel. It is the adjoint of
  the strided cross-correlation: <conv(u), v> = <u, convT(v)>.
- The triangle kernel 1 - |j|/s (length 2s - 1) with stride s and padding s - 1 inserts s - 1
  linearly interpolated points between samples, and its outer product interpolates bilinearly.
- A constant signal maps to a constant interior iff the kernel's s phase sums are equal.

*Convolution* means cross-correlation throughout. The transpose convolution is defined once, by
scatter-add without a kernel flip, in :func:`transpose_conv` (module ``theorems._convolution``).

Library conventions (jax 0.10.2, one channel, kernel k of size K, flip(k) = k reversed)::

    call                                                        textbook parameters
    lax.conv_transpose(x, k, (s,), [(K-1-p, K-1-p+op)],
                       transpose_kernel=True)                   stride s, padding p, op
    lax.conv_transpose(x, flip(k), (s,), [(K-1-p, K-1-p+op)])   stride s, padding p, op
    lax.conv_transpose(x, k, (s,), [(p, p-op)], transpose_kernel=True,
                       use_consistent_padding=True)             stride s, padding p, op
    lax.conv_general_dilated(x, flip(k), (1,), [(K-1-p, K-1-p+op)],
                             lhs_dilation=(s,))                 stride s, padding p, op
    lax.conv_transpose(x, k, (s,), 'VALID', transpose_kernel=True)
                                                                p = 0, op = max(s-K, 0)
    lax.conv_transpose(x, k, (s,), 'SAME', transpose_kernel=True)
        length s n. For K <= s, p = 0 and op = s - K. For K > s with K - s even,
        p = (K-s)/2 and op = 0. For K - s odd it crops floor((K-s)/2) entries on the left and
        ceil((K-s)/2) on the right, which no textbook (p, op) expresses.

By default ``lax.conv_transpose`` neither flips the kernel nor reads integer padding as the
textbook p: it pads the zero-inserted signal. Passing the textbook p = 1 as ``[(1, 1)]`` with
n = 3, K = 4, s = 2 returns length 4, not the textbook n' = 6. With 'VALID', x = [1, 2, 4],
k = [1/2, 1, 1/2] and s = 2 it returns [0.5, 1, 1.5, 2, 3, 4, 2], the textbook transpose
convolution with p = 0 and op = 0 (n' = s(n-1) + K = 7). PyTorch's
``torch.nn.functional.conv_transpose1d(x, k, stride=s, padding=p, output_padding=op)`` takes the
textbook parameters directly, with the same scatter-add and no flip (weight shape
(in_channels, out_channels, K)). torch 2.13 rejects p < 0 and op >= max(s, dilation).
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import sympy
from hypothesis import note
from hypothesis import strategies as st
from jax import lax

from strategies.convolution import (
    AdjointPair,
    TransposeConvolution,
    TransposeShape,
    adjoint_pairs,
    kernels,
    output_paddings,
    paddings,
    phase_balanced_kernels,
    signals,
    strides,
    transpose_convolutions,
    transpose_shapes,
)
from strategies.linalg import scaled_arrays
from strategies.numbers import dyadics
from theorems import Source, assert_close, assert_equal, assert_that, claim, record_details
from theorems._convolution import (
    conv,
    correlate_valid,
    crop_window,
    dilated_conv_form,
    forward_output_length,
    full_scatter,
    insert_zeros,
    interpolation_neighbour_magnitudes,
    jax_consistent_padding,
    jax_conv_transpose,
    jax_lhs_dilated_conv,
    jax_string_padding_crops,
    jax_transpose_padding,
    linear_interpolation_exact,
    linear_transpose_of_conv,
    midpoint_interpolation,
    pad_or_crop,
    phase_sums,
    textbook_parameters,
    transpose_conv,
    transpose_output_length,
    triangle_kernel,
)
from theorems.error_model import Bound, exact, rounded

__all__ = [
    "INTERPOLATION_KERNEL",
    "conv",
    "dilated_conv_form",
    "forward_output_length",
    "insert_zeros",
    "midpoint_interpolation",
    "phase_sums",
    "transpose_conv",
    "transpose_output_length",
    "triangle_kernel",
]

INTERPOLATION_KERNEL = np.array([0.5, 1.0, 0.5])
INTERPOLATION_KERNEL.setflags(write=False)
_QUARTER_KERNEL = np.array([0.25, 0.5, 0.25])

_REFERENCE = (
    "Dumoulin and Visin 2016, 'A guide to convolution arithmetic for deep learning', "
    "arXiv:1603.07285"
)
_ZERO_INSERTION = Source("2(a), upsampling by zero insertion and convolution", _REFERENCE)
_TRANSPOSE = Source("2(b), upsampling by transpose convolution", _REFERENCE)

_DOCUMENT_SIGNAL = np.array([1.0, 2.0, 4.0])


# Zero insertion, then convolution.


@claim(
    "upsampling.zero_insertion_then_conv",
    title="Zero insertion then the kernel [1/2, 1, 1/2] interpolates linearly",
    statement=r"\operatorname{conv}_{s=1,p=1}([x_1, 0, x_2, 0, \dots, x_n], [\tfrac12, 1, "
    r"\tfrac12]) = [x_1, \tfrac{x_1+x_2}{2}, x_2, \dots, x_n] \quad \forall n \ge 1",
    source=_ZERO_INSERTION,
    strategy=signals(exact_only=True),
    evidence="exact",
    examples=(_DOCUMENT_SIGNAL, np.array([3.0])),
    notes="Entry by entry, with k = [k1, k2, k3] and zero-inserted input [x1, 0, x2, 0, ...]: "
    "y1 = k2 x1 (the left zero pad times k1 adds nothing), y2 = k1 x1 + k2 * 0 + k3 x2 = "
    "k1 x1 + k3 x2, y3 = k2 x2, and so on. Dyadic inputs make every product and sum exact, so "
    "the two sides agree bit for bit. n = 1 gives y = [x1].",
)
def zero_insertion_then_conv(
    x: np.ndarray, *, kernel: np.ndarray = INTERPOLATION_KERNEL, padding: int = 1
) -> None:
    upsampled = insert_zeros(x, 1)
    note(f"zero-inserted signal: {upsampled.tolist()}")

    output = np.asarray(conv(upsampled, kernel, stride=1, padding=padding))
    note(f"convolution output: {output.tolist()}")

    assert_close(output, midpoint_interpolation(x), exact(), what="convolution and interpolation")


zero_insertion_then_conv.mutant(
    "quarter_kernel",
    description="kernel [1/4, 1/2, 1/4], which halves every output",
    kernel=_QUARTER_KERNEL,
)


@dataclass(frozen=True)
class KernelCandidate:
    """A signal length n and a length-3 kernel to test against the interpolation equations."""

    length: int
    kernel: np.ndarray


@functools.lru_cache(maxsize=None)
def _interpolation_equations(length: int) -> tuple[sympy.Matrix, sympy.Matrix]:
    """Return (A, b) such that kernel c reproduces y for every x in R^n iff A c = b.

    The output is linear in x, so it suffices that c works on the n basis signals e_i. Block i
    of A maps c to the zero-insertion convolution of e_i, and block i of b interpolates e_i.
    """
    rows, targets = [], []
    for i in range(length):
        basis = np.eye(length)[i]
        upsampled = insert_zeros(basis, 1)
        columns = [np.asarray(conv(upsampled, np.eye(3)[j], 1, 1)) for j in range(3)]
        rows.extend(np.stack(columns, axis=1).tolist())
        targets.extend(midpoint_interpolation(basis).tolist())
    matrix = sympy.Matrix([[sympy.Rational(v) for v in row] for row in rows])
    return matrix, sympy.Matrix([sympy.Rational(v) for v in targets])


def _rational_vector(values: np.ndarray) -> sympy.Matrix:
    # sympy.Rational of a float is exact: every binary float is a rational number.
    return sympy.Matrix([sympy.Rational(float(v)) for v in values])


@st.composite
def _kernel_candidates(draw: st.DrawFn) -> KernelCandidate:
    length = draw(st.integers(2, 6), label="length")
    perturbed = st.builds(
        lambda delta, tap: INTERPOLATION_KERNEL + delta * np.eye(3)[tap],
        dyadics().filter(lambda v: v != 0),
        st.integers(0, 2),
    )
    kernel = draw(
        st.one_of(kernels(3, 3, exact_only=True), st.just(INTERPOLATION_KERNEL), perturbed),
        label="candidate kernel",
    )
    return KernelCandidate(length, kernel)


@claim(
    "upsampling.interpolation_kernel_unique",
    title="[1/2, 1, 1/2] is the only length-3 kernel that interpolates after zero insertion",
    statement=r"\forall c \in R^3:\ \big(\forall x \in R^n:\ \operatorname{conv}_{s=1,p=1}"
    r"(\tilde x, c) = y\big) \iff c = [\tfrac12, 1, \tfrac12] \quad (n \ge 2)",
    source=_ZERO_INSERTION,
    strategy=_kernel_candidates(),
    evidence="exact",
    notes="The output is linear in x and in c, so 'for all x' reduces to the n basis signals: "
    "a linear system A c = b with 3 unknowns, solved in exact rational arithmetic (SymPy). "
    "A has full column rank for n >= 2. For n = 1 only the middle tap is determined (y = "
    "[k2 x1]), so the kernel is not unique there.",
)
def interpolation_kernel_unique(
    candidate: KernelCandidate, *, kernel: np.ndarray = INTERPOLATION_KERNEL
) -> None:
    matrix, target = _interpolation_equations(candidate.length)
    gram = matrix.T * matrix
    note(f"A^T A = {gram.tolist()}")

    assert_that(gram.det() != 0, f"the equations for n = {candidate.length} do not fix the kernel")
    solution = gram.LUsolve(matrix.T * target)
    note(f"unique solution: {list(solution)}")
    assert_equal(matrix * solution, target, what="A c and b at the least-squares solution")
    assert_equal(solution, _rational_vector(kernel), what="unique solution and stated kernel")

    drawn = _rational_vector(candidate.kernel)
    reproduces = matrix * drawn == target
    assert_that(
        reproduces == (drawn == solution),
        f"candidate {candidate.kernel.tolist()} reproduces y: {reproduces}, equals the solution "
        f"{list(solution)}: {drawn == solution}",
    )


interpolation_kernel_unique.mutant(
    "quarter_kernel",
    description="states [1/4, 1/2, 1/4] as the unique kernel",
    kernel=_QUARTER_KERNEL,
)


@claim(
    "upsampling.stated_equation_typo",
    title="As printed, the equation for y2 reads k1 x1 + k3 x3 = (x1 + x2)/2, which is false",
    statement=r"k_1 x_1 + k_3 x_3 = \tfrac{x_1 + x_2}{2} \quad \text{for } k = [\tfrac12, 1, "
    r"\tfrac12]",
    source=_ZERO_INSERTION,
    strategy=signals(3, exact_only=True),
    evidence="exact",
    expected="refuted",
    corrected_by="upsampling.zero_insertion_then_conv",
    notes="The second entry of the convolution of [x1, 0, x2, 0, x3] is k1 x1 + k2 * 0 + k3 x2, "
    "so the printed x3 should read x2. Any signal with x2 != x3 refutes the printed equation.",
)
def stated_equation_typo(x: np.ndarray, *, kernel: np.ndarray = INTERPOLATION_KERNEL) -> None:
    printed = kernel[0] * x[0] + kernel[2] * x[2]
    second_output = np.asarray(conv(insert_zeros(x, 1), kernel, 1, 1))[1]
    note(f"k1 x1 + k3 x3 = {float(printed)!r}; convolution output y2 = {float(second_output)!r}")

    assert_close(printed, (x[0] + x[1]) / 2, exact(), what="k1 x1 + k3 x3 and (x1 + x2)/2")


# Transpose convolution.


@claim(
    "upsampling.transpose_conv_interpolates",
    title="Transpose convolution with [1/2, 1, 1/2], stride 2, padding 1 interpolates linearly",
    statement=r"\operatorname{convT}_{s=2,p=1}(x, [\tfrac12, 1, \tfrac12]) = [x_1, "
    r"\tfrac{x_1+x_2}{2}, x_2, \dots, x_n] \quad \forall n \ge 1",
    source=_TRANSPOSE,
    strategy=signals(exact_only=True),
    evidence="exact",
    examples=(_DOCUMENT_SIGNAL, np.array([3.0])),
    notes="The output length is 2(n-1) + 3 - 2 = 2n - 1. Inputs are dyadic, so the comparison "
    "is bit-exact.",
)
def transpose_conv_interpolates(
    x: np.ndarray,
    *,
    kernel: np.ndarray = INTERPOLATION_KERNEL,
    stride: int = 2,
    padding: int = 1,
) -> None:
    output = transpose_conv(x, kernel, stride, padding)
    note(f"transpose convolution: {output.tolist()}")

    expected = midpoint_interpolation(x)
    assert_close(output, expected, exact(), what="transpose convolution and interpolation")


transpose_conv_interpolates.mutant(
    "quarter_kernel",
    description="kernel [1/4, 1/2, 1/4], which halves every output",
    kernel=_QUARTER_KERNEL,
)
transpose_conv_interpolates.mutant(
    "padding_zero",
    description="padding 0 instead of 1, which keeps a half-weight entry at each end",
    padding=0,
)


def transpose_length_formula(
    length: int, kernel_size: int, stride: int, padding: int, output_padding: int
) -> int:
    """Return s(n-1) + K - 2p + op without validation: the formula under test."""
    return stride * (length - 1) + kernel_size - 2 * padding + output_padding


def _first_invalid_parameter(shape: TransposeShape) -> tuple[str, int] | None:
    """Return (name, value) of the first rule that ``shape`` breaks, in validation order."""
    if shape.stride < 1:
        return "stride", shape.stride
    if shape.padding < 0:
        return "padding", shape.padding
    if not 0 <= shape.output_padding < shape.stride:
        return "output_padding", shape.output_padding
    size = transpose_length_formula(
        shape.length, shape.kernel_size, shape.stride, shape.padding, shape.output_padding
    )
    if size < 1:
        return "padding", shape.padding
    return None


def _raised_error(function: Callable[[], object]) -> Exception | None:
    try:
        function()
    except Exception as error:  # noqa: BLE001 - the check reports any type it gets
        return error
    return None


@claim(
    "upsampling.output_length",
    title="Transpose convolution output length is s(n-1) + K - 2p + op, and invalid inputs raise",
    statement=r"n' = s(n-1) + K - 2p + op \text{ for } n, K, s \ge 1,\ p \ge 0,\ 0 \le op < s,"
    r"\ n' \ge 1",
    source=_TRANSPOSE,
    strategy=transpose_shapes(allow_invalid=True),
    evidence="exact",
    examples=(TransposeShape(3, 3, 2, 1, 0), TransposeShape(3, 4, 2, 1, 0)),
    notes="Checked three ways: the length of the scatter-add definition (full length s(n-1)+K "
    "minus p cropped on the left and p - op on the right), the shape returned by "
    "jax.lax.conv_transpose with the padding [(K-1-p, K-1-p+op)], and the forward relation: a "
    "stride-s cross-correlation with padding p maps length n' back to length n, with op the "
    "remainder (n' + 2p - K) mod s. Invalid parameters (stride < 1, p < 0, op outside [0, s), "
    "n' < 1) must raise ValueError naming the parameter and its value. PyTorch also requires "
    "op < max(s, dilation), which with dilation 1 is op < s.",
)
def output_length(
    shape: TransposeShape,
    *,
    length_formula: Callable[[int, int, int, int, int], int] = transpose_length_formula,
) -> None:
    n, k, s = shape.length, shape.kernel_size, shape.stride
    p, op = shape.padding, shape.output_padding
    invalid = _first_invalid_parameter(shape)
    note(f"first invalid parameter: {invalid}")

    if invalid is not None:
        name, value = invalid
        error = _raised_error(lambda: transpose_conv(np.ones(n), np.ones(k), s, p, op))
        assert_that(
            isinstance(error, ValueError) and f"{name}={value!r}" in str(error),
            f"transpose_conv with invalid {name}={value!r} raised {error!r}, expected a "
            f"ValueError naming {name}={value!r}",
        )
        return

    predicted = length_formula(n, k, s, p, op)
    defined = transpose_conv(np.ones(n), np.ones(k), s, p, op).shape[0]
    explicit = jax_transpose_padding(k, p, op)
    library_output = jax_conv_transpose(np.ones(n), np.ones(k), s, explicit, transpose_kernel=True)
    library = library_output.shape[0]
    note(f"formula {predicted}, definition {defined}, jax.lax.conv_transpose {library}")

    assert_equal(predicted, defined, what="formula and scatter-add definition lengths")
    assert_equal(predicted, library, what="formula and jax.lax.conv_transpose lengths")
    assert_equal(forward_output_length(predicted, k, s, p), n, what="forward length of n'")
    assert_equal((predicted + 2 * p - k) % s, op, what="remainder (n' + 2p - K) mod s and op")


output_length.mutant(
    "n_plus_one",
    description="s(n+1) + K - 2p + op, with n + 1 in place of n - 1",
    length_formula=lambda n, k, s, p, op: s * (n + 1) + k - 2 * p + op,
)


def _dilated_conv_form_unflipped(
    x: np.ndarray, kernel: np.ndarray, stride: int, padding: int, output_padding: int
) -> np.ndarray:
    left = kernel.shape[0] - 1 - padding
    padded = pad_or_crop(insert_zeros(x, stride - 1), left, left + output_padding)
    return correlate_valid(padded, np.asarray(kernel, dtype=np.float64))


@claim(
    "upsampling.transpose_equals_dilated_conv",
    title="Transpose convolution equals zero insertion, padding K-1-p, and the flipped kernel",
    statement=r"\operatorname{convT}_{s,p,op}(x, k) = \operatorname{conv}_{1,0}\big("
    r"\operatorname{pad}_{K-1-p,\,K-1-p+op}(\operatorname{dilate}_s(x)),\ \operatorname{flip}"
    r"(k)\big)",
    source=_TRANSPOSE,
    strategy=transpose_convolutions(),
    evidence="exact",
    examples=(
        TransposeConvolution(_DOCUMENT_SIGNAL, np.array([1.0, 2.0, 3.0, 4.0]), 2, 1, 1),
        TransposeConvolution(_DOCUMENT_SIGNAL, np.array([1.0, -2.0]), 3, 2, 2),
    ),
    notes="Holds for every valid (s, p, op) and every kernel, asymmetric ones included. When "
    "p > K - 1 the padding K-1-p is negative and means cropping that many entries of the "
    "zero-inserted signal, and the strategy draws such paddings. Dyadic inputs make both sides "
    "exact, whatever order they sum in.",
)
def transpose_equals_dilated_conv(
    problem: TransposeConvolution,
    *,
    dilated_form: Callable[..., np.ndarray] = dilated_conv_form,
) -> None:
    args = (problem.x, problem.kernel, problem.stride, problem.padding, problem.output_padding)
    left_padding = problem.kernel.shape[0] - 1 - problem.padding
    note(f"output length n' = {problem.output_length}, K - 1 - p = {left_padding}")

    scattered = transpose_conv(*args)
    dilated = dilated_form(*args)
    note(f"scatter-add: {scattered.tolist()}; dilated convolution: {np.asarray(dilated).tolist()}")

    assert_close(dilated, scattered, exact(), what="dilated convolution and scatter-add")


transpose_equals_dilated_conv.mutant(
    "no_kernel_flip",
    description="correlates the zero-inserted signal with the kernel as given, not flipped",
    dilated_form=_dilated_conv_form_unflipped,
)


def _transpose_flipped_kernel(
    v: np.ndarray, kernel: np.ndarray, stride: int, padding: int, output_padding: int
) -> np.ndarray:
    return transpose_conv(v, np.asarray(kernel)[::-1], stride, padding, output_padding)


def _underflow_in_adjoint_pair(pair: AdjointPair, size: int) -> Bound:
    """Underflow lost inside conv(u) or convT(v), then scaled by the other vector.

    Each entry of conv(u) and of convT(v) is a sum of at most K products, so it loses at most
    2K realmin; the inner product multiplies those losses by |v| or |u| respectively.
    """
    tiny = float(np.finfo(np.float64).tiny)
    lost = 2 * size * tiny * (np.abs(pair.v).sum() + np.abs(pair.u).sum())
    return Bound(np.asarray(lost), "2K realmin (sum |u| + sum |v|) for underflow inside conv and convT")


@claim(
    "upsampling.transpose_is_adjoint",
    title="Transpose convolution is the adjoint of strided cross-correlation",
    statement=r"\langle \operatorname{conv}_{s,p}(u, k), v \rangle = \langle u, "
    r"\operatorname{convT}_{s,p,op}(v, k) \rangle,\ op = (n' + 2p - K) \bmod s",
    source=_TRANSPOSE,
    strategy=adjoint_pairs(),
    evidence="numerical",
    examples=(
        AdjointPair(
            np.array([1.0, -1.0, 2.0, 0.5, 3.0, -2.0]),
            _DOCUMENT_SIGNAL,
            np.array([1.0, 2.0, 3.0]),
            2,
            1,
            1,
        ),
        # convT(v) = k v underflows to a subnormal, and u scales its lost digits up.
        AdjointPair(np.array([2.88230376e19]), np.array([3.9520686e-160]), np.array([3.9520686e-160]), 1, 0, 0),
    ),
    notes="u has the forward input length n' and v the forward output length n. The output "
    "padding op makes convT return length n' (for K = 3, s = 2, p = 1 an even n' needs op = 1). "
    "Also compares convT with jax.linear_transpose of the forward cross-correlation. Both "
    "inner products sum the same terms u_t k_j v_o. Each side is within gamma_N T of the exact "
    "value, where T = <conv(|u|, |k|), |v|> and N = K + max(n, n'), so the sides differ by at "
    "most 2 gamma_N T, plus underflow inside conv(u) or convT(v) scaled by |v| or |u|. Each "
    "convT entry sums at most K products, so it and the transposed JAX function differ by at "
    "most 2 gamma_K convT(|v|, |k|).",
)
def transpose_is_adjoint(
    pair: AdjointPair,
    *,
    transpose: Callable[..., np.ndarray] = transpose_conv,
) -> None:
    k, s, p, op = pair.kernel, pair.stride, pair.padding, pair.output_padding
    size = k.shape[0]
    forward = np.asarray(conv(pair.u, k, s, p))
    transposed = np.asarray(transpose(pair.v, k, s, p, op))
    note(f"conv(u) = {forward.tolist()}; convT(v) = {transposed.tolist()}")
    assert_equal(transposed.shape, pair.u.shape, what="shape of convT(v) and of u")

    left = forward @ pair.v
    right = pair.u @ transposed
    magnitude = np.asarray(conv(np.abs(pair.u), np.abs(k), s, p)) @ np.abs(pair.v)
    operations = size + max(pair.u.shape[0], pair.v.shape[0])
    note(f"<conv(u), v> = {float(left)!r}, <u, convT(v)> = {float(right)!r}, T = {float(magnitude)!r}")
    bound = 2 * (rounded(magnitude, operations, label="T") + _underflow_in_adjoint_pair(pair, size))
    assert_close(left, right, bound, what="inner products")

    by_jax = linear_transpose_of_conv(pair.v, k, s, p, op)
    entry_magnitude = transpose_conv(np.abs(pair.v), np.abs(k), s, p, op)
    assert_close(
        transposed,
        by_jax,
        2 * rounded(entry_magnitude, size, label="convT(|v|, |k|)"),
        what="convT and jax.linear_transpose of conv",
    )
    record_details(kernel_size_max=size, stride_max=s)


transpose_is_adjoint.mutant(
    "flipped_kernel",
    description="transpose convolution with the flipped kernel, as in the dilated form",
    transpose=_transpose_flipped_kernel,
)


# Library conventions.

_USES_EXPLICIT_PADDING = ("explicit", "explicit_plain", "lhs_dilation")
_HAS_CONSISTENT_PADDING = (
    "use_consistent_padding" in inspect.signature(lax.conv_transpose).parameters
)
_ROUTES = (*_USES_EXPLICIT_PADDING, "VALID", "SAME") + (
    ("consistent",) if _HAS_CONSISTENT_PADDING else ()
)


@dataclass(frozen=True)
class LibraryCase:
    """A transpose convolution problem and the JAX call that should compute it.

    ``route`` is one of ``explicit`` (conv_transpose, transpose_kernel=True), ``explicit_plain``
    (conv_transpose with the flipped kernel), ``lhs_dilation`` (conv_general_dilated),
    ``consistent`` (conv_transpose, use_consistent_padding=True), ``VALID`` or ``SAME``. The
    last two ignore the problem's padding and output padding.
    """

    problem: TransposeConvolution
    route: str
    transpose_kernel: bool


@st.composite
def _library_cases(draw: st.DrawFn) -> LibraryCase:
    problem = draw(transpose_convolutions(), label="problem")
    route = draw(st.sampled_from(_ROUTES), label="route")
    transpose_kernel = draw(st.booleans(), label="transpose_kernel for VALID and SAME")
    return LibraryCase(problem, route, transpose_kernel)


PaddingMap = Callable[[int, int, int], tuple[int, int]]


def _library_output(case: LibraryCase, jax_padding: PaddingMap) -> np.ndarray:
    x, kernel = case.problem.x, case.problem.kernel
    s, p, op = case.problem.stride, case.problem.padding, case.problem.output_padding
    flipped = kernel[::-1]
    explicit = jax_padding(kernel.shape[0], p, op)
    if case.route == "explicit":
        return jax_conv_transpose(x, kernel, s, explicit, transpose_kernel=True)
    if case.route == "explicit_plain":
        return jax_conv_transpose(x, flipped, s, explicit, transpose_kernel=False)
    if case.route == "lhs_dilation":
        return jax_lhs_dilated_conv(x, flipped, s, explicit)
    if case.route == "consistent":
        consistent = jax_consistent_padding(p, op)
        return jax_conv_transpose(
            x, kernel, s, consistent, transpose_kernel=True, use_consistent_padding=True
        )
    given = kernel if case.transpose_kernel else flipped
    return jax_conv_transpose(x, given, s, case.route, transpose_kernel=case.transpose_kernel)


def _definition_output(case: LibraryCase) -> np.ndarray:
    x, kernel, s = case.problem.x, case.problem.kernel, case.problem.stride
    if case.route not in ("VALID", "SAME"):
        return transpose_conv(x, kernel, s, case.problem.padding, case.problem.output_padding)
    crop_left, crop_right = jax_string_padding_crops(case.route, kernel.shape[0], s)
    textbook = textbook_parameters(crop_left, crop_right, s)
    note(f"{case.route}: crops ({crop_left}, {crop_right}), textbook (p, op) = {textbook}")
    if textbook is None:
        return crop_window(full_scatter(x, kernel, s), [crop_left], [crop_right])
    return transpose_conv(x, kernel, s, *textbook)


@claim(
    "upsampling.library_conventions",
    title="JAX's transpose convolution calls match the textbook definition under a stated mapping",
    statement=r"\texttt{lax.conv\_transpose}(x, k, s, [(K-1-p, K-1-p+op)], "
    r"\texttt{transpose\_kernel=True}) = \operatorname{convT}_{s,p,op}(x, k)",
    source=_TRANSPOSE,
    strategy=_library_cases(),
    evidence="exact",
    examples=(
        LibraryCase(
            TransposeConvolution(_DOCUMENT_SIGNAL, INTERPOLATION_KERNEL, 2, 0, 0), "VALID", True
        ),
        LibraryCase(
            TransposeConvolution(_DOCUMENT_SIGNAL, np.array([1.0, 2.0, 3.0, 4.0]), 2, 1, 0),
            "explicit",
            True,
        ),
    ),
    notes="The module docstring lists every mapping (explicit padding with and without "
    "transpose_kernel, use_consistent_padding, 'VALID', 'SAME', conv_general_dilated with "
    "lhs_dilation). 'SAME' with K - s odd crops one more entry on the right than on the left, "
    "so it is checked against the cropped full scatter, not against a textbook (p, op). "
    "Dyadic inputs make the comparison bit-exact. The PyTorch peer checks live in "
    "tests/test_upsampling.py and are skipped when torch is not installed.",
)
def library_conventions(
    case: LibraryCase,
    *,
    jax_padding: PaddingMap = jax_transpose_padding,
) -> None:
    problem = case.problem
    note(
        f"route {case.route}, stride {problem.stride}, padding {problem.padding}, "
        f"output_padding {problem.output_padding}"
    )

    library = _library_output(case, jax_padding)
    definition = _definition_output(case)
    note(f"JAX: {library.tolist()}; definition: {definition.tolist()}")

    assert_close(library, definition, exact(), what=f"JAX ({case.route}) and the definition")


library_conventions.mutant(
    "textbook_padding_to_jax",
    description="passes the textbook (p, p + op) as JAX's explicit padding",
    jax_padding=lambda kernel_size, padding, output_padding: (padding, padding + output_padding),
)


# Interpolation by an integer factor, and checkerboard artifacts.


@dataclass(frozen=True)
class FactorCase:
    """A signal, an image and an upsampling factor s."""

    signal: np.ndarray
    image: np.ndarray
    factor: int


@st.composite
def _factor_cases(draw: st.DrawFn) -> FactorCase:
    factor = draw(strides(), label="factor")
    signal = draw(signals(), label="signal")
    shape = draw(st.tuples(st.integers(1, 5), st.integers(1, 5)), label="image shape")
    image = draw(scaled_arrays(shape), label="image")
    return FactorCase(signal, image, factor)


@claim(
    "upsampling.factor_s_interpolation",
    title="The triangle kernel with stride s and padding s-1 interpolates linearly by factor s",
    statement=r"\operatorname{convT}_{s,\,p=s-1}(x, k)_{is+r} = (1 - \tfrac{r}{s}) x_i + "
    r"\tfrac{r}{s} x_{i+1},\quad k_j = 1 - \tfrac{|j|}{s},\ |j| < s",
    source=_TRANSPOSE,
    strategy=_factor_cases(),
    evidence="numerical",
    examples=(FactorCase(_DOCUMENT_SIGNAL, np.array([[1.0, 2.0], [3.0, 4.0]]), 3),),
    notes="Output length s(n-1) + 1. In 2-D the kernel is the outer product k k^T with stride "
    "(s, s) and padding (s-1, s-1), and the output is bilinear interpolation. The reference is "
    "computed in exact rational arithmetic and rounded once. In 1-D the kernel weights carry "
    "an absolute error of at most gamma_2 and each output sums two products, so the error is "
    "at most gamma_4 (|x_i| + |x_{i+1}|), plus u for rounding the reference: gamma_5. In 2-D a "
    "weight is a rounded product of two such weights (error at most gamma_5) and an output "
    "sums four products, giving gamma_9 over the four neighbours, plus u: gamma_10. s = 2 "
    "gives the kernel [1/2, 1, 1/2].",
)
def factor_s_interpolation(
    case: FactorCase, *, kernel_for: Callable[[int], np.ndarray] = triangle_kernel
) -> None:
    s = case.factor
    kernel = kernel_for(s)
    note(f"kernel for s = {s}: {kernel.tolist()}")

    upsampled = transpose_conv(case.signal, kernel, s, s - 1)
    reference = linear_interpolation_exact(case.signal, s).astype(np.float64)
    neighbours = interpolation_neighbour_magnitudes(case.signal, s)
    bound = rounded(neighbours, 5, label="(|x_i| + |x_i+1|)")
    assert_close(upsampled, reference, bound, what="1-D transpose convolution and interpolation")

    image_kernel = np.outer(kernel, kernel)
    upsampled_image = transpose_conv(case.image, image_kernel, (s, s), (s - 1, s - 1))
    reference_image = linear_interpolation_exact(case.image, s).astype(np.float64)
    image_neighbours = interpolation_neighbour_magnitudes(case.image, s)
    image_bound = rounded(image_neighbours, 10, label="(sum of |x| over 4 neighbours)")
    assert_close(
        upsampled_image, reference_image, image_bound, what="2-D transpose convolution and bilinear"
    )


factor_s_interpolation.mutant(
    "normalized_kernel",
    description="triangle kernel divided by s so that its taps sum to 1",
    kernel_for=lambda s: triangle_kernel(s) / s,
)


@dataclass(frozen=True)
class ConstantInput:
    """A constant signal (``level`` repeated ``length`` times) and transpose parameters."""

    level: float
    length: int
    kernel: np.ndarray
    stride: int
    padding: int
    output_padding: int


@st.composite
def _constant_inputs(draw: st.DrawFn) -> ConstantInput:
    stride = draw(strides(), label="stride")
    level = draw(dyadics().filter(lambda v: v != 0), label="level")
    length = draw(st.integers(1, 8), label="length")
    kernel = draw(
        st.one_of(kernels(exact_only=True), phase_balanced_kernels(stride)), label="kernel"
    )
    output_padding = draw(output_paddings(stride), label="output_padding")
    # Paddings up to K - 1 leave most of the interior in the output, so that the 'iff' is tested.
    every_padding = paddings(length, kernel.shape[0], stride, output_padding)
    small_padding = st.integers(0, kernel.shape[0] - 1).filter(
        lambda p: transpose_length_formula(length, kernel.shape[0], stride, p, output_padding) >= 1
    )
    padding = draw(st.one_of(small_padding, every_padding), label="padding")
    return ConstantInput(level, length, kernel, stride, padding, output_padding)


def _interior_positions(case: ConstantInput, output_length: int) -> np.ndarray:
    """Return the output positions whose every contributing input sample exists.

    Full-scatter position t receives x_i k_j for every i with 0 <= t - i s < K. All those i lie
    in [0, n) exactly when max(K - s, 0) <= t <= s n - 1. Output position o is t = o + p.
    """
    size = case.kernel.shape[0]
    full_length = case.stride * (case.length - 1) + size
    low = max(size - case.stride, 0)
    high = min(case.stride * case.length - 1, full_length - 1)
    positions = np.arange(output_length)
    return positions[(positions + case.padding >= low) & (positions + case.padding <= high)]


@claim(
    "upsampling.no_checkerboard",
    title="A constant signal maps to a constant interior iff the kernel's phase sums are equal",
    statement=r"\operatorname{convT}_s(c \mathbf{1}, k)_t = c \sum_{j \equiv t\ (\mathrm{mod}\ s)}"
    r" k_j \text{ in the interior, constant} \iff \text{all } s \text{ phase sums are equal}",
    source=_TRANSPOSE,
    strategy=_constant_inputs(),
    evidence="exact",
    examples=(
        ConstantInput(1.0, 5, INTERPOLATION_KERNEL, 2, 1, 0),
        ConstantInput(1.0, 5, np.array([1.0, 1.0, 1.0]), 2, 1, 0),
    ),
    notes="The interior is the set of positions that receive a term from every kernel tap of "
    "their phase. k = [1/2, 1, 1/2] with s = 2 has phase sums (1, 1) and maps all-ones to "
    "all-ones there. k = [1, 1, 1] has phase sums (2, 1) and gives 1, 2, 1, 2, ... with p = 1. "
    "The 'iff' is checked when the interior covers all s phases and the level is nonzero.",
)
def no_checkerboard(
    case: ConstantInput,
    *,
    phase_sums: Callable[[np.ndarray, int], np.ndarray] = phase_sums,
) -> None:
    s = case.stride
    signal = np.full(case.length, case.level)
    output = transpose_conv(signal, case.kernel, s, case.padding, case.output_padding)
    interior = _interior_positions(case, output.shape[0])
    sums = np.asarray(phase_sums(case.kernel, s))
    note(f"output: {output.tolist()}; interior: {interior.tolist()}; phase sums: {sums.tolist()}")

    expected = case.level * sums[(interior + case.padding) % s]
    assert_close(output[interior], expected, exact(), what="interior and level times phase sum")

    phases_seen = {int(t) % s for t in interior + case.padding}
    if len(phases_seen) == s:
        constant = bool(np.all(output[interior] == output[interior][0]))
        balanced = bool(np.all(sums == sums[0]))
        assert_that(
            constant == balanced,
            f"interior constant: {constant}, phase sums {sums.tolist()} equal: {balanced}",
        )


no_checkerboard.mutant(
    "block_sums",
    description="sums contiguous blocks of s taps instead of taps j = r mod s",
    phase_sums=lambda kernel, s: np.array(
        [np.asarray(kernel)[r * s : (r + 1) * s].sum() for r in range(s)]
    ),
)
