"""The schema of safety.yaml, and what loading it yields: frozen msgspec Structs.

GateConfig holds every limit the gate enforces; every key is required and none has a
default. `trading_gate.config` loads a file into a LoadedConfig or refuses it with a
ConfigError listing every ConfigProblem, and reloads it into a ReloadOutcome.
"""

from decimal import Decimal
from typing import Annotated, Literal, TypeAlias

import msgspec

from trading_contract import ProductId

__all__ = [
    "AccountLimits",
    "ConfigError",
    "ConfigProblem",
    "ConfigUnreadable",
    "DeadMan",
    "GateConfig",
    "Keys",
    "LoadedConfig",
    "OnHalt",
    "ProductLimits",
    "ReferencePrice",
    "ReloadOutcome",
    "ReloadRefused",
    "Reloaded",
    "RepeatedExecution",
    "Throttle",
    "Throttles",
]

# ---------------------------------------------------------------- value types
# Decimal limits carry their expectation (and any ceiling) in `extra`: msgspec has no
# bounds for Decimal, so the schema walk in trading_gate.config reads them from there.
# Every one is > 0. Integer ceilings catch unit slips (milliseconds typed as seconds)
# and keep a switch from being switched off by an absurdly large value.

UsdAmount = Annotated[
    Decimal, msgspec.Meta(extra={"expect": 'a USD amount above 0, written like "100.00"'})
]
BaseQuantity = Annotated[
    Decimal,
    msgspec.Meta(extra={"expect": 'a quantity of the base asset above 0, written like "0.002"'}),
]
Percent = Annotated[
    Decimal,
    msgspec.Meta(extra={"expect": "a percentage above 0 and at most 100", "max": Decimal(100)}),
]
BasisPoints = Annotated[int, msgspec.Meta(ge=1, le=10_000)]
OpenOrderCount = Annotated[int, msgspec.Meta(ge=1, le=1_000)]
MessageCount = Annotated[int, msgspec.Meta(ge=1, le=10_000)]
FillCount = Annotated[int, msgspec.Meta(ge=1, le=100_000)]
ReferenceAgeMs = Annotated[int, msgspec.Meta(ge=1, le=60_000)]
WindowMs = Annotated[int, msgspec.Meta(ge=1, le=3_600_000)]
WindowS = Annotated[int, msgspec.Meta(ge=1, le=86_400)]
HeartbeatTimeoutS = Annotated[int, msgspec.Meta(ge=1, le=300)]
# Every limit is in USD, so a product quoted in anything else (even USDC) would need a
# conversion the gate does not make.
UsdProductId = Annotated[
    ProductId,
    msgspec.Meta(
        pattern=r"^(?!USD-)[A-Z0-9]{1,12}-USD\Z",
        extra={"expect": "a Coinbase product id quoted in USD, in upper case, like BTC-USD"},
    ),
]
# Relative paths would depend on the directory the supervisor happens to start us in.
AbsolutePath = Annotated[
    str,
    msgspec.Meta(
        pattern=r"^/[^\x00-\x1f\x7f]{0,4095}\Z",
        extra={"expect": "an absolute file path, like /etc/trading-gate/coinbase-key.json"},
    ),
]

# ---------------------------------------------------------------- the schema


