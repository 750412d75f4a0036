"""The runner's outcomes: holds, refuted with a readable counterexample, and error, which never
counts as a refutation. Mutants are killed, survive, or error.

The claims here are built as ``Claim`` objects without registering them, so they stay out of
the registry.
"""

import pytest
from hypothesis import note, settings
from hypothesis import strategies as st

from theorems import Claim, Source, assert_equal, assert_that, record_evidence, run_claim, run_mutant
from theorems._runner import VacuousCheckError
from theorems.profiles import register_profiles

register_profiles()

# The derandomized ci profile, cut to a few examples: integers in [0, 9] fail fast when they fail.
FAST = settings(settings.get_profile("ci"), max_examples=30)


def make_claim(check, *, strategy=None, expected="holds", examples=()):
    return Claim(
        id="runnertest.claim",
        title="a throwaway claim",
        statement="x = x",
        source=Source("runner tests", "no published result"),
        strategy=strategy if strategy is not None else st.integers(0, 9),
        check=check,
        evidence="exact",
        expected=expected,
        examples=tuple(examples),
    )


def _doubling(value, double=lambda x: 2 * x):
    assert_equal(double(value), value + value, what="2x and x + x")


def _below_five(value):
    note(f"square of the value = {value * value}")
    assert_that(value < 5, f"value = {value} is not below 5")


def _type_error(value):
    assert_that(value >= 0, "value is nonnegative")
    return value + "a string"


def _compares_nothing(value):
    note(f"value = {value}")


def test_true_claim_holds():
    result = run_claim(make_claim(_doubling), FAST)

    assert result.outcome.kind == "holds"
    assert result.outcome.examples > 0
    assert result.outcome.counterexample is None
    assert result.as_expected


def test_false_claim_refuted():
    result = run_claim(make_claim(_below_five), FAST)

    assert result.outcome.kind == "refuted"
    assert not result.as_expected
    assert result.evidence == "refuted"


def test_counterexample_shows_input():
    result = run_claim(make_claim(_below_five), FAST)
    text = result.outcome.counterexample

    assert "Falsifying example" in text or "Failing test case" in text
    assert "value=5" in text


def test_counterexample_shows_note():
    result = run_claim(make_claim(_below_five), FAST)

    assert "square of the value = 25" in result.outcome.counterexample


def test_counterexample_shows_violation():
    result = run_claim(make_claim(_below_five), FAST)

    assert "ClaimViolation: runnertest.claim: value = 5 is not below 5" in result.outcome.counterexample


def test_expected_refutation_as_expected():
    result = run_claim(make_claim(_below_five, expected="refuted"), FAST)

    assert result.as_expected


def test_fixed_examples_run():
    # The strategy never draws 7, so only the fixed example can refute the claim.
    result = run_claim(make_claim(_below_five, strategy=st.just(0), examples=[7]), FAST)

    assert result.outcome.kind == "refuted"
    assert "value = 7 is not below 5" in result.outcome.counterexample


def test_type_error_is_error():
    result = run_claim(make_claim(_type_error), FAST)

    assert result.outcome.kind == "error"
    assert isinstance(result.outcome.error, TypeError)
    assert result.evidence == "error"


def test_type_error_not_expected_refutation():
    result = run_claim(make_claim(_type_error, expected="refuted"), FAST)

    assert not result.as_expected


def test_vacuous_check_is_error():
    result = run_claim(make_claim(_compares_nothing), FAST)

    assert result.outcome.kind == "error"
    assert isinstance(result.outcome.error, VacuousCheckError)
    assert "returned without calling assert_close, assert_equal or assert_that" in result.outcome.counterexample


def test_vacuous_check_not_expected_refutation():
    result = run_claim(make_claim(_compares_nothing, expected="refuted"), FAST)

    assert not result.as_expected


@pytest.fixture
def doubling_claim():
    return make_claim(_doubling)


def test_mutant_killed(doubling_claim):
    mutant = doubling_claim.mutant("squared", description="x^2 instead of 2x", double=lambda x: x * x)

    result = run_mutant(mutant, FAST)

    assert result.killed
    assert "runnertest.claim/squared" in result.outcome.counterexample


def test_mutant_survives(doubling_claim):
    mutant = doubling_claim.mutant("shifted", description="x << 1, the same function", double=lambda x: x << 1)

    result = run_mutant(mutant, FAST)

    assert result.outcome.kind == "holds"
    assert not result.killed


def test_mutant_error_not_killed(doubling_claim):
    mutant = doubling_claim.mutant("broken", description="raises TypeError", double=lambda x: x + None)

    result = run_mutant(mutant, FAST)

    assert result.outcome.kind == "error"
    assert not result.killed


def test_mutant_leaves_claim_unchanged(doubling_claim):
    mutant = doubling_claim.mutant("squared", description="x^2 instead of 2x", double=lambda x: x * x)
    run_mutant(mutant, FAST)

    result = run_claim(doubling_claim, FAST)

    assert result.outcome.kind == "holds"


def _exact_on_even_values(value):
    record_evidence("exact" if value % 2 == 0 else "certified")
    assert_equal(value, value, what="the value and itself")


def test_mixed_evidence_reports_weakest():
    result = run_claim(make_claim(_exact_on_even_values), FAST)

    assert result.evidence_kinds == ["exact", "certified"]
    assert result.evidence == "certified"
    assert set(result.outcome.evidence_counts) == {"exact", "certified"}


def test_undeclared_evidence_uses_declared_kind():
    result = run_claim(make_claim(_doubling), FAST)

    assert result.evidence_kinds == ["exact"]
    assert result.outcome.evidence_counts == {}


def test_record_evidence_rejects_unknown_kind():
    with pytest.raises(ValueError, match="evidence kind 'proven' is invalid"):
        record_evidence("proven")


def _plain_assert(value):
    assert_that(value >= 0, "value is nonnegative")
    assert value < 5, "a plain assert is a bug check, not a claim comparison"


def test_plain_assert_is_error_not_refutation():
    result = run_claim(make_claim(_plain_assert, expected="refuted"), FAST)

    assert result.outcome.kind == "error"
    assert not result.as_expected


def _fails_on_third_call_only():
    calls = {"count": 0}

    def check(value):
        calls["count"] += 1
        assert_that(calls["count"] != 3, "failed on the third call only")

    return check


def test_flaky_failure_is_error_not_refutation():
    result = run_claim(make_claim(_fails_on_third_call_only(), expected="refuted"), FAST)

    assert result.outcome.kind == "error"
    assert not result.as_expected


def test_refuted_claim_counts_failing_example(tmp_path):
    from hypothesis.database import DirectoryBasedExampleDatabase

    replaying = settings(FAST, database=DirectoryBasedExampleDatabase(str(tmp_path)))
    claim = make_claim(_below_five, expected="refuted")
    run_claim(claim, replaying)

    # The second run replays the saved failure first and stops there.
    result = run_claim(claim, replaying)

    assert result.outcome.kind == "refuted"
    assert result.outcome.examples >= 1
