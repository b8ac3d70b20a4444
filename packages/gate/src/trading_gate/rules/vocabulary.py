"""The closed vocabulary: every name a rule may read, with its type, unit and meaning.

A rule can read these fields and nothing else (check.py refuses any other name), and
`context.py` must produce every one of them for each order (a test holds the two
together). The vocabulary prints itself for the docs and `te rules`: `describe()`.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from types import MappingProxyType
from typing import Final

__all__ = [
    "OPERATORS",
    "VOCABULARY",
    "FieldSpec",
    "Kind",
    "Unit",
    "describe",
    "listing",
]


class Kind(StrEnum):
    BOOL = "bool"
    STRING = "string"
    ENUM = "enum"  # a string from a closed set, checked against literals at load
    DECIMAL = "decimal"
    DURATION = "duration"


class Unit(StrEnum):
    """What a decimal counts. NUMBER is a plain literal, which takes the unit of
    whatever it meets (`> 1000` against USD is USD); no field has it."""

    USD = "usd"
    BASE = "base"  # units of the product's base currency (BTC in BTC-USD)
    RATIO = "ratio"  # unitless; `20%` is the ratio 0.20
    COUNT = "count"
    BPS = "bps"
    NUMBER = "number"


@dataclass(frozen=True, kw_only=True, slots=True)
class FieldSpec:
    """One field: its type (kind, unit or allowed values) and a one-line meaning."""

    name: str
    kind: Kind
    doc: str
    unit: Unit | None = None
    values: tuple[str, ...] = ()

    @property
    def type_name(self) -> str:
        """How the type reads in docs and error messages: `decimal usd`, `enum buy|sell`."""
        if self.kind is Kind.ENUM:
            return "enum " + "|".join(self.values)
        if self.unit is not None:
            return f"{self.kind.value} {self.unit.value}"
        return self.kind.value


def _enum(name: str, doc: str, *values: str) -> FieldSpec:
    return FieldSpec(name=name, kind=Kind.ENUM, doc=doc, values=values)


def _dec(name: str, unit: Unit, doc: str) -> FieldSpec:
    return FieldSpec(name=name, kind=Kind.DECIMAL, unit=unit, doc=doc)


def _of(kind: Kind, name: str, doc: str) -> FieldSpec:
    return FieldSpec(name=name, kind=kind, doc=doc)


_USD, _BASE, _RATIO, _COUNT, _BPS = Unit.USD, Unit.BASE, Unit.RATIO, Unit.COUNT, Unit.BPS
_FIELDS: Final = (
    _of(Kind.STRING, "order.product", "the product id, e.g. BTC-USD"),
    _enum("order.side", "buy or sell", "buy", "sell"),
    _enum("order.type", "the order type", "market", "limit", "stop_limit"),
    _enum("order.time_in_force", "how long the order may rest", "gtc", "gtd", "ioc", "fok"),
    _of(Kind.STRING, "order.strategy", "the strategy that proposed the order"),
    _dec("order.size_base", _BASE, "the size in base units (a quote size valued at the mid)"),
    _dec("order.notional_usd", _USD, "size x limit price (x the mid for a market order)"),
    _dec("order.price_usd", _USD, "the limit price, or the mid for a market order"),
    _of(Kind.BOOL, "order.post_only", "the order's post-only flag"),
    _of(Kind.BOOL, "order.reduce_only", "the order's reduce-only flag, as sent"),
    _of(Kind.BOOL, "order.reduces_position", "the order reduces the position, never flips it"),
    _dec("position.base_before", _BASE, "signed position in the product now (short < 0)"),
    _dec("position.base_after", _BASE, "signed position if this order fills in full"),
    _dec("position.notional_before_usd", _USD, "worst-case |position| x mid, live orders in"),
    _dec("position.notional_after_usd", _USD, "the same with this order added"),
    _dec("account.equity_usd", _USD, "equity now, realized plus unrealized"),
    _dec("account.equity_peak_usd", _USD, "the highest equity so far"),
    _dec("account.day_pnl_usd", _USD, "equity now minus equity at 00:00 UTC"),
    _dec("account.drawdown", _RATIO, "1 - equity / peak"),
    _dec("account.gross_exposure_before_usd", _USD, "worst-case gross exposure now"),
    _dec("account.gross_exposure_after_usd", _USD, "worst-case gross exposure with this order"),
    _dec("market.mid_usd", _USD, "the product's reference mid"),
    _of(Kind.DURATION, "market.mid_age", "how old the reference mid is"),
    _of(Kind.STRING, "regime.label", "the agent's regime label, e.g. trend_high_vol"),
    _enum("regime.trend", "the label's trend part", "trend", "range", "neutral", "unknown"),
    _enum("regime.volatility", "the label's volatility part", "high", "low", "unknown"),
    _dec("strategy.confidence", _RATIO, "the agent's reported confidence"),
    _dec("strategy.win_rate", _RATIO, "the agent's reported win rate"),
    _dec("strategy.expectancy_bps", _BPS, "the agent's reported expectancy per trade"),
    _dec("strategy.trade_count", _COUNT, "trades behind the agent's statistics"),
    _dec("time.hour", _COUNT, "hour of the day, 0-23 UTC"),
    _dec("time.minute", _COUNT, "minute of the hour, 0-59"),
    _enum("time.weekday", "day of the week, UTC", "mon", "tue", "wed", "thu", "fri", "sat", "sun"),
    _enum("gate.mode", "the gate's trading state", "active", "reducing", "halted"),
    _dec("gate.open_orders", _COUNT, "orders live now (unresolved ones included)"),
)
VOCABULARY: Final[Mapping[str, FieldSpec]] = MappingProxyType({f.name: f for f in _FIELDS})

# (syntax, meaning), loosest binding first.
OPERATORS: Final = (
    ("a or b", "either (short-circuits)"),
    ("a and b", "both (short-circuits)"),
    ("not a", "negation"),
    ("== != < <= > >=", "comparison (numbers and durations of one unit; == != on all)"),
    ("x in [..], x not in [..]", "membership in a list of literals of x's type"),
    ("x between a and b", "a <= x <= b"),
    ("+ -", "sum of one unit"),
    ("* /", "ratio x usd = usd, usd / usd = ratio, base x usd = usd, usd / base = usd"),
    ("-x", "unary minus"),
)


def listing() -> tuple[FieldSpec, ...]:
    """Every field, in documentation order."""
    return _FIELDS


def describe() -> str:
    """The vocabulary and the operators as Markdown tables."""
    rows = ["| field | type | meaning |", "|---|---|---|"]
    rows += [f"| `{f.name}` | {_cell(f.type_name)} | {_cell(f.doc)} |" for f in _FIELDS]
    rows += ["", "| operator | meaning |", "|---|---|"]
    rows += [f"| `{syntax}` | {_cell(meaning)} |" for syntax, meaning in OPERATORS]
    return "\n".join(rows) + "\n"


def _cell(text: str) -> str:
    # A bare | would end the Markdown cell (enum values, |position|).
    return text.replace("|", "\\|")
