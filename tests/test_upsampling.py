"""Plain tests of the upsampling module: fixed cases, JAX conventions, errors, PyTorch peers.

The PyTorch tests need the optional extra ``peers``. Without torch they are skipped with a
reason.
"""

import numpy as np
import pytest
from hypothesis import given, settings
from jax import lax

from strategies.convolution import transpose_convolutions
from theorems import run_claim, upsampling
from theorems._convolution import (
    jax_string_padding_crops,
    jax_transpose_padding,
    linear_transpose_of_conv,
    textbook_parameters,
)
from theorems.profiles import register_profiles
from theorems.upsampling import INTERPOLATION_KERNEL, transpose_conv, transpose_output_length

register_profiles()

DOCUMENT_SIGNAL = np.array([1.0, 2.0, 4.0])
LAYOUT = ("NCH", "OIH", "NCH")


def as_batch(values):
    """Reshape a 1-D array to (batch 1, channel 1, length) for lax and torch calls."""
    return np.asarray(values, dtype=np.float64).reshape(1, 1, -1)


def require_torch():
    return pytest.importorskip(
        "torch", reason="PyTorch is not installed (optional extra 'peers'); peer checks skipped"
    )


def torch_conv_transpose(torch, x, kernel, stride, padding, output_padding):
    output = torch.nn.functional.conv_transpose1d(
        torch.tensor(as_batch(x)),
        torch.tensor(as_batch(kernel)),
        stride=stride,
        padding=padding,
        output_padding=output_padding,
    )
    return output.numpy().reshape(-1)


# Fixed cases of the definition.


def test_transpose_document_case():
    output = transpose_conv(DOCUMENT_SIGNAL, INTERPOLATION_KERNEL, 2, 1)

    np.testing.assert_array_equal(output, [1.0, 1.5, 2.0, 3.0, 4.0])


def test_transpose_single_sample():
    output = transpose_conv([3.0], INTERPOLATION_KERNEL, 2, 1)

    np.testing.assert_array_equal(output, [3.0])


def test_output_padding_reveals_cropped_entry():
    output = transpose_conv(DOCUMENT_SIGNAL, INTERPOLATION_KERNEL, 2, 1, 1)

    np.testing.assert_array_equal(output, [1.0, 1.5, 2.0, 3.0, 4.0, 2.0])


def test_output_padding_single_sample():
    output = transpose_conv([1.0], INTERPOLATION_KERNEL, 2, 1, 1)

    np.testing.assert_array_equal(output, [1.0, 0.5])


def test_output_padding_past_scatter_is_zero():
    # With p = 0 nothing is cropped, so the extra entry lies past the full scatter.
    output = transpose_conv(DOCUMENT_SIGNAL, INTERPOLATION_KERNEL, 2, 0, 1)

    np.testing.assert_array_equal(output, [0.5, 1.0, 1.5, 2.0, 3.0, 4.0, 2.0, 0.0])


def test_checkerboard_interpolation_kernel():
    output = transpose_conv(np.ones(5), INTERPOLATION_KERNEL, 2, 1)

    np.testing.assert_array_equal(output, np.ones(9))


def test_checkerboard_ones_kernel():
    output = transpose_conv(np.ones(5), np.ones(3), 2, 1)

    np.testing.assert_array_equal(output, [1.0, 2.0, 1.0, 2.0, 1.0, 2.0, 1.0, 2.0, 1.0])


def test_phase_sums_cases():
    np.testing.assert_array_equal(upsampling.phase_sums(INTERPOLATION_KERNEL, 2), [1.0, 1.0])
    np.testing.assert_array_equal(upsampling.phase_sums(np.ones(3), 2), [2.0, 1.0])


def test_adjoint_even_length_needs_output_padding():
    # conv with K = 3, s = 2, p = 1 maps lengths 5 and 6 both to 3, and op = 1 recovers 6.
    assert upsampling.forward_output_length(6, 3, 2, 1) == 3
    assert transpose_output_length(3, 3, 2, 1, 0) == 5
    assert transpose_output_length(3, 3, 2, 1, 1) == 6


