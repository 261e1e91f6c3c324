"""``Stat``: the mean of a few repeats with their spread and a 95 % confidence interval.

Few repeats (5 by default) make the normal approximation too narrow, so the interval uses
Student's t: mean +- t(0.975, n - 1) x s / sqrt(n), s the sample standard deviation (n - 1).
The t quantiles are the standard table's (no SciPy in the core), interpolated linearly in
1 / df between its rows, and reaching the normal 1.96 as df grows without bound.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass
from typing import Any

from greenai_core.errors import UsageError

STUDENT_T = "student-t"
SINGLE_RUN = "single run"

#: t(0.975, df), two-sided 95 %, from the standard tables (4 decimals).
_T975: dict[int, float] = {
    1: 12.7062, 2: 4.3027, 3: 3.1824, 4: 2.7764, 5: 2.5706, 6: 2.4469, 7: 2.3646, 8: 2.3060, 9: 2.2622,
    10: 2.2281, 11: 2.2010, 12: 2.1788, 13: 2.1604, 14: 2.1448, 15: 2.1314, 16: 2.1199, 17: 2.1098, 18: 2.1009,
    19: 2.0930, 20: 2.0860, 21: 2.0796, 22: 2.0739, 23: 2.0687, 24: 2.0639, 25: 2.0595, 26: 2.0555, 27: 2.0518,
    28: 2.0484, 29: 2.0452, 30: 2.0423, 40: 2.0211, 60: 2.0003, 120: 1.9799,
}
_Z975 = 1.9600


def t975(df: int) -> float:
    """Student's t quantile at 0.975 for ``df`` degrees of freedom (df >= 1)."""
    if df < 1:
        raise ValueError(f"degrees of freedom must be at least 1, not {df}")
    if df in _T975:
        return _T975[df]
    rows = sorted(_T975)
    upper = next((r for r in rows if r > df), None)
    lower = max(r for r in rows if r < df)
    # Linear in 1/df: the quantile is close to linear in it (and 1/df -> 0 is the normal's 1.96).
    hi_x, hi_t = (1.0 / upper, _T975[upper]) if upper is not None else (0.0, _Z975)
    lo_x, lo_t = 1.0 / lower, _T975[lower]
    x = 1.0 / df
    return hi_t + (lo_t - hi_t) * (x - hi_x) / (lo_x - hi_x)


@dataclass(frozen=True)
class Stat:
    """One figure over the repeats: mean, sample std, the 95 % interval, how many values, how it was computed.

    ``method`` is "student-t", or "single run" when there was one value (std 0, the interval is the value).
    """

    mean: float
    std: float
    ci95_low: float
    ci95_high: float
    n: int
    method: str = STUDENT_T

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Stat:
        try:
            figures = {k: float(data[k]) for k in ("mean", "std", "ci95_low", "ci95_high")}
            n = data["n"]
            if isinstance(n, bool) or not isinstance(n, int) or n < 1:
                raise ValueError(f"n is {n!r}")
            if not all(math.isfinite(v) for v in figures.values()):
                raise ValueError("a figure is not finite")
            return cls(**figures, n=n, method=str(data.get("method", STUDENT_T)))
        except (KeyError, TypeError, ValueError) as exc:
            raise UsageError(f"not a greenai statistic: {exc}") from None

    def scaled(self, factor: float) -> Stat:
        """The same figure in another unit (every value times ``factor`` >= 0)."""
        return Stat(self.mean * factor, self.std * factor, self.ci95_low * factor, self.ci95_high * factor,
                    self.n, self.method)


def summarise(values: Iterable[float]) -> Stat:
    """Mean, sample standard deviation and Student-t 95 % interval of ``values`` (at least one, all finite)."""
    data = [float(v) for v in values]
    if not data:
        raise UsageError("no values to summarise")
    if not all(math.isfinite(v) for v in data):
        raise UsageError(f"cannot summarise values that are not finite: {data}")
    n = len(data)
    mean = math.fsum(data) / n
    if n == 1:
        return Stat(mean, 0.0, mean, mean, 1, SINGLE_RUN)
    std = math.sqrt(math.fsum((v - mean) ** 2 for v in data) / (n - 1))
    half = t975(n - 1) * std / math.sqrt(n)
    low = mean - half
    # Energies and times are never negative: an interval reaching below 0 is cut at 0 only when every value is >= 0.
    if low < 0 and min(data) >= 0:
        low = 0.0
    return Stat(mean, std, low, mean + half, n)
