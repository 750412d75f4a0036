"""Reference definitions of strided convolution and transpose convolution, and JAX adapters.

Conventions (Dumoulin and Visin, "A guide to convolution arithmetic for deep learning",
arXiv:1603.07285): *convolution* means cross-correlation, as in deep-learning libraries, and the
transpose convolution with stride s, padding p and output padding op is defined by scatter-add,

    full[i s + j] += x[i] k[j],   0 <= i < n,  0 <= j < K,   len(full) = s (n - 1) + K,
    output[o] = full[o + p]  for 0 <= o < n',  n' = s (n - 1) + K - 2 p + op,

where entries of ``full`` outside its range read as 0. So p entries are cropped on the left and
p - op on the right, and the kernel is not flipped. The definitions work on float64 NumPy
arrays, and only the ``jax_*`` adapters and :func:`linear_transpose_of_conv` call JAX.
"""

from __future__ import annotations

import operator
from collections.abc import Sequence
from fractions import Fraction
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax

IntOrTuple = int | Sequence[int]

# Single-channel 1-D layouts: batch and channel first, the spatial axis last.
_CONV_LAYOUT = ("NCH", "OIH", "NCH")


def _as_int(name: str, value: Any) -> int:
    if isinstance(value, bool):
        raise ValueError(f"{name}={value!r} is invalid: it must be an integer, not a bool")
    try:
        return operator.index(value)
    except TypeError:
        raise ValueError(f"{name}={value!r} is invalid: it must be an integer") from None


def _per_axis(name: str, value: IntOrTuple, ndim: int) -> tuple[int, ...]:
    if isinstance(value, Sequence) and not isinstance(value, str):
        if len(value) != ndim:
            raise ValueError(
                f"{name}={value!r} has {len(value)} entries, but the signal has {ndim} axes: "
                f"pass one integer or a tuple of {ndim} integers"
            )
        return tuple(_as_int(f"{name}[{axis}]", v) for axis, v in enumerate(value))
    return (_as_int(name, value),) * ndim


def _as_signal(name: str, value: Any) -> np.ndarray:
    try:
        array = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError) as error:
        raise ValueError(
            f"{name}={value!r} is invalid: it must be an array of real numbers ({error})"
        ) from None
    if array.ndim == 0 or array.size == 0:
        raise ValueError(
            f"{name} has shape {array.shape}: it must be an array with at least one axis and at "
            "least one entry"
        )
    if not np.all(np.isfinite(array)):
        raise ValueError(
            f"{name}={array!r} is invalid: every entry must be finite (no NaN or infinity)"
        )
    return array


def _validate_stride_and_padding(stride: int, padding: int) -> None:
    if stride < 1:
        raise ValueError(f"stride={stride!r} is invalid: it must be an integer >= 1")
    if padding < 0:
        raise ValueError(f"padding={padding!r} is invalid: it must be an integer >= 0")


def forward_output_length(length: int, kernel_size: int, stride: int = 1, padding: int = 0) -> int:
    """Return floor((n + 2p - K) / s) + 1, the length of a strided cross-correlation.

    Raises:
        ValueError: a parameter is out of range, or the padded signal is shorter than the kernel.
    """
    length = _as_int("length", length)
    kernel_size = _as_int("kernel_size", kernel_size)
    stride = _as_int("stride", stride)
    padding = _as_int("padding", padding)
    if length < 1 or kernel_size < 1:
        raise ValueError(
            f"length={length!r} and kernel_size={kernel_size!r} are invalid: both must be >= 1"
        )
    _validate_stride_and_padding(stride, padding)
    if length + 2 * padding < kernel_size:
        raise ValueError(
            f"padding={padding!r} is too small for length={length!r} and "
            f"kernel_size={kernel_size!r}: the padded signal must be at least as long as the "
            f"kernel, so padding must be >= {-(-(kernel_size - length) // 2)}"
        )
    return (length + 2 * padding - kernel_size) // stride + 1


