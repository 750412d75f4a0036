"""Executable theorems: the claims of deep-learning teaching material as checked properties.

A claim is one decorated check function in a topic module (``theorems.residual``,
``theorems.upsampling``, ``theorems.dropout`` and others). Hypothesis draws its inputs, the check
compares the claim's two sides with :func:`assert_close` under a stated floating-point error
model, and ``python -m theorems`` prints the ledger of every claim and mutant.
"""

import jax

# The claims are stated over the reals; float64 makes the error model's unit roundoff 2^-53.
jax.config.update("jax_enable_x64", True)

from theorems._context import record_details, record_evidence  # noqa: E402
from theorems._registry import (  # noqa: E402
    Claim,
    Mutant,
    RegistryError,
    Source,
    all_claims,
    all_mutants,
    claim,
    get_claim,
)
from theorems._runner import ClaimResult, MutantResult, run_claim, run_mutant  # noqa: E402
from theorems.closeness import ClaimViolation, assert_close, assert_equal, assert_that  # noqa: E402
from theorems.error_model import Bound  # noqa: E402

__all__ = [
    "Bound",
    "Claim",
    "ClaimResult",
    "ClaimViolation",
    "Mutant",
    "MutantResult",
    "RegistryError",
    "Source",
    "all_claims",
    "all_mutants",
    "assert_close",
    "assert_equal",
    "assert_that",
    "claim",
    "get_claim",
    "record_details",
    "record_evidence",
    "run_claim",
    "run_mutant",
]