def test_linear_transpose_matches_scatter():
    kernel = np.array([1.0, 2.0, 3.0])

    by_jax = linear_transpose_of_conv(DOCUMENT_SIGNAL, kernel, 2, 1, 1)

    np.testing.assert_array_equal(by_jax, transpose_conv(DOCUMENT_SIGNAL, kernel, 2, 1, 1))


# JAX conventions, measured on the installed jax.


def test_jax_explicit_padding_not_textbook():
    x, kernel = as_batch(DOCUMENT_SIGNAL), as_batch([1.0, 2.0, 3.0, 4.0])

    as_given = lax.conv_transpose(x, kernel, (2,), ((1, 1),), dimension_numbers=LAYOUT)
    mapped = lax.conv_transpose(
        x, kernel, (2,), (jax_transpose_padding(4, 1, 0),), dimension_numbers=LAYOUT,
        transpose_kernel=True,
    )

    assert transpose_output_length(3, 4, 2, 1) == 6
    assert as_given.shape[-1] == 4
    np.testing.assert_array_equal(
        np.asarray(mapped).reshape(-1), transpose_conv(DOCUMENT_SIGNAL, [1.0, 2.0, 3.0, 4.0], 2, 1)
    )


def test_jax_valid_document_case():
    output = lax.conv_transpose(
        as_batch(DOCUMENT_SIGNAL), as_batch(INTERPOLATION_KERNEL), (2,), "VALID",
        dimension_numbers=LAYOUT,
    )

    np.testing.assert_array_equal(np.asarray(output).reshape(-1), [0.5, 1, 1.5, 2, 3, 4, 2])
    assert textbook_parameters(*jax_string_padding_crops("VALID", 3, 2), 2) == (0, 0)
    np.testing.assert_array_equal(
        np.asarray(output).reshape(-1),
        transpose_conv(DOCUMENT_SIGNAL, INTERPOLATION_KERNEL, 2, 0, 0),
    )


def test_jax_same_odd_excess_not_textbook():
    output = lax.conv_transpose(
        as_batch(DOCUMENT_SIGNAL), as_batch(INTERPOLATION_KERNEL), (2,), "SAME",
        dimension_numbers=LAYOUT,
    )

    np.testing.assert_array_equal(np.asarray(output).reshape(-1), [0.5, 1, 1.5, 2, 3, 4])
    assert jax_string_padding_crops("SAME", 3, 2) == (0, 1)
    assert textbook_parameters(0, 1, 2) is None


def test_jax_default_kernel_not_flipped():
    kernel = np.array([1.0, 2.0, 3.0])
    padding = (jax_transpose_padding(3, 0, 0),)

    plain = lax.conv_transpose(
        as_batch(DOCUMENT_SIGNAL), as_batch(kernel), (2,), padding, dimension_numbers=LAYOUT
    )

    np.testing.assert_array_equal(
        np.asarray(plain).reshape(-1), transpose_conv(DOCUMENT_SIGNAL, kernel[::-1], 2)
    )


# Invalid parameters.


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"stride": 0}, r"stride=0 is invalid: it must be an integer >= 1"),
        ({"stride": 1.5}, r"stride=1\.5 is invalid: it must be an integer"),
        ({"stride": True}, r"stride=True is invalid: it must be an integer, not a bool"),
        ({"padding": -1}, r"padding=-1 is invalid: it must be an integer >= 0"),
        ({"output_padding": 2}, r"output_padding=2 is invalid for stride=2: .* one of \[0, 1\]"),
        ({"output_padding": -1}, r"output_padding=-1 is invalid for stride=2"),
        ({"padding": 9}, r"padding=9 is too large .* would be -11, .* padding must be <= 3"),
    ],
)
def test_transpose_invalid_parameter(arguments, message):
    parameters = {"stride": 2, "padding": 1, "output_padding": 0, **arguments}

    with pytest.raises(ValueError, match=message):
        transpose_conv(DOCUMENT_SIGNAL, INTERPOLATION_KERNEL, **parameters)