def transpose_output_length(
    length: int, kernel_size: int, stride: int = 1, padding: int = 0, output_padding: int = 0
) -> int:
    """Return n' = s (n - 1) + K - 2p + op after checking that (n, K, s, p, op) is valid.

    Valid means n >= 1, K >= 1, s >= 1, p >= 0, 0 <= op < s and n' >= 1.

    Raises:
        ValueError: the first invalid parameter, with its value and the valid range.
    """
    length = _as_int("length", length)
    kernel_size = _as_int("kernel_size", kernel_size)
    stride = _as_int("stride", stride)
    padding = _as_int("padding", padding)
    output_padding = _as_int("output_padding", output_padding)
    if length < 1:
        raise ValueError(f"length={length!r} is invalid: the signal needs at least one sample")
    if kernel_size < 1:
        raise ValueError(
            f"kernel_size={kernel_size!r} is invalid: the kernel needs at least one tap"
        )
    _validate_stride_and_padding(stride, padding)
    if not 0 <= output_padding < stride:
        raise ValueError(
            f"output_padding={output_padding!r} is invalid for stride={stride!r}: it must "
            f"satisfy 0 <= output_padding < stride, so one of {list(range(stride))}"
        )
    result = stride * (length - 1) + kernel_size - 2 * padding + output_padding
    if result < 1:
        largest = (stride * (length - 1) + kernel_size + output_padding - 1) // 2
        raise ValueError(
            f"padding={padding!r} is too large for length={length!r}, "
            f"kernel_size={kernel_size!r}, stride={stride!r} and "
            f"output_padding={output_padding!r}: the output length s(n-1)+K-2p+op would be "
            f"{result}, but it must be >= 1, so padding must be <= {largest}"
        )
    return result


def full_scatter(x: Any, kernel: Any, stride: IntOrTuple) -> np.ndarray:
    """Scatter-add x[i] k[j] into position i s + j on every axis, giving s (n - 1) + K per axis.

    Taps are added in row-major order of j, so each output entry sums its terms in that order.
    """
    x = _as_signal("x", x)
    kernel = _as_signal("kernel", kernel)
    if kernel.ndim != x.ndim:
        raise ValueError(
            f"kernel has {kernel.ndim} axes but x has {x.ndim}: they must have the same number"
        )
    strides = _per_axis("stride", stride, x.ndim)
    for axis, s in enumerate(strides):
        if s < 1:
            raise ValueError(f"stride={stride!r} is invalid on axis {axis}: it must be >= 1")

    shape = tuple(s * (n - 1) + k for s, n, k in zip(strides, x.shape, kernel.shape))
    full = np.zeros(shape)
    for tap in np.ndindex(*kernel.shape):
        window = tuple(slice(j, j + s * (n - 1) + 1, s) for j, s, n in zip(tap, strides, x.shape))
        full[window] += kernel[tap] * x
    return full


def crop_window(
    full: np.ndarray, crop_left: Sequence[int], crop_right: Sequence[int]
) -> np.ndarray:
    """Drop crop_left entries at the start and crop_right at the end of each axis.

    A negative crop extends that side with zeros, so entries outside ``full`` read as 0.
    """
    lengths = [n - a - b for n, a, b in zip(full.shape, crop_left, crop_right)]
    if any(length < 1 for length in lengths):
        raise ValueError(
            f"crops {tuple(crop_left)} (left) and {tuple(crop_right)} (right) leave shape "
            f"{tuple(lengths)} of a full scatter of shape {full.shape}: every length must be >= 1"
        )
    output = np.zeros(lengths)
    source, target = [], []
    for n, a, length in zip(full.shape, crop_left, lengths):
        start, stop = max(a, 0), min(a + length, n)
        source.append(slice(start, max(stop, start)))
        target.append(slice(start - a, start - a + max(stop - start, 0)))
    output[tuple(target)] = full[tuple(source)]
    return output


def transpose_conv(
    x: Any,
    kernel: Any,
    stride: IntOrTuple = 1,
    padding: IntOrTuple = 0,
    output_padding: IntOrTuple = 0,
) -> np.ndarray:
    """Transpose convolution by its defining scatter-add, on every axis of x at once.

    Args:
        x: the input signal, float64 array of any rank with at least one entry per axis.
        kernel: the kernel, same rank as x, used without a flip.
        stride, padding, output_padding: one integer, or one per axis.

    Returns:
        The float64 output, of length s (n - 1) + K - 2p + op on each axis.

    Raises:
        ValueError: a parameter is invalid. The message names it, shows its value and the valid
            range (see :func:`transpose_output_length`).
    """
    x = _as_signal("x", x)
    kernel = _as_signal("kernel", kernel)
    if kernel.ndim != x.ndim:
        raise ValueError(
            f"kernel has {kernel.ndim} axes but x has {x.ndim}: they must have the same number"
        )
    strides = _per_axis("stride", stride, x.ndim)
    paddings = _per_axis("padding", padding, x.ndim)
    output_paddings = _per_axis("output_padding", output_padding, x.ndim)
    for axis, shape in enumerate(zip(x.shape, kernel.shape, strides, paddings, output_paddings)):
        try:
            transpose_output_length(*shape)
        except ValueError as error:
            if x.ndim == 1:
                raise
            raise ValueError(f"on axis {axis}: {error}") from None

    full = full_scatter(x, kernel, strides)
    crop_right = [p - op for p, op in zip(paddings, output_paddings)]
    return crop_window(full, paddings, crop_right)


