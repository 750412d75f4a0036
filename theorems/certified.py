"""Certified Monte Carlo tests of a mean, with stated error rates and derived sample sizes.

A Monte Carlo check of an identity E[L] = m draws i.i.d. samples of L and rejects the identity
when m lies outside a confidence interval for E[L]. The test has two error rates:

- false alarm rate ``alpha``: a true identity is rejected with probability at most alpha
  (default 1e-9 per check, so 1000 checks in a run still stay under 1e-6);
- false pass rate ``beta``: when |E[L] - m| >= ``discrepancy``, the test passes with
  probability at most beta.

The interval is valid for every distribution on a known range [low, high] with a known upper
bound V on the variance. Bernstein's inequality gives, for n samples and each tail,

.. math:: P(\\pm(\\bar L - E L) \\ge t) \\le \\exp\\left(-\\frac{n t^2}{2V + 2bt/3}\\right),
          \\qquad b = high - low,

so the half-width at rate r is h(n, r) = b ell/(3n) + sqrt((b ell/(3n))^2 + 2 V ell/n) with
ell = log(1/r). The test uses r = alpha/2 on each side, and the design picks the least n with
h(n, alpha/2) + h(n, beta) <= discrepancy. Then n ~ 2V (sqrt(log(2/alpha)) +
sqrt(log(1/beta)))^2 / discrepancy^2 + O(b/discrepancy), so it grows like log(1/alpha) / discrepancy^2
in units of the variance, where the DKWM test of TensorFlow Probability
(``min_num_samples_for_dkwm_mean_test``) needs n = 2 b^2 log(2/min(alpha, beta)) / discrepancy^2,
in units of the squared range. When V is much smaller than b^2 (a loose range, a concentrated
distribution) the Bernstein design needs far fewer samples; :class:`MeanTestDesign` reports
the ratio. Without a variance bound, :func:`empirical_bernstein_interval` (Maurer and Pontil,
"Empirical Bernstein bounds and sample variance penalization", COLT 2009, theorem 4) uses the
sample variance instead.

Floating-point samples differ from the exact values by at most a stated ``rounding`` bound,
which widens the interval on both sides. Seeds are fixed by default (:data:`DEFAULT_SEED`),
overridable with the environment variable ``THEOREMS_SEED``, and logged in the ledger.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import numpy as np

from theorems._context import record_details, record_ratio
from theorems.closeness import assert_that

__all__ = [
    "DEFAULT_ALPHA",
    "DEFAULT_BETA",
    "DEFAULT_SEED",
    "SEED_ENV",
    "MeanInterval",
    "MeanTestDesign",
    "assert_true_mean_equal",
    "bernstein_half_width",
    "bernstein_interval",
    "binomial_tail_above",
    "binomial_upper_quantile",
    "default_seed",
    "design_mean_test",
    "dkwm_interval",
    "dkwm_sample_count",
    "empirical_bernstein_interval",
]

DEFAULT_ALPHA = 1e-9
DEFAULT_BETA = 1e-3
DEFAULT_SEED = 20140601
SEED_ENV = "THEOREMS_SEED"


def default_seed() -> int:
    """Return the seed from ``THEOREMS_SEED`` if set, else :data:`DEFAULT_SEED`.

    Raises:
        ValueError: the variable is not a non-negative integer.
    """
    text = os.environ.get(SEED_ENV)
    if text is None or text == "":
        return DEFAULT_SEED
    try:
        seed = int(text)
    except ValueError:
        seed = -1
    if seed < 0:
        raise ValueError(f"{SEED_ENV}={text!r} is invalid: set it to a non-negative integer")
    return seed


def _check_rate(name: str, rate: float) -> None:
    if not 0.0 < rate < 1.0:
        raise ValueError(f"{name}={rate!r} is invalid: an error rate must lie in (0, 1)")


def _check_range(low: float, high: float) -> None:
    if not (math.isfinite(low) and math.isfinite(high) and low <= high):
        raise ValueError(f"range [low, high] = [{low!r}, {high!r}] is invalid: need finite low <= high")


def bernstein_half_width(samples: int, width: float, variance_bound: float, rate: float) -> float:
    """Return the one-sided Bernstein deviation t with exp(-n t^2 / (2V + 2bt/3)) = rate."""
    ell = math.log(1.0 / rate)
    linear = width * ell / (3.0 * samples)
    return linear + math.sqrt(linear * linear + 2.0 * variance_bound * ell / samples)


def dkwm_sample_count(discrepancy: float, low: float, high: float, alpha: float, beta: float) -> int:
    """Return the sample count of the one-sample DKWM mean test for the same error rates:
    each of the two CDF envelopes gets half the discrepancy, in units of the range."""
    _check_rate("alpha", alpha)
    _check_rate("beta", beta)
    _check_range(low, high)
    if discrepancy <= 0.0:
        return math.inf  # type: ignore[return-value]
    envelope = discrepancy / (2.0 * (high - low)) if high > low else math.inf
    if math.isinf(envelope):
        return 1
    worst = max(math.log(2.0 / alpha), math.log(2.0 / beta))
    return math.ceil(worst / (2.0 * envelope**2))


@dataclass(frozen=True)
class MeanTestDesign:
    """A planned mean test: error rates, the discrepancy it detects, and its sample count.

    ``samples`` is the least Bernstein sample count for ``discrepancy``, capped at the
    ``max_samples`` given to :func:`design_mean_test`. ``detectable`` is the discrepancy the
    chosen count detects at rate ``beta``, which exceeds ``discrepancy`` only when capped.
    """

    alpha: float
    beta: float
    discrepancy: float
    low: float
    high: float
    variance_bound: float
    samples: int
    detectable: float
    dkwm_samples: float

    @property
    def capped(self) -> bool:
        return self.detectable > self.discrepancy

    @property
    def ratio_to_dkwm(self) -> float:
        """Samples this design uses per sample the DKWM design needs (below 1: fewer)."""
        return self.samples / self.dkwm_samples if self.dkwm_samples > 0 else math.inf


def _detectable(samples: int, width: float, variance_bound: float, alpha: float, beta: float) -> float:
    return bernstein_half_width(samples, width, variance_bound, alpha / 2.0) + bernstein_half_width(
        samples, width, variance_bound, beta
    )


def design_mean_test(
    discrepancy: float,
    *,
    low: float,
    high: float,
    variance_bound: float,
    alpha: float = DEFAULT_ALPHA,
    beta: float = DEFAULT_BETA,
    min_samples: int = 2,
    max_samples: int = 1 << 16,
) -> MeanTestDesign:
    """Plan a Bernstein mean test that detects ``discrepancy`` with false pass rate ``beta``.

    Returns the least n in [min_samples, max_samples] with h(n, alpha/2) + h(n, beta) <=
    discrepancy (see the module docstring), or max_samples when none is; a discrepancy of 0
    (nothing to detect, e.g. a constant sample) gets ``min_samples``.

    Raises:
        ValueError: a rate outside (0, 1), an invalid range, a negative variance bound or
            discrepancy, or min_samples > max_samples.
    """
    _check_rate("alpha", alpha)
    _check_rate("beta", beta)
    _check_range(low, high)
    if not variance_bound >= 0.0:
        raise ValueError(f"variance_bound={variance_bound!r} is invalid: need a number >= 0")
    if not discrepancy >= 0.0:
        raise ValueError(f"discrepancy={discrepancy!r} is invalid: need a number >= 0")
    if not 2 <= min_samples <= max_samples:
        raise ValueError(
            f"min_samples={min_samples!r}, max_samples={max_samples!r} are invalid: need "
            "2 <= min_samples <= max_samples"
        )
    width = high - low
    variance_bound = min(variance_bound, width * width / 4.0)  # Popoviciu: Var <= (b - a)^2 / 4
    samples = _least_samples(discrepancy, width, variance_bound, alpha, beta, min_samples, max_samples)
    return MeanTestDesign(
        alpha=alpha,
        beta=beta,
        discrepancy=discrepancy,
        low=low,
        high=high,
        variance_bound=variance_bound,
        samples=samples,
        detectable=_detectable(samples, width, variance_bound, alpha, beta),
        dkwm_samples=dkwm_sample_count(discrepancy, low, high, alpha, beta) if discrepancy > 0 else math.inf,
    )


def _least_samples(
    discrepancy: float, width: float, variance: float, alpha: float, beta: float, lowest: int, highest: int
) -> int:
    if discrepancy == 0.0:
        return lowest

    def detects(n: int) -> bool:
        return _detectable(n, width, variance, alpha, beta) <= discrepancy

    if detects(lowest):
        return lowest
    if not detects(highest):
        return highest
    # The detectable discrepancy decreases in n, so bisect between a failing and a passing n.
    failing, passing = lowest, highest
    while passing - failing > 1:
        middle = (failing + passing) // 2
        if detects(middle):
            passing = middle
        else:
            failing = middle
    return passing


@dataclass(frozen=True)
class MeanInterval:
    """A confidence interval [low, high] for a true mean, from ``samples`` draws."""

    estimate: float
    low: float
    high: float
    samples: int
    method: str

    def contains(self, value: float) -> bool:
        return self.low <= value <= self.high


def _validated_samples(samples: Any, low: float, high: float, rounding: float) -> np.ndarray:
    values = np.asarray(samples, dtype=np.float64).reshape(-1)
    if values.size < 2:
        raise ValueError(f"a mean test needs at least 2 samples, got {values.size}")
    if not np.all(np.isfinite(values)):
        raise ValueError("the samples contain NaN or infinity; the sampled quantity must be finite")
    outside = (values < low - rounding) | (values > high + rounding)
    if outside.any():
        worst = values[outside][0]
        raise ValueError(
            f"sample {worst!r} lies outside the declared range [{low!r}, {high!r}] (plus rounding "
            f"{rounding:.3g}); the range bound of the sampled quantity is wrong"
        )
    return values


def _mean_with_rounding(values: np.ndarray, width: float) -> tuple[float, float]:
    # math.fsum is correctly rounded, so the computed mean is off by at most two roundings.
    mean = math.fsum(values.tolist()) / values.size
    return mean, 2.0 * np.finfo(np.float64).eps * (abs(mean) + width)


def bernstein_interval(
    samples: Any,
    *,
    low: float,
    high: float,
    variance_bound: float,
    alpha: float = DEFAULT_ALPHA,
    rounding: float = 0.0,
) -> MeanInterval:
    """Return a two-sided Bernstein interval for the mean, valid with probability 1 - alpha
    for any distribution on [low, high] with variance <= ``variance_bound``.

    ``rounding`` bounds the floating-point error of each sample; it widens the interval.

    Raises:
        ValueError: fewer than 2 samples, a non-finite sample, or a sample outside the range.
    """
    _check_rate("alpha", alpha)
    _check_range(low, high)
    values = _validated_samples(samples, low, high, rounding)
    width = high - low
    variance = min(variance_bound, width * width / 4.0)
    mean, summation = _mean_with_rounding(values, width)
    half = bernstein_half_width(values.size, width, variance, alpha / 2.0) + rounding + summation
    return MeanInterval(mean, mean - half, mean + half, values.size, "bernstein")


def empirical_bernstein_interval(
    samples: Any, *, low: float, high: float, alpha: float = DEFAULT_ALPHA, rounding: float = 0.0
) -> MeanInterval:
    """Return a two-sided empirical Bernstein interval (Maurer and Pontil 2009, theorem 4):
    half-width sqrt(2 V_n ell / n) + 7 b ell / (3 (n - 1)) with ell = log(4 / alpha), V_n the
    unbiased sample variance and b = high - low; valid with probability 1 - alpha.

    Raises:
        ValueError: fewer than 2 samples, a non-finite sample, or a sample outside the range.
    """
    _check_rate("alpha", alpha)
    _check_range(low, high)
    values = _validated_samples(samples, low, high, rounding)
    n = values.size
    width = high - low
    mean, summation = _mean_with_rounding(values, width)
    variance = float(np.var(values, ddof=1))
    ell = math.log(4.0 / alpha)
    half = math.sqrt(2.0 * variance * ell / n) + 7.0 * width * ell / (3.0 * (n - 1))
    half += rounding + summation
    return MeanInterval(mean, mean - half, mean + half, n, "empirical bernstein")


def dkwm_interval(samples: Any, *, low: float, high: float, alpha: float = DEFAULT_ALPHA) -> MeanInterval:
    """Return the DKWM interval for the mean: the means of the empirical CDF shifted by
    eps = sqrt(log(2 / alpha) / (2n)) towards each end of the range."""
    _check_rate("alpha", alpha)
    _check_range(low, high)
    values = np.sort(_validated_samples(samples, low, high, 0.0))
    n = values.size
    eps = min(1.0, math.sqrt(math.log(2.0 / alpha) / (2.0 * n)))
    # Moving probability eps from the largest samples to `low` gives the least mean. Moving it
    # from the smallest samples to `high` gives the largest. Each sample carries mass 1/n.
    cumulative = np.arange(1, n + 1) / n
    from_low = np.clip(cumulative - eps, 0.0, 1.0 / n)
    least = float(np.sum(values[::-1] * from_low)) + eps * low
    greatest = float(np.sum(values * from_low)) + eps * high
    mean = float(np.mean(values))
    return MeanInterval(mean, min(least, mean), max(greatest, mean), n, "dkwm")


def assert_true_mean_equal(
    samples: Any,
    expected: float,
    design: MeanTestDesign,
    *,
    seed: int,
    rounding: float = 0.0,
    what: str = "mean",
) -> MeanInterval:
    """Reject the claim E[sample] == expected when ``expected`` lies outside the Bernstein
    interval at the design's false alarm rate; record the certificate in the ledger.

    ``rounding`` bounds the floating-point error of each sample and of ``expected``.

    Raises:
        ClaimViolation: ``expected`` lies outside the interval.
        ValueError: the samples break the design's range.
    """
    interval = bernstein_interval(
        samples,
        low=design.low,
        high=design.high,
        variance_bound=design.variance_bound,
        alpha=design.alpha,
        rounding=2.0 * rounding,
    )
    # Aggregated over a claim's examples by the ledger: _min/_max keep extremes, _count sums.
    details: dict[str, Any] = dict(
        alpha=design.alpha,
        beta=design.beta,
        seed=seed,
        checks_count=1,
        samples_min=interval.samples,
        samples_max=interval.samples,
        capped_count=int(design.capped),
        last_interval=(interval.low, interval.high),
        last_expected=float(expected),
    )
    if not design.capped and math.isfinite(design.dkwm_samples):
        # Only an uncapped design with something to detect (a nonzero discrepancy) compares
        # with DKWM at the same rates.
        details["dkwm_samples_max"] = design.dkwm_samples
        details["ratio_to_dkwm_min"] = design.ratio_to_dkwm
        details["ratio_to_dkwm_max"] = design.ratio_to_dkwm
    record_details(**details)
    # The ledger's err/tol for a certified claim: distance to the estimate over the half-width.
    half_width = (interval.high - interval.low) / 2.0
    distance = abs(float(expected) - interval.estimate)
    if distance == 0.0:
        record_ratio(0.0)
    elif half_width > 0:
        record_ratio(distance / half_width)
    else:
        record_ratio(math.inf)
    assert_that(
        interval.contains(expected),
        f"{what}: expected value {expected!r} lies outside the {1 - design.alpha:.10g} Bernstein "
        f"interval [{interval.low!r}, {interval.high!r}] around the sample mean "
        f"{interval.estimate!r} of {interval.samples} samples (seed {seed}, range "
        f"[{design.low:.6g}, {design.high:.6g}], variance bound {design.variance_bound:.6g})",
    )
    return interval


def binomial_tail_above(trials: int, rate: Fraction | float, count: int) -> Fraction:
    """Return P(Binomial(trials, rate) > count) exactly, for a rational (or float) ``rate``.

    The terms above ``count`` are summed over the common denominator of the rate, in integers."""
    rate = Fraction(rate)
    if count < 0:
        return Fraction(1)
    hit, total = rate.numerator, rate.denominator
    numerator = sum(math.comb(trials, k) * hit**k * (total - hit) ** (trials - k) for k in range(count + 1, trials + 1))
    return Fraction(numerator, total**trials)


def binomial_upper_quantile(trials: int, rate: Fraction | float, level: float) -> int:
    """Return the least k with P(Binomial(trials, rate) > k) <= level, computed exactly.

    A count of independent events, each with probability at most ``rate``, exceeds k with
    probability at most ``level``.

    Raises:
        ValueError: trials < 1, or rate or level outside (0, 1).
    """
    if not (isinstance(trials, int) and trials >= 1):
        raise ValueError(f"trials={trials!r} is invalid: need an integer >= 1")
    _check_rate("rate", float(rate))
    _check_rate("level", level)
    rate = Fraction(rate)
    tail = Fraction(1)
    for k in range(trials + 1):
        tail -= math.comb(trials, k) * rate**k * (1 - rate) ** (trials - k)
        if tail <= level:
            return k
    return trials
