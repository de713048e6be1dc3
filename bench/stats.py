"""Medians over repeated runs with their spread, and percentiles of one run."""

import statistics
from collections.abc import Sequence

import numpy as np


def percentile(values: Sequence[float], q: float) -> float:
    return float(np.percentile(values, q)) if values else float("nan")


def spread(runs: Sequence[float]) -> dict[str, float]:
    """The median of repeated measurements, with the smallest and largest."""
    return {"median": statistics.median(runs), "min": min(runs), "max": max(runs)}


def show(figure: dict[str, float], unit: str = "", digits: int = 1) -> str:
    """`12.3 ms (11.9–13.0)`: the median, then the spread when there was more than one run."""
    median = f"{figure['median']:.{digits}f}{unit}"
    if figure["min"] == figure["max"]:
        return median
    return f"{median} ({figure['min']:.{digits}f}–{figure['max']:.{digits}f})"
