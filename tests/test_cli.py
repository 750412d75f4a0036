"""``python -m theorems``: exit codes, selection, the text and JSON ledgers, the Hypothesis
profiles it runs under, and the atomic JSON write.

Most tests call ``theorems._cli.main`` in-process on throwaway claims that a fixture registers
and removes again. Two tests run the real entry point in a subprocess on a claim module written
to a temporary directory, imported with ``--import`` or ``THEOREMS_MODULES``.
"""

import io
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from hypothesis import note, settings
from hypothesis import strategies as st

from theorems import Source, assert_equal, assert_that, claim, ledger, profiles
from theorems._cli import EXIT_FAILED, EXIT_OK, EXIT_USAGE, main
from theorems._registry import unregister

REPOSITORY = Path(__file__).resolve().parents[1]
SOURCE = Source("command-line tests", "no published result")


def _declare(id, check, **options):
    arguments = {
        "title": f"throwaway claim {id}",
        "statement": "x = x",
        "source": SOURCE,
        "strategy": st.integers(0, 9),
        "evidence": "exact",
    }
    arguments.update(options)
    return claim(id, **arguments)(check)


def _doubling(value, double=lambda x: 2 * x):
    assert_equal(double(value), value + value, what="2x and x + x")


def _below_five(value):
    note(f"square of the value = {value * value}")
    assert_that(value < 5, f"value = {value} is not below 5")


@pytest.fixture
def passing_claims():
    """Register ``clitest.doubling`` (expected to hold, with one mutant that is killed) and
    ``clitest.erratum`` (refuted as expected), then remove them."""
    ids = ["clitest.doubling", "clitest.erratum"]
    try:
        doubling = _declare("clitest.doubling", _doubling)
        doubling.mutant("squared", description="x^2 instead of 2x", double=lambda x: x * x)
        _declare("clitest.erratum", _below_five, expected="refuted", corrected_by="clitest.doubling")
        yield ids
    finally:
        for id in ids:
            unregister(id)


@pytest.fixture
def unexpected_claim():
    """Register ``clitest.wrong``, expected to hold but refuted, then remove it."""
    try:
        _declare("clitest.wrong", _below_five)
        yield "clitest.wrong"
    finally:
        unregister("clitest.wrong")


def run_cli(*arguments):
    """Run ``main`` in-process and return (exit code, stdout, stderr)."""
    stdout, stderr = io.StringIO(), io.StringIO()
    code = main(list(arguments), stdout=stdout, stderr=stderr)
    return code, stdout.getvalue(), stderr.getvalue()


def listed_titles(output):
    """Parse ``--list`` output, one ``id  title`` line per claim, into {id: title}."""
    return dict(line.split(None, 1) for line in output.splitlines())


# --- exit codes and selection ---------------------------------------------------------------


def test_passing_selection_exits_0(passing_claims):
    code, output, _ = run_cli("--claim", "clitest.*", "--profile", "ci")

    assert code == EXIT_OK
    assert output.rstrip().endswith("PASS")


def test_ledger_counts(passing_claims):
    _, output, _ = run_cli("--claim", "clitest.*", "--profile", "ci")

    assert "Mutants killed: 1/1" in output
    assert "Claims as expected: 2/2" in output


def test_ledger_shows_counterexample(passing_claims):
    _, output, _ = run_cli("--claim", "clitest.*", "--profile", "ci")

    assert "clitest.erratum: refuted as expected" in output
    assert "  corrected claim: clitest.doubling" in output
    assert "  | square of the value = 25" in output
    assert "value = 5 is not below 5" in output


def test_unexpected_claim_exits_1(passing_claims, unexpected_claim):
    code, output, _ = run_cli("--claim", "clitest.*", "--profile", "ci", "--no-mutants")

    assert code == EXIT_FAILED
    assert "clitest.wrong: refuted, expected holds" in output
    assert output.rstrip().endswith("FAIL")


def test_claim_glob_repeats(passing_claims, unexpected_claim):
    code, output, _ = run_cli("--list", "--claim", "clitest.doubling", "--claim", "clitest.err*")

    assert code == EXIT_OK
    assert listed_titles(output) == {
        "clitest.doubling": "throwaway claim clitest.doubling",
        "clitest.erratum": "throwaway claim clitest.erratum",
    }


def test_topic_selects(passing_claims):
    code, output, _ = run_cli("--list", "--topic", "clitest")

    assert code == EXIT_OK
    assert [line.split()[0] for line in output.splitlines()] == passing_claims


def test_list_prints_ids_and_titles():
    code, output, _ = run_cli("--list")

    assert code == EXIT_OK
    assert listed_titles(output)["residual.jacobian"] == "The block's Jacobian is W2 D W1 + I"


def test_unknown_claim_exits_2():
    code, output, errors = run_cli("--claim", "residual.jacobien")

    assert code == EXIT_USAGE
    assert output == ""
    assert "no claim id matches 'residual.jacobien'; closest ids: residual.jacobian" in errors


