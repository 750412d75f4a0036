"""Every registered claim runs as its own test, with the claim id as the test id.

A claim registered in any topic module appears here with no edit to this file. The test
passes when the claim's outcome under the loaded Hypothesis profile is its expectation: a claim
expected to hold holds, and an erratum (expected ``refuted``) is refuted with a counterexample.
"""

import pytest
from hypothesis import settings

from theorems import all_claims, run_claim


@pytest.mark.parametrize("claim", all_claims(), ids=lambda c: c.id)
def test_claim(claim):
    result = run_claim(claim, settings())

    if result.outcome.kind == "error":
        raise AssertionError(f"{claim.id} errored instead of running") from result.outcome.error
    if claim.expected == "holds" and result.outcome.kind == "refuted":
        raise AssertionError(f"{claim.id} was refuted:\n{result.outcome.counterexample}") from result.outcome.error
    assert result.as_expected, f"{claim.id} was expected to be refuted, but held on {result.outcome.examples} examples"
    assert result.outcome.examples > 0, f"{claim.id} ran no example"
