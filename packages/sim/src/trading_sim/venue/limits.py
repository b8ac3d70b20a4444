"""The venue's request limits: one token bucket per client, 429 beyond (§2.6).

Coinbase limits private REST per user (~30 requests/s) and public REST per address
(~10/s). A bucket of capacity r refilled at r tokens/s admits a burst of r and then r
per second; the arithmetic is `trading_coinbase.ratelimit.take`, the same exact
integer bucket the client keeps below these figures, run here on the venue clock.
"""

from trading_coinbase.ratelimit import BucketLimits, BucketState, CallKind, full_bucket, take

__all__ = ["ClientBuckets"]


class ClientBuckets:
    """Buckets keyed by client (key name or address); a rate of 0 admits everything."""

    def __init__(self, rate_per_s: int) -> None:
        self._limits = (
            None if rate_per_s == 0 else BucketLimits(rate_per_s=rate_per_s, capacity=rate_per_s)
        )
        self._buckets: dict[str, BucketState] = {}

    @property
    def rate_per_s(self) -> int:
        return 0 if self._limits is None else self._limits.rate_per_s

    def admit(self, client: str, now_ns: int) -> bool:
        """Take a token for `client` at `now_ns`; False means answer 429."""
        if self._limits is None:
            return True
        state = self._buckets.get(client) or full_bucket(self._limits, now_ns)
        self._buckets[client], wait_ns = take(self._limits, state, CallKind.ORDINARY, now_ns)
        return wait_ns == 0
