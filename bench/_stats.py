"""Shared helpers for the benchmark scripts: percentiles and a fixed report format."""

import statistics
from collections.abc import Sequence


def percentile(sorted_ns: Sequence[int], fraction: float) -> int:
    """Nearest-rank percentile of an ascending sequence."""
    index = max(0, min(len(sorted_ns) - 1, round(fraction * len(sorted_ns)) - 1))
    return sorted_ns[index]


def summarize(samples_ns: list[int]) -> tuple[float, float]:
    """(p50, p99) in microseconds."""
    ordered = sorted(samples_ns)
    return percentile(ordered, 0.50) / 1000, percentile(ordered, 0.99) / 1000


def median_of_runs(runs: list[tuple[float, float]]) -> tuple[float, float]:
    """The median p50 and the median p99 over several runs."""
    return statistics.median(r[0] for r in runs), statistics.median(r[1] for r in runs)


def report(name: str, p50_us: float, p99_us: float, extra: str = "") -> None:
    print(f"{name:44} p50 {p50_us:8.2f} us   p99 {p99_us:8.2f} us   {extra}")
