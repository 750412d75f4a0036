"""Hypothesis strategies that draw the inputs of the claims.

Strategies are plural nouns for what they draw; each states its bounds and how it shrinks.
"""

from strategies.linalg import dimensions, matrices, vectors
from strategies.numbers import dyadics, entries, scales

__all__ = ["dimensions", "dyadics", "entries", "matrices", "scales", "vectors"]
