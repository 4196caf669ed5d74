"""Whether a traffic split is the one asked for: the canary's count against Binomial(n, weight).

    acceptance(n, weight_percent, confidence=0.99) -> (low, high)
        the counts of canary answers among n that a split sending exactly weight% to the canary gives
        with probability at least `confidence` (central interval; each tail holds at most half the rest),
        from the binomial distribution itself, not an approximation: at 1 % of 2000 requests the normal
        approximation gives 9..31, the binomial 10..32 (the distribution is skewed near 0).
    within(n, canary, weight_percent, confidence=0.99) -> bool

Each request is routed independently by the gateway's weighted choice, so the count is binomial.
"""

import math


def _pmf(n, p):
    """P(X = k) for k = 0..n, by logs (n of a few thousand overflows floats otherwise)."""
    if p in (0.0, 1.0):
        return [1.0 if k == round(p * n) else 0.0 for k in range(n + 1)]
    log_p, log_q = math.log(p), math.log1p(-p)
    return [
        math.exp(math.lgamma(n + 1) - math.lgamma(k + 1) - math.lgamma(n - k + 1) + k * log_p + (n - k) * log_q)
        for k in range(n + 1)
    ]


def acceptance(n, weight_percent, confidence=0.99):
    if n < 1 or not 0 <= weight_percent <= 100 or not 0 < confidence < 1:
        raise ValueError(
            f"need n >= 1, 0 <= weight <= 100, 0 < confidence < 1; got {n}, {weight_percent}, {confidence}"
        )
    pmf = _pmf(n, weight_percent / 100)
    tail = (1 - confidence) / 2
    low, below = 0, 0.0
    while below + pmf[low] <= tail:
        below += pmf[low]
        low += 1
    high, above = n, 0.0
    while above + pmf[high] <= tail:
        above += pmf[high]
        high -= 1
    return low, high


def within(n, canary, weight_percent, confidence=0.99):
    low, high = acceptance(n, weight_percent, confidence)
    return low <= canary <= high
