"""pytest configuration: Hypothesis profiles and JAX settings for the whole suite.

The profile comes from ``--hypothesis-profile NAME`` (Hypothesis's pytest plugin, which wins)
or from ``HYPOTHESIS_PROFILE=NAME``; the default is ``dev``. See ``theorems/profiles.py``.
"""

import jax

# Explicit, so tests that import only strategies still run in float64.
jax.config.update("jax_enable_x64", True)

from theorems import profiles  # noqa: E402

profiles.load_from_environment()