def test_unknown_topic_exits_2():
    code, _, errors = run_cli("--topic", "residul")

    assert code == EXIT_USAGE
    assert "unknown topic 'residul'; closest topics: residual" in errors


def test_unknown_profile_exits_2():
    code, _, errors = run_cli("--profile", "fast", "--list")

    assert code == EXIT_USAGE
    assert "unknown Hypothesis profile 'fast' from --profile" in errors


def test_unimportable_module_exits_2():
    code, _, errors = run_cli("--import", "clitest_no_such_module", "--list")

    assert code == EXIT_USAGE
    assert "claim module 'clitest_no_such_module' (from THEOREMS_MODULES or --import) cannot be imported" in errors


def test_unwritable_json_exits_2(passing_claims, tmp_path):
    target = tmp_path / "missing" / "ledger.json"

    code, output, errors = run_cli("--claim", "clitest.doubling", "--profile", "ci", "--json", str(target))

    assert code == EXIT_USAGE
    assert "does not exist" in errors
    assert output == "", "the path is checked before any claim runs"


def test_json_directory_exits_2(passing_claims, tmp_path):
    code, _, errors = run_cli("--claim", "clitest.doubling", "--profile", "ci", "--json", str(tmp_path))

    assert code == EXIT_USAGE
    assert "is a directory" in errors


def test_empty_json_path_exits_2(passing_claims):
    code, _, errors = run_cli("--claim", "clitest.doubling", "--profile", "ci", "--json", "")

    assert code == EXIT_USAGE
    assert "--json needs a file path" in errors


def test_module_raising_at_import_exits_2(tmp_path, monkeypatch):
    (tmp_path / "clitest_broken_module.py").write_text("raise RuntimeError('broken on purpose')\n")
    monkeypatch.syspath_prepend(str(tmp_path))

    code, _, errors = run_cli("--import", "clitest_broken_module", "--list")

    assert code == EXIT_USAGE
    assert "RuntimeError: broken on purpose" in errors


# --- JSON ledger ----------------------------------------------------------------------------


@pytest.fixture
def json_ledger(passing_claims, tmp_path):
    path = tmp_path / "ledger.json"
    code, _, _ = run_cli("--claim", "clitest.*", "--profile", "ci", "--json", str(path))
    assert code == EXIT_OK
    return json.loads(path.read_text(encoding="utf-8"))


def test_json_top_level(json_ledger):
    assert json_ledger["profile"] == "ci"
    assert json_ledger["passed"] is True
    assert json_ledger["summary"] == {"claims": 2, "claims_as_expected": 2, "mutants": 1, "mutants_killed": 1}


def test_json_claim_keys(json_ledger):
    for entry in json_ledger["claims"]:
        assert {"id", "expected", "status", "evidence", "examples", "counterexample"} <= entry.keys()


def test_json_holding_claim(json_ledger):
    doubling = json_ledger["claims"][0]

    assert doubling["id"] == "clitest.doubling"
    assert doubling["status"] == "as expected"
    assert doubling["evidence"] == "exact"
    assert doubling["examples"] > 0
    assert doubling["counterexample"] is None


def test_json_refuted_claim(json_ledger):
    erratum = json_ledger["claims"][1]

    assert erratum["id"] == "clitest.erratum"
    assert erratum["expected"] == "refuted"
    assert erratum["evidence"] == "refuted"
    assert "square of the value = 25" in erratum["counterexample"]


def test_json_mutants(json_ledger):
    (mutant,) = json_ledger["mutants"]

    assert mutant["id"] == "clitest.doubling/squared"
    assert mutant["claim"] == "clitest.doubling"
    assert mutant["killed"] is True


# --- profiles -------------------------------------------------------------------------------


def test_profile_from_environment(passing_claims, monkeypatch):
    monkeypatch.setenv(profiles.PROFILE_ENV, "ci")

    code, output, _ = run_cli("--claim", "clitest.doubling")

    assert code == EXIT_OK
    assert output.startswith("Ledger (Hypothesis profile 'ci')")


def test_profile_option_beats_environment(passing_claims, monkeypatch):
    monkeypatch.setenv(profiles.PROFILE_ENV, "thorough")

    _, output, _ = run_cli("--claim", "clitest.doubling", "--profile", "ci")

    assert output.startswith("Ledger (Hypothesis profile 'ci')")


def test_unknown_environment_profile_exits_2(monkeypatch):
    monkeypatch.setenv(profiles.PROFILE_ENV, "fast")

    code, _, errors = run_cli("--list")

    assert code == EXIT_USAGE
    assert "unknown Hypothesis profile 'fast' from $HYPOTHESIS_PROFILE" in errors


def test_load_unknown_environment_profile(monkeypatch):
    monkeypatch.setenv(profiles.PROFILE_ENV, "fast")

    with pytest.raises(ValueError, match=r"HYPOTHESIS_PROFILE='fast' names no profile"):
        profiles.load_from_environment()


