"""pytest configuration: Hypothesis profiles and JAX settings for the whole suite.

The profile comes from ``--hypothesis-profile NAME`` (Hypothesis's pytest plugin, which wins)
or from ``HYPOTHESIS_PROFILE=NAME``; the default is ``dev``. See ``theorems/profiles.py``.
"""

import jax

# Explicit, so tests that import only strategies still run in float64.
jax.config.update("jax_enable_x64", True)

import pytest  # noqa: E402

from theorems import profiles  # noqa: E402

# Registered at import, before Hypothesis's plugin reads --hypothesis-profile in its own hook.
profiles.register_profiles()


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config: pytest.Config) -> None:
    """Load the profile named by HYPOTHESIS_PROFILE before the plugin applies its option, and
    reject an unknown profile from either source with a one-line usage error."""
    try:
        profiles.load_from_environment()
    except ValueError as error:
        raise pytest.UsageError(str(error)) from None
    requested = config.getoption("hypothesis_profile", default=None)
    if requested is not None and requested not in profiles.PROFILES:
        raise pytest.UsageError(
            f"--hypothesis-profile {requested!r} names no profile; valid profiles are {list(profiles.PROFILES)}"
        )