def conv(x: Any, kernel: Any, stride: int = 1, padding: int = 0) -> np.ndarray:
    """Strided 1-D cross-correlation with zero padding.

    output[o] = sum_j xpad[o s + j] k[j], with p zeros on both sides of x. The output has length
    floor((n + 2p - K) / s) + 1.

    Raises:
        ValueError: see :func:`forward_output_length`.
    """
    x = _as_signal("x", x)
    kernel = _as_signal("kernel", kernel)
    if x.ndim != 1 or kernel.ndim != 1:
        raise ValueError(
            f"x has shape {x.shape} and kernel has shape {kernel.shape}: conv needs 1-D arrays"
        )
    length = forward_output_length(x.shape[0], kernel.shape[0], stride, padding)
    padded = np.pad(x, padding)
    rows = np.arange(length)[:, None] * stride + np.arange(kernel.shape[0])[None, :]
    return padded[rows] @ kernel


# The JAX transpose works on fixed-size buffers, so that jax.jit compiles it once instead of
# once per signal length. The buffers bound the sizes it accepts.
_BUFFER_LENGTH = 64
_BUFFER_TAPS = 8


@jax.jit
def _transpose_of_buffered_conv(
    cotangent: jax.Array, indices: jax.Array, mask: jax.Array, kernel: jax.Array
) -> jax.Array:
    def forward(signal: jax.Array) -> jax.Array:
        return (signal[indices] * mask) @ kernel

    (result,) = jax.linear_transpose(forward, jnp.zeros(_BUFFER_LENGTH))(cotangent)
    return result


def linear_transpose_of_conv(
    v: Any, kernel: Any, stride: int, padding: int, output_padding: int
) -> np.ndarray:
    """Apply ``jax.linear_transpose`` of the forward cross-correlation to v.

    The forward map sends u in R^n' to conv(u, k, s, p) in R^n, with n' the transpose output
    length for (s, p, op), so the result has length n'. It is computed by JAX from a gather and
    a matrix-vector product, independently of the scatter-add in :func:`transpose_conv`.

    Raises:
        ValueError: a parameter is invalid (see :func:`transpose_output_length`), or n' or n
            exceeds 64 or K exceeds 8, the sizes of the compiled buffers.
    """
    v = _as_signal("v", v)
    kernel = _as_signal("kernel", kernel)
    size, count = kernel.shape[0], v.shape[0]
    length = transpose_output_length(count, size, stride, padding, output_padding)
    if max(length, count) > _BUFFER_LENGTH or size > _BUFFER_TAPS:
        raise ValueError(
            f"signal lengths {count} and {length} and kernel size {size} are too large: "
            f"linear_transpose_of_conv supports lengths <= {_BUFFER_LENGTH} and kernel sizes "
            f"<= {_BUFFER_TAPS}"
        )

    rows = np.arange(_BUFFER_LENGTH)[:, None]
    taps = np.arange(_BUFFER_TAPS)[None, :]
    positions = rows * stride + taps - padding
    mask = (positions >= 0) & (positions < length) & (taps < size) & (rows < count)
    kernel_buffer = np.zeros(_BUFFER_TAPS)
    kernel_buffer[:size] = kernel
    cotangent = np.zeros(_BUFFER_LENGTH)
    cotangent[:count] = v

    result = _transpose_of_buffered_conv(
        jnp.asarray(cotangent),
        jnp.asarray(np.clip(positions, 0, _BUFFER_LENGTH - 1)),
        jnp.asarray(mask, dtype=jnp.float64),
        jnp.asarray(kernel_buffer),
    )
    return np.asarray(result)[:length]