def test_profiles_registered():
    profiles.register_profiles()

    for name in ("dev", "ci", "thorough"):
        assert settings.get_profile(name) is not None


def test_ci_profile_reproducible():
    profiles.register_profiles()
    ci = settings.get_profile("ci")

    assert ci.derandomize is True
    assert ci.database is None
    assert ci.print_blob is True


def test_thorough_profile_examples():
    profiles.register_profiles()

    assert settings.get_profile("thorough").max_examples >= 2000


@pytest.mark.parametrize("name", profiles.PROFILES)
def test_profile_without_deadline(name):
    profiles.register_profiles()

    assert settings.get_profile(name).deadline is None


# --- atomic JSON write ----------------------------------------------------------------------


def test_atomic_write_complete(tmp_path):
    target = tmp_path / "ledger.json"
    data = {"claims": [{"id": "a.b", "examples": 3}], "passed": True}

    ledger.write_json_atomically(target, data)

    assert json.loads(target.read_text(encoding="utf-8")) == data


def test_atomic_write_leaves_no_temporary(tmp_path):
    target = tmp_path / "ledger.json"

    ledger.write_json_atomically(target, {"passed": True})

    assert sorted(p.name for p in tmp_path.iterdir()) == ["ledger.json"]


def test_atomic_write_replaces(tmp_path):
    target = tmp_path / "ledger.json"
    target.write_text('{"old": true}\n', encoding="utf-8")

    ledger.write_json_atomically(target, {"new": True})

    assert json.loads(target.read_text(encoding="utf-8")) == {"new": True}


@pytest.fixture
def old_ledger(tmp_path):
    target = tmp_path / "ledger.json"
    target.write_text('{"old": true}\n', encoding="utf-8")
    return target


def test_failed_serialization_keeps_old_file(old_ledger, monkeypatch):
    def dump_half_then_fail(data, handle, **options):
        handle.write('{"claims": [')
        raise RuntimeError("serialization failed midway")

    monkeypatch.setattr(ledger.json, "dump", dump_half_then_fail)

    with pytest.raises(RuntimeError, match="serialization failed midway"):
        ledger.write_json_atomically(old_ledger, {"new": True})

    assert old_ledger.read_text(encoding="utf-8") == '{"old": true}\n'
    assert sorted(p.name for p in old_ledger.parent.iterdir()) == ["ledger.json"]


def test_nan_keeps_old_file(old_ledger):
    with pytest.raises(ValueError):
        ledger.write_json_atomically(old_ledger, {"worst_ratio": float("nan")})

    assert old_ledger.read_text(encoding="utf-8") == '{"old": true}\n'
    assert sorted(p.name for p in old_ledger.parent.iterdir()) == ["ledger.json"]


def test_atomic_write_missing_directory(tmp_path):
    with pytest.raises(OSError):
        ledger.write_json_atomically(tmp_path / "missing" / "ledger.json", {"passed": True})


# --- the real entry point, on a claim module outside the package ----------------------------

CLAIM_MODULE = textwrap.dedent(
    """
    from hypothesis import strategies as st

    from theorems import Source, assert_equal, claim


    @claim(
        "clitestmodule.doubling",
        title="2x equals x + x",
        statement="2x = x + x",
        source=Source("command-line tests", "no published result"),
        strategy=st.integers(0, 9),
        evidence="exact",
    )
    def doubling(value, double=lambda x: 2 * x):
        assert_equal(double(value), value + value, what="2x and x + x")


    doubling.mutant("squared", description="x^2 instead of 2x", double=lambda x: x * x)
    doubling.mutant("shifted", description="x << 1, the same function", double=lambda x: x << 1)
    """
)


def run_module(tmp_path, *arguments, environment=None):
    (tmp_path / "clitest_claims.py").write_text(CLAIM_MODULE, encoding="utf-8")
    env = dict(os.environ, PYTHONPATH=str(tmp_path), **(environment or {}))
    env.pop(profiles.PROFILE_ENV, None)
    return subprocess.run(
        [sys.executable, "-m", "theorems", *arguments],
        cwd=REPOSITORY,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_surviving_mutant_exits_1(tmp_path):
    completed = run_module(tmp_path, "--import", "clitest_claims", "--claim", "clitestmodule.*", "--profile", "ci")

    assert completed.returncode == EXIT_FAILED, completed.stderr
    assert "Mutants killed: 1/2" in completed.stdout
    assert "clitestmodule.doubling/shifted survived: x << 1, the same function" in completed.stdout


def test_modules_from_environment(tmp_path):
    completed = run_module(tmp_path, "--list", "--topic", "clitestmodule", environment={"THEOREMS_MODULES": "clitest_claims"})

    assert completed.returncode == EXIT_OK, completed.stderr
    assert listed_titles(completed.stdout) == {"clitestmodule.doubling": "2x equals x + x"}
