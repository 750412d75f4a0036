"""Hypothesis settings profiles used by pytest and by ``python -m theorems``.

- ``dev`` (default): 100 examples, Hypothesis's example database on, so a failure found once
  is replayed first next time.
- ``ci``: derandomized (the same examples on every run), no example database writes, and
  ``print_blob`` so a failure prints the reproduce-failure blob.
- ``thorough``: 2000 examples, for a deeper run before a release.

Every profile disables the per-example deadline. The first call of a JAX function compiles it,
which can take a second, and a deadline would report that compile as a slow example or, on
replay, as a Flaky error. Select a profile with ``--hypothesis-profile NAME`` (pytest) or
``--profile NAME`` (``python -m theorems``), or set ``HYPOTHESIS_PROFILE=NAME``.
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, Phase, settings

__all__ = ["DEFAULT_PROFILE", "PROFILES", "PROFILE_ENV", "load_from_environment", "register_profiles"]

DEFAULT_PROFILE = "dev"
PROFILE_ENV = "HYPOTHESIS_PROFILE"
PROFILES: tuple[str, ...] = ("dev", "ci", "thorough")

# The first example of a claim pays for JAX tracing and compilation; that is not a slow strategy.
_SUPPRESSED = [HealthCheck.too_slow]

# Every phase but "explain": its coverage report re-runs the shrunk example hundreds of times
# (seconds per JAX claim) and reports line coverage, which adds nothing to a counterexample.
_PHASES = [Phase.explicit, Phase.reuse, Phase.generate, Phase.target, Phase.shrink]


def register_profiles() -> None:
    """Register the ``dev``, ``ci`` and ``thorough`` profiles with Hypothesis (idempotent)."""
    settings.register_profile(
        "dev", max_examples=100, deadline=None, suppress_health_check=_SUPPRESSED, phases=_PHASES
    )
    settings.register_profile(
        "ci",
        max_examples=100,
        deadline=None,
        derandomize=True,
        database=None,
        print_blob=True,
        suppress_health_check=_SUPPRESSED, phases=_PHASES,
    )
    settings.register_profile(
        "thorough", max_examples=2000, deadline=None, suppress_health_check=_SUPPRESSED, phases=_PHASES
    )


def load_from_environment() -> str:
    """Load the profile named by ``HYPOTHESIS_PROFILE`` (default ``dev``) and return its name.

    Raises:
        ValueError: the variable names no registered profile.
    """
    register_profiles()
    name = os.environ.get(PROFILE_ENV, DEFAULT_PROFILE)
    if name not in PROFILES:
        raise ValueError(
            f"{PROFILE_ENV}={name!r} names no profile; valid profiles are {list(PROFILES)}"
        )
    settings.load_profile(name)
    return name