def insert_zeros(x: Any, count: int) -> np.ndarray:
    """Insert ``count`` zeros between consecutive samples of a 1-D signal."""
    x = _as_signal("x", x)
    count = _as_int("count", count)
    if count < 0:
        raise ValueError(f"count={count!r} is invalid: it must be an integer >= 0")
    output = np.zeros((count + 1) * (x.shape[0] - 1) + 1)
    output[:: count + 1] = x
    return output


def pad_or_crop(x: np.ndarray, left: int, right: int) -> np.ndarray:
    """Add ``left`` and ``right`` zeros at the ends of a 1-D signal (a negative count crops)."""
    return crop_window(np.asarray(x, dtype=np.float64), [-left], [-right])


def correlate_valid(x: np.ndarray, kernel: np.ndarray) -> np.ndarray:
    """Unpadded stride-1 cross-correlation: output[o] = sum_j x[o + j] k[j]."""
    length = x.shape[0] - kernel.shape[0] + 1
    output = np.zeros(max(length, 0))
    for j, tap in enumerate(kernel):
        output += tap * x[j : j + length]
    return output


def dilated_conv_form(
    x: Any, kernel: Any, stride: int, padding: int, output_padding: int
) -> np.ndarray:
    """Compute a transpose convolution as an ordinary convolution of the zero-inserted signal.

    Inserts s - 1 zeros between samples, pads K-1-p zeros on the left and K-1-p+op on the right
    (a negative count crops, which happens when p > K - 1), then cross-correlates with the
    flipped kernel.
    """
    kernel = _as_signal("kernel", kernel)
    transpose_output_length(np.shape(x)[0], kernel.shape[0], stride, padding, output_padding)
    left = kernel.shape[0] - 1 - padding
    padded = pad_or_crop(insert_zeros(x, stride - 1), left, left + output_padding)
    return correlate_valid(padded, kernel[::-1])


def midpoint_interpolation(x: Any) -> np.ndarray:
    """Return [x1, (x1+x2)/2, x2, ..., xn], the piecewise linear upsampling by 2 (length 2n-1)."""
    x = _as_signal("x", x)
    y = np.zeros(2 * x.shape[0] - 1)
    y[::2] = x
    y[1::2] = (x[:-1] + x[1:]) / 2
    return y


def triangle_kernel(factor: int) -> np.ndarray:
    """Return k_j = 1 - |j| / s for |j| < s: the linear-interpolation kernel, length 2s - 1."""
    factor = _as_int("factor", factor)
    if factor < 1:
        raise ValueError(f"factor={factor!r} is invalid: it must be an integer >= 1")
    offsets = np.arange(-(factor - 1), factor)
    return 1.0 - np.abs(offsets) / factor


def linear_interpolation_exact(x: np.ndarray, factor: int) -> np.ndarray:
    """Insert s - 1 linearly interpolated points between samples, in exact rational arithmetic.

    Returns an object array of ``Fraction`` of shape s (n - 1) + 1 per axis. Along each axis the
    point at i s + r has weights (s - r)/s on sample i and r/s on sample i + 1 (multilinear in
    several axes, so bilinear for images).
    """
    result = np.vectorize(Fraction, otypes=[object])(np.asarray(x, dtype=np.float64))
    for axis in range(result.ndim):
        result = np.moveaxis(result, axis, 0)
        n = result.shape[0]
        rows = []
        for t in range(factor * (n - 1) + 1):
            i, r = divmod(t, factor)
            row = result[i] if r == 0 else (result[i] * (factor - r) + result[i + 1] * r) / factor
            rows.append(row)
        result = np.moveaxis(np.stack(rows), 0, axis)
    return result


def interpolation_neighbour_magnitudes(x: np.ndarray, factor: int) -> np.ndarray:
    """Return, for each interpolated point, the sum of |x| over its 2^d neighbouring samples."""
    result = np.abs(np.asarray(x, dtype=np.float64))
    for axis in range(result.ndim):
        result = np.moveaxis(result, axis, 0)
        n = result.shape[0]
        t = np.arange(factor * (n - 1) + 1)
        lower = t // factor
        upper = np.minimum(lower + 1, n - 1)
        result = np.moveaxis(result[lower] + result[upper], 0, axis)
    return result