def test_transpose_empty_signal():
    with pytest.raises(ValueError, match=r"x has shape \(0,\)"):
        transpose_conv([], INTERPOLATION_KERNEL, 2, 1)


def test_transpose_rank_mismatch():
    with pytest.raises(ValueError, match=r"kernel has 2 axes but x has 1"):
        transpose_conv(DOCUMENT_SIGNAL, np.ones((2, 2)), 2)


def test_transpose_invalid_axis_named():
    with pytest.raises(ValueError, match=r"on axis 1: padding=-1 is invalid"):
        transpose_conv(np.ones((2, 2)), np.ones((3, 3)), 2, (0, -1))


def test_conv_kernel_longer_than_input():
    with pytest.raises(ValueError, match=r"padding=0 is too small .* padding must be >= 1"):
        upsampling.conv([1.0], INTERPOLATION_KERNEL, 1, 0)


# A broken definition must be caught.


def test_broken_definition_refuted(monkeypatch):
    def flipped(x, kernel, stride=1, padding=0, output_padding=0):
        return transpose_conv(x, np.asarray(kernel)[::-1], stride, padding, output_padding)

    monkeypatch.setattr(upsampling, "transpose_conv", flipped)

    result = run_claim(upsampling.library_conventions, settings.get_profile("ci"))

    assert result.outcome.kind == "refuted", result.outcome.counterexample


# PyTorch as a peer oracle.


def test_torch_document_case():
    torch = require_torch()

    output = torch_conv_transpose(torch, DOCUMENT_SIGNAL, INTERPOLATION_KERNEL, 2, 1, 0)

    np.testing.assert_array_equal(output, [1.0, 1.5, 2.0, 3.0, 4.0])


def test_torch_output_padding_cases():
    torch = require_torch()

    padded = torch_conv_transpose(torch, DOCUMENT_SIGNAL, INTERPOLATION_KERNEL, 2, 1, 1)
    single = torch_conv_transpose(torch, [1.0], INTERPOLATION_KERNEL, 2, 1, 1)

    np.testing.assert_array_equal(padded, [1.0, 1.5, 2.0, 3.0, 4.0, 2.0])
    np.testing.assert_array_equal(single, [1.0, 0.5])


def test_torch_textbook_length():
    torch = require_torch()

    output = torch_conv_transpose(torch, DOCUMENT_SIGNAL, [1.0, 2.0, 3.0, 4.0], 2, 1, 0)

    assert output.shape == (transpose_output_length(3, 4, 2, 1),)


def test_torch_rejects_output_padding():
    torch = require_torch()

    with pytest.raises(RuntimeError, match="output padding must be smaller"):
        torch_conv_transpose(torch, DOCUMENT_SIGNAL, INTERPOLATION_KERNEL, 2, 1, 2)


def test_torch_matches_definition():
    torch = require_torch()

    @given(problem=transpose_convolutions())
    def matches(problem):
        arguments = (problem.stride, problem.padding, problem.output_padding)
        output = torch_conv_transpose(torch, problem.x, problem.kernel, *arguments)
        expected = transpose_conv(problem.x, problem.kernel, *arguments)
        np.testing.assert_array_equal(output, expected)

    matches()


@pytest.mark.parametrize("name", ["x", "kernel"])
@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_transpose_conv_rejects_non_finite(name, bad):
    arguments = {"x": [1.0, 2.0], "kernel": [1.0, 0.5]}
    arguments[name] = [1.0, bad]
    with pytest.raises(ValueError, match=rf"(?s)^{name}=.* is invalid: every entry must be finite"):
        transpose_conv(arguments["x"], arguments["kernel"], 2)


def test_transpose_conv_rejects_strings():
    with pytest.raises(ValueError, match=r"x=\['a', 1\] is invalid: it must be an array of real numbers"):
        transpose_conv(["a", 1], [1.0], 2)
