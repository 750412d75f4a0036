"""Every registered mutant must be refuted under the derandomized ``ci`` profile.

A mutant is a plausible wrong variant of a claim. One that survives shows the claim's strategy
or check is too weak to catch that mistake; one that errors shows a broken check.
"""

import pytest
from hypothesis import settings

from theorems import all_mutants, run_mutant
from theorems.profiles import register_profiles

register_profiles()


@pytest.mark.parametrize("mutant", all_mutants(), ids=lambda m: m.id)
def test_mutant_is_killed(mutant):
    result = run_mutant(mutant, settings.get_profile("ci"))

    if result.outcome.kind == "error":
        raise AssertionError(f"mutant {mutant.id} errored instead of being refuted") from result.outcome.error
    assert result.killed, (
        f"mutant {mutant.id} ({mutant.description}) survived {result.outcome.examples} examples"
    )