def phase_sums(kernel: Any, stride: int) -> np.ndarray:
    """Return the s phase sums of a 1-D kernel: entry r is the sum of k[j] over j = r mod s."""
    kernel = _as_signal("kernel", kernel)
    stride = _as_int("stride", stride)
    if stride < 1:
        raise ValueError(f"stride={stride!r} is invalid: it must be an integer >= 1")
    return np.array([kernel[r::stride].sum() for r in range(stride)])


# JAX adapters. Each one maps textbook parameters to a JAX call on a single-channel signal
# (batch 1, channel 1), so the channel layout of the kernel plays no role.


def jax_transpose_padding(kernel_size: int, padding: int, output_padding: int) -> tuple[int, int]:
    """Return the explicit ``(low, high)`` padding that ``lax.conv_transpose`` (with the default
    ``use_consistent_padding=False``) and ``lax.conv_general_dilated`` (with lhs_dilation) need
    for textbook (p, op): (K-1-p, K-1-p+op), padding of the zero-inserted signal."""
    low = kernel_size - 1 - padding
    return low, low + output_padding


def jax_consistent_padding(padding: int, output_padding: int) -> tuple[int, int]:
    """Return the ``(low, high)`` padding that ``lax.conv_transpose(use_consistent_padding=True)``
    needs for textbook (p, op): (p, p - op), the crops of the full scatter."""
    return padding, padding - output_padding


def jax_string_padding_crops(mode: str, kernel_size: int, stride: int) -> tuple[int, int]:
    """Return the (left, right) crops of the full scatter that ``lax.conv_transpose`` applies for
    padding 'VALID' or 'SAME' (measured against jax 0.10.2).

    'VALID' crops (0, -max(s-K, 0)): textbook p = 0, op = max(s - K, 0), length s(n-1)+max(K, s).
    'SAME' gives length s n. For K <= s it crops (0, K - s): textbook p = 0, op = s - K. For
    K > s it crops (floor((K-s)/2), ceil((K-s)/2)), textbook p = (K-s)/2, op = 0 when K - s is
    even. When K - s is odd it crops one more entry on the right than on the left, which no
    textbook (p, op) with op >= 0 expresses.
    """
    if mode == "VALID":
        return 0, -max(stride - kernel_size, 0)
    if mode == "SAME":
        if kernel_size <= stride:
            return 0, kernel_size - stride
        excess = kernel_size - stride
        return excess // 2, excess - excess // 2
    raise ValueError(f"mode={mode!r} is invalid: it must be 'VALID' or 'SAME'")


def textbook_parameters(crop_left: int, crop_right: int, stride: int) -> tuple[int, int] | None:
    """Return textbook (p, op) for full-scatter crops, or None when no valid (p, op) gives them."""
    padding, output_padding = crop_left, crop_left - crop_right
    if padding < 0 or not 0 <= output_padding < stride:
        return None
    return padding, output_padding


def jax_conv_transpose(
    x: Any,
    kernel: Any,
    stride: int,
    padding: str | tuple[int, int],
    *,
    transpose_kernel: bool,
    use_consistent_padding: bool = False,
) -> np.ndarray:
    """Call ``jax.lax.conv_transpose`` on a 1-D single-channel signal and return a 1-D array."""
    lhs = jnp.asarray(x, dtype=jnp.float64).reshape(1, 1, -1)
    rhs = jnp.asarray(kernel, dtype=jnp.float64).reshape(1, 1, -1)
    options = {"use_consistent_padding": True} if use_consistent_padding else {}
    explicit = padding if isinstance(padding, str) else (tuple(padding),)
    output = lax.conv_transpose(
        lhs,
        rhs,
        (stride,),
        explicit,
        dimension_numbers=_CONV_LAYOUT,
        transpose_kernel=transpose_kernel,
        **options,
    )
    return np.asarray(output).reshape(-1)


def jax_lhs_dilated_conv(x: Any, kernel: Any, stride: int, padding: tuple[int, int]) -> np.ndarray:
    """Call ``jax.lax.conv_general_dilated`` with lhs_dilation = stride and window stride 1."""
    lhs = jnp.asarray(x, dtype=jnp.float64).reshape(1, 1, -1)
    rhs = jnp.asarray(kernel, dtype=jnp.float64).reshape(1, 1, -1)
    output = lax.conv_general_dilated(
        lhs,
        rhs,
        window_strides=(1,),
        padding=[tuple(padding)],
        lhs_dilation=(stride,),
        dimension_numbers=_CONV_LAYOUT,
    )
    return np.asarray(output).reshape(-1)