class ProductLimits(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """The limits of one allowed product; a product not listed cannot be traded."""

    # Largest single order, in units of the base asset (BTC in BTC-USD).
    max_order_size_base: BaseQuantity
    # Largest single order's price x size, in USD.
    max_order_notional_usd: UsdAmount
    # Largest absolute position in this product, in USD at the reference mid, counting
    # open and UNKNOWN orders as if they had filled.
    max_position_usd: UsdAmount
    # Farthest a limit price may sit from the reference mid, in basis points of the mid.
    price_collar_bps: BasisPoints


class AccountLimits(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Limits over the whole account, whatever the product."""

    # Largest single order's price x size, in USD, in any product.
    max_order_notional_usd: UsdAmount
    # Sum over products of |position| plus open and UNKNOWN orders, in USD.
    max_gross_exposure_usd: UsdAmount
    # Orders open (or UNKNOWN) at the venue at once, across products.
    max_open_orders: OpenOrderCount
    # Realized plus unrealized loss since 00:00 UTC, in USD; reaching it latches HALTED.
    daily_loss_limit_usd: UsdAmount
    # Fall of equity from its peak, in percent of the peak; reaching it latches HALTED.
    max_drawdown_pct: Percent


class ReferencePrice(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """The mid that collars and notional checks price against."""

    # Oldest usable mid, in milliseconds; an older one, or none, denies the order.
    max_age_ms: ReferenceAgeMs


class Throttle(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """A sliding-window message limit: at most `max_per_window` in any `window_ms`."""

    # Messages allowed in any one window; the next one is denied.
    max_per_window: MessageCount
    # Length of the sliding window, in milliseconds.
    window_ms: WindowMs


class Throttles(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Message throttles, one per action, so cancels never queue behind orders."""

    orders: Throttle
    cancels: Throttle


class RepeatedExecution(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """The repeated-execution throttle (RTS 6 Art 15(3)): a burst of fills latches HALTED."""

    # This many fills within `window_s` latch HALTED until an operator resumes.
    halt_at_fills: FillCount
    # Length of the sliding window, in seconds.
    window_s: WindowS


class DeadMan(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """The dead man's switch on agent heartbeats."""

    # Longest silence from the agent, in seconds, before the gate halts and cancels.
    heartbeat_timeout_s: HeartbeatTimeoutS


class OnHalt(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """What entering HALTED does."""

    # Always true: there is no halt that leaves orders working. Written out so the file
    # says what a halt does.
    cancel_all: Annotated[
        Literal[True],
        msgspec.Meta(extra={"expect": "true (a halt always cancels every open order)"}),
    ]
    # Whether a halt also closes every position at market; required because trading
    # into a halted market can hurt as much as it helps.
    flatten: bool


class Keys(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Where the exchange key lives; the file's mode and owner are checked at start."""

    key_file: AbsolutePath


class GateConfig(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """The whole safety config. Every key is required: no risk limit has a default."""

    # Format of the file; only 1 exists.
    version: Annotated[
        Literal[1], msgspec.Meta(extra={"expect": "1 (the only format this gate reads)"})
    ]
    # The allowlist: product id to its limits.
    products: Annotated[
        dict[UsdProductId, ProductLimits],
        msgspec.Meta(
            min_length=1,
            max_length=64,
            extra={"expect": "a mapping of product ids (like BTC-USD) to their limits"},
        ),
    ]
    account: AccountLimits
    reference_price: ReferencePrice
    throttles: Throttles
    repeated_execution: RepeatedExecution
    # Two orders with the same economics within this many seconds: the second is denied.
    duplicate_intent_window_s: WindowS
    dead_man: DeadMan
    on_halt: OnHalt
    keys: Keys


# ---------------------------------------------------------------- results and errors


class ConfigProblem(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """One thing wrong with a config: where (dotted key path, 1-based line) and what."""

    path: str
    line: int | None
    message: str

    def __str__(self) -> str:
        where = self.path if self.line is None else f"{self.path} (line {self.line})"
        return f"{where}: {self.message}"


class ConfigError(Exception):
    """The config is refused; `problems` lists everything found wrong, one per line of str()."""

    def __init__(self, problems: tuple[ConfigProblem, ...]) -> None:
        if not problems:
            raise ValueError("a ConfigError needs at least one problem")
        super().__init__("\n".join(str(problem) for problem in problems))
        self.problems = problems


class ConfigUnreadable(ConfigError):
    """The file could not be read at all: missing, not a regular file, or no permission."""


class LoadedConfig(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """A valid config with the identity that every decision records."""

    config: GateConfig
    # Hex SHA-256 of the file's bytes, recorded with every decision.
    sha256: str
    # Where it came from (a path, or the label given to parse_config).
    source: str


class Reloaded(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """A hot reload read a valid file; `config` is now in force."""

    config: LoadedConfig
    previous_sha256: str

    @property
    def changed(self) -> bool:
        return self.config.sha256 != self.previous_sha256

    def summary(self) -> str:
        if not self.changed:
            return f"config unchanged (sha256 {self.config.sha256}) in {self.config.source}"
        return (
            f"new config (sha256 {self.config.sha256}) from {self.config.source}, "
            f"replacing sha256 {self.previous_sha256}"
        )


class ReloadRefused(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """A hot reload found a bad file; the old `config` stays in force."""

    config: LoadedConfig
    source: str
    problems: tuple[ConfigProblem, ...]

    def summary(self) -> str:
        count = len(self.problems)
        lines = [
            f"kept old config (sha256 {self.config.sha256}) because {self.source} has "
            f"{count} problem{'' if count == 1 else 's'}:",
            *(f"  {problem}" for problem in self.problems),
        ]
        return "\n".join(lines)


ReloadOutcome: TypeAlias = Reloaded | ReloadRefused
