"""Fault knobs: what the loopback venue does wrong on purpose, for failure-injection tests.

RELIABILITY.md §4 names the scenarios; each knob below serves one or more of them:

| knob                         | effect                                                   | §4  |
|------------------------------|----------------------------------------------------------|-----|
| `latency_s`, `jitter_s`      | every REST request waits this long (+ up to jitter)      | G7  |
| `drop_create_responses`      | the next N creates are ACCEPTED (the order exists), then | 5   |
|                              | answered 504 (`drop_mode` "504") or after `stall_s`      |     |
| `http_429_next`              | the next N REST requests get 429, unprocessed            | 9   |
| `http_5xx_next`              | the next N REST requests get `http_5xx_status`           | 8,10|
| `fault_paths`                | limit the two bursts to these paths (below the API root) |     |
| `html_error_bodies`          | 429/5xx bodies are HTML pages, as gateways send (§2.6)   |     |
| `ws_gap_next`                | the next N websocket frames each skip a sequence number  | 12  |
| `ws_drop_next`               | the next N frames close their connection instead (lost)  | 12  |
| `stale`                      | the market stops advancing (no bar, no tick) until unset | 11  |
| `duplicate_client_order_id`  | "original" returns the first order; "error" answers      | 6   |
|                              | success=false DUPLICATE_CLIENT_ORDER_ID (both seen, §2.2)|     |
| `can_trade`, `can_transfer`  | what GET /key_permissions says; no trade means 403       | 22  |

Counters count down as they fire, so a burst is exactly N requests or frames, and the
order is the order requests reach the venue: deterministic given the clock and seed.
Knobs are set at construction (`VenueSettings.faults`) or, while running, through
`POST /__sim/faults` with a JSON object of the knobs to change.
"""

import random
from typing import Final, Literal

import msgspec

__all__ = ["FaultBoard", "FaultError", "Faults"]

_SERVER_ERRORS: Final = frozenset({500, 502, 503, 504})


class FaultError(ValueError):
    """A fault setting that is out of range or unknown; the message names it."""


class Faults(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """The knobs (see the module table); every default means "behave like the venue"."""

    latency_s: float = 0.0
    jitter_s: float = 0.0
    drop_create_responses: int = 0
    drop_mode: Literal["504", "stall"] = "504"
    stall_s: float = 30.0
    http_429_next: int = 0
    http_5xx_next: int = 0
    http_5xx_status: int = 503
    fault_paths: tuple[str, ...] = ()
    html_error_bodies: bool = False
    ws_gap_next: int = 0
    ws_drop_next: int = 0
    stale: bool = False
    duplicate_client_order_id: Literal["original", "error"] = "original"
    can_trade: bool = True
    can_transfer: bool = False

    def __post_init__(self) -> None:
        problem = _problem(self)
        if problem:
            raise FaultError(f"bad fault setting: {problem}")


def _problem(faults: Faults) -> str:
    durations = (faults.latency_s, faults.jitter_s, faults.stall_s)
    if not all(0 <= d < 3600 for d in durations):
        return "latency_s, jitter_s and stall_s must be in [0, 3600) seconds"
    counters = (
        faults.drop_create_responses,
        faults.http_429_next,
        faults.http_5xx_next,
        faults.ws_gap_next,
        faults.ws_drop_next,
    )
    if any(c < 0 for c in counters):
        return "counters must not be negative"
    if faults.http_5xx_status not in _SERVER_ERRORS:
        return f"http_5xx_status must be one of {sorted(_SERVER_ERRORS)}"
    if any(not p.startswith("/") for p in faults.fault_paths):
        return "fault_paths are paths below /api/v3/brokerage, starting with '/'"
    return ""


class FaultBoard:
    """The live knobs, and the one place a counter is spent.

    `rng` draws the latency jitter, so a seeded venue delays the same way each run.
    """

    def __init__(self, faults: Faults, rng: random.Random) -> None:
        self._faults = faults
        self._rng = rng

    @property
    def current(self) -> Faults:
        return self._faults

    def update(self, changes: bytes) -> Faults:
        """Apply a JSON object of knob changes; the rest keep their values.

        Raises:
            FaultError: not a JSON object, an unknown knob, a wrong type or a bad value.
        """
        try:
            patch = msgspec.json.decode(changes, type=dict[str, object])
            merged = msgspec.to_builtins(self._faults) | patch
            self._faults = msgspec.convert(merged, Faults)
        except (msgspec.DecodeError, msgspec.ValidationError) as exc:
            raise FaultError(f"bad fault settings: {exc}") from exc
        return self._faults

    def latency_s(self) -> float:
        """This request's added delay."""
        f = self._faults
        if f.jitter_s == 0:
            return f.latency_s
        return f.latency_s + f.jitter_s * self._rng.random()

    def take_http_burst(self, path: str) -> int | None:
        """The status to answer `path` (below the API root) with instead, if a burst is on."""
        f = self._faults
        if f.fault_paths and path not in f.fault_paths:
            return None
        if f.http_429_next:
            self._faults = msgspec.structs.replace(f, http_429_next=f.http_429_next - 1)
            return 429
        if f.http_5xx_next:
            self._faults = msgspec.structs.replace(f, http_5xx_next=f.http_5xx_next - 1)
            return f.http_5xx_status
        return None

    def take_drop_create(self) -> bool:
        """Whether this accepted create's response is to be lost."""
        f = self._faults
        if not f.drop_create_responses:
            return False
        self._faults = msgspec.structs.replace(f, drop_create_responses=f.drop_create_responses - 1)
        return True

    def take_ws_gap(self) -> bool:
        """Whether this frame skips a sequence number."""
        f = self._faults
        if not f.ws_gap_next:
            return False
        self._faults = msgspec.structs.replace(f, ws_gap_next=f.ws_gap_next - 1)
        return True

    def take_ws_drop(self) -> bool:
        """Whether this frame is lost and its connection closed."""
        f = self._faults
        if not f.ws_drop_next:
            return False
        self._faults = msgspec.structs.replace(f, ws_drop_next=f.ws_drop_next - 1)
        return True
