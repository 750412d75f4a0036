"""Claim and mutant declarations: every invalid declaration raises ``RegistryError`` when it is
made, with a message that names the claim and states what would be valid.

Claims registered here are removed again after each test, so they never reach the
parametrization of tests/test_claims.py.
"""

import pytest
from hypothesis import strategies as st

from theorems import RegistryError, Source, assert_equal, claim, get_claim
from theorems._registry import unregister

SOURCE = Source("registry tests", "no published result")


def _check(value, formula=abs):
    assert_equal(formula(value), abs(value))


@pytest.fixture
def declare():
    """Return a function that declares a throwaway claim.

    Every id passed to it is removed afterwards, also when a declaration that should have
    raised registered the claim."""
    seen = []

    def declare_claim(id, check=_check, **overrides):
        seen.append(id)
        arguments = {
            "title": "a throwaway claim",
            "statement": "x = x",
            "source": SOURCE,
            "strategy": st.integers(),
            "evidence": "exact",
        }
        arguments.update(overrides)
        return claim(id, **arguments)(check)

    yield declare_claim
    for id in seen:
        unregister(id)


def test_declared_claim_is_found(declare):
    declared = declare("registrytest.found")

    assert get_claim("registrytest.found") is declared


def test_subjects_are_keyword_defaults(declare):
    declared = declare("registrytest.subjects")

    assert declared.subjects == {"formula": abs}


def test_duplicate_id(declare):
    declare("registrytest.duplicate")

    with pytest.raises(RegistryError, match=r"claim id 'registrytest\.duplicate' is already registered by test_registry"):
        declare("registrytest.duplicate")


def test_duplicate_keeps_first(declare):
    first = declare("registrytest.kept")

    with pytest.raises(RegistryError):
        declare("registrytest.kept")

    assert get_claim("registrytest.kept") is first


@pytest.mark.parametrize(
    "id",
    ["registrytest", "Registrytest.name", "registrytest.Name", "registrytest.", ".name", "registrytest.a.b", "1topic.name", "registry-test.name"],
)
def test_malformed_id(declare, id):
    with pytest.raises(RegistryError, match=r"is invalid: use 'topic\.name' in lowercase letters"):
        declare(id)


def test_missing_strategy(declare):
    with pytest.raises(RegistryError, match=r"claim 'registrytest\.no_strategy' has no strategy: pass strategy="):
        declare("registrytest.no_strategy", strategy=None)


def test_strategy_not_a_strategy(declare):
    with pytest.raises(RegistryError, match=r"strategy=\[1, 2\], which is not a Hypothesis SearchStrategy"):
        declare("registrytest.list_strategy", strategy=[1, 2])


def test_unknown_evidence(declare):
    with pytest.raises(RegistryError, match=r"evidence='proved'; valid kinds are \['exact', 'certified', 'numerical'\]"):
        declare("registrytest.evidence", evidence="proved")


def test_unknown_expectation(declare):
    with pytest.raises(RegistryError, match=r"expected='fails'; valid values are \['holds', 'refuted'\]"):
        declare("registrytest.expectation", expected="fails")


def test_correction_on_holding_claim(declare):
    with pytest.raises(RegistryError, match="only a refuted claim has a correction"):
        declare("registrytest.correction", corrected_by="registrytest.other")


def test_correction_on_refuted_claim(declare):
    declared = declare("registrytest.erratum", expected="refuted", corrected_by="registrytest.other")

    assert declared.corrected_by == "registrytest.other"


def _no_parameters():
    assert_equal(1, 1)


def _default_value(value=1):
    assert_equal(value, value)


@pytest.mark.parametrize("check", [_no_parameters, _default_value], ids=["no_parameters", "default_value"])
def test_check_without_value_parameter(declare, check):
    with pytest.raises(RegistryError, match=r"must take the drawn value as its first parameter, without a default"):
        declare("registrytest.no_value", check=check)


def test_mutant_registered(declare):
    declared = declare("registrytest.mutated")

    mutant = declared.mutant("negated", description="-|x|", formula=lambda x: -abs(x))

    assert mutant.id == "registrytest.mutated/negated"
    assert declared.mutants == [mutant]


def test_mutant_unknown_subject(declare):
    declared = declare("registrytest.mutant_unknown")

    with pytest.raises(RegistryError, match=r"overrides \['formla'\], which are not subjects .* are \['formula'\]"):
        declared.mutant("typo", description="misspelled subject", formla=abs)


def test_mutant_cannot_replace_value(declare):
    declared = declare("registrytest.mutant_value")

    with pytest.raises(RegistryError, match=r"overrides \['value'\], which are not subjects"):
        declared.mutant("value", description="replaces the drawn value", value=0)


def test_mutant_duplicate_name(declare):
    declared = declare("registrytest.mutant_twice")
    declared.mutant("negated", description="-|x|", formula=lambda x: -abs(x))

    with pytest.raises(RegistryError, match=r"mutant registrytest\.mutant_twice/negated is already registered"):
        declared.mutant("negated", description="again", formula=lambda x: x)


def test_mutant_without_overrides(declare):
    declared = declare("registrytest.mutant_empty")

    with pytest.raises(RegistryError, match=r"replaces nothing: pass at least one of the subjects \['formula'\]"):
        declared.mutant("empty", description="changes nothing")


@pytest.mark.parametrize("name", ["Negated", "negated-sign", "2nd", ""])
def test_mutant_malformed_name(declare, name):
    declared = declare("registrytest.mutant_name")

    with pytest.raises(RegistryError, match=r"mutant name .* of claim 'registrytest\.mutant_name' is invalid"):
        declared.mutant(name, description="bad name", formula=abs)


def test_get_claim_unknown_lists_closest():
    with pytest.raises(KeyError, match=r"no claim with id 'residual\.jacobien'; closest ids: residual\.jacobian"):
        get_claim("residual.jacobien")


def test_get_claim_unknown_without_match():
    with pytest.raises(KeyError) as raised:
        get_claim("zzzz.qqqq")

    assert "closest ids" not in str(raised.value)


def test_unknown_correction_rejected(declare):
    declare("registrytest.erratum", expected="refuted", corrected_by="registrytest.nowhere")

    with pytest.raises(RegistryError, match="corrected_by='registrytest.nowhere', which is not a registered claim id"):
        get_claim("registrytest.erratum")
