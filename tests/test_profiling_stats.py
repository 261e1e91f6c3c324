"""Stat and summarise: mean, sample std and the Student-t 95 % interval, against hand computations."""

from __future__ import annotations

import math

import pytest

from greenai_core.errors import UsageError
from greenai_core.profiling.stats import Stat, summarise, t975


def test_one_to_five_matches_the_hand_computation() -> None:
    stat = summarise([1, 2, 3, 4, 5])
    # mean 3; std sqrt(10 / 4) = 1.5811; half-width t(0.975, 4) x std / sqrt(5) = 2.7764 x 0.70711 = 1.96322
    assert stat.mean == 3.0 and stat.n == 5 and stat.method == "student-t"
    assert stat.std == pytest.approx(1.5811388, abs=1e-7)
    assert stat.ci95_low == pytest.approx(3 - 1.9632119, abs=1e-6)
    assert stat.ci95_high == pytest.approx(3 + 1.9632119, abs=1e-6)


def test_one_value_is_a_single_run_with_no_spread() -> None:
    assert summarise([2.5]) == Stat(2.5, 0.0, 2.5, 2.5, 1, "single run")


def test_equal_values_have_a_zero_width_interval() -> None:
    assert summarise([0.1] * 4) == Stat(0.1, 0.0, 0.1, 0.1, 4)


def test_the_interval_of_non_negative_figures_stops_at_zero() -> None:
    stat = summarise([0.0, 0.0, 3.0])
    assert stat.ci95_low == 0.0 and stat.ci95_high == pytest.approx(1 + 4.3027 * math.sqrt(3) / math.sqrt(3))
    assert summarise([-1.0, 1.0]).ci95_low == pytest.approx(-12.7062 * math.sqrt(2) / math.sqrt(2))


def test_t_quantiles_from_the_table_and_between_its_rows() -> None:
    assert t975(1) == 12.7062 and t975(4) == 2.7764 and t975(30) == 2.0423 and t975(120) == 1.9799
    # between 30 and 40, linear in 1/df
    expected = 2.0211 + (2.0423 - 2.0211) * (1 / 35 - 1 / 40) / (1 / 30 - 1 / 40)
    assert t975(35) == pytest.approx(expected, abs=1e-12)
    assert t975(1000) == pytest.approx(1.9623, abs=1e-4)  # tables: 1.9623
    assert t975(10**9) == pytest.approx(1.96, abs=1e-6)
    with pytest.raises(ValueError):
        t975(0)


@pytest.mark.parametrize("values", [[], [1.0, float("nan")], [float("inf")]])
def test_no_values_or_non_finite_ones_are_refused(values: list[float]) -> None:
    with pytest.raises(UsageError):
        summarise(values)


def test_dict_round_trip_and_scaling() -> None:
    stat = summarise([1.0, 3.0])
    assert Stat.from_dict(stat.to_dict()) == stat
    assert stat.scaled(2.0).mean == 4.0 and stat.scaled(2.0).n == 2
    with pytest.raises(UsageError):
        Stat.from_dict({**stat.to_dict(), "n": 0})
    with pytest.raises(UsageError):
        Stat.from_dict({**stat.to_dict(), "mean": float("nan")})


def _t_cdf(t: float, df: int, intervals: int = 1000) -> float:
    """P(T <= t) for Student's t with ``df`` degrees of freedom: 1/2 + Simpson's rule on the density over [0, t]."""
    const = math.exp(math.lgamma((df + 1) / 2) - math.lgamma(df / 2)) / math.sqrt(df * math.pi)

    def density(x: float) -> float:
        return const * (1 + x * x / df) ** (-(df + 1) / 2)

    h = t / intervals
    inner = sum((4 if k % 2 else 2) * density(k * h) for k in range(1, intervals))
    return 0.5 + h / 3 * (density(0.0) + inner + density(t))


def _t_quantile(df: int) -> float:
    low, high = 1.0, 20.0
    for _ in range(40):
        mid = (low + high) / 2
        low, high = (mid, high) if _t_cdf(mid, df) < 0.975 else (low, mid)
    return (low + high) / 2


@pytest.mark.parametrize("df", [*range(1, 31), 40, 60, 120])
def test_every_row_of_the_t_table_is_the_975_quantile_to_four_decimals(df: int) -> None:
    # Computed here from the t density itself (no table): a mistyped row of _T975 fails.
    assert abs(t975(df) - _t_quantile(df)) <= 5.1e-5
