"""Figures over repeated runs: median with min and max, and ratios of medians taken in the same run."""

import statistics


def summary(values, unit="s", digits=3):
    """{median, min, max, n, values, unit} of the numbers in values (None entries are dropped)."""
    vals = [v for v in values if v is not None]
    if not vals:
        return {"median": None, "min": None, "max": None, "n": 0, "values": [], "unit": unit}

    def r(x):
        return round(x, digits)

    return {
        "median": r(statistics.median(vals)),
        "min": r(min(vals)),
        "max": r(max(vals)),
        "n": len(vals),
        "values": [r(v) for v in vals],
        "unit": unit,
    }


def ratio(numerator, denominator, digits=2):
    """median(numerator) / median(denominator), or None when either is missing or the denominator is 0."""
    a, b = numerator.get("median"), denominator.get("median")
    if a is None or not b:
        return None
    return round(a / b, digits)
