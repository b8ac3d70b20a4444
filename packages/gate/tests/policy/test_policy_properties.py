"""Properties of the decision over random orders and contexts built from the mothers.

1. Tightening any one limit never turns a rejection into an approval (nor any check's
   rejection into a pass).
2. `decide()`, which computes the order's terms once and hands them to every check,
   gives exactly the decision of calling every check alone, without terms.
4. Shadow rules never change a decision, and adding an enforced rule never turns a
   rejection into an approval (rules only ever take away).
3. Those terms are what the reference helpers (`base_size`, `order_notional_usd`,
   `gross_exposure_usd`) and a plain re-reading of each check's rule give, to the digit.

The orders and contexts sit around the shipped limits (config/safety.yaml), so most
checks both pass and refuse across the examples.
"""

from collections.abc import Callable
from decimal import ROUND_CEILING, Context, Decimal, Inexact, InvalidOperation, Overflow
from typing import Any

import msgspec
from hypothesis import given, seed, settings
from hypothesis import strategies as st

from gate_stubs import MIDS, MONO, NOW, config, context, mode, order, rules
from rule_stubs import rule_text
from trading_contract import (
    OrderType,
    PlaceOrder,
    ProductId,
    Side,
    SizeUnit,
    StopDirection,
    TimeInForce,
    TradingState,
)
from trading_gate.config import GateConfig
from trading_gate.core import checks
from trading_gate.core.checks import OrderTerms
from trading_gate.core.context import (
    AccountState,
    CheckContext,
    LiveOrder,
    RecentOrder,
    ReferenceMid,
)
from trading_gate.core.rule_set import RuleSet
from trading_gate.core.throttle import admit
from trading_gate.core.trading_state import Cause, reduces_position
from trading_gate.policy import CHECKS, CheckOutcome, PolicyDecision, decide
from trading_gate.rules import Rule, load_rules

D = Decimal
# The checks' arithmetic: exact, and any rounding raises.
EXACT = Context(prec=300, traps=[InvalidOperation, Overflow, Inexact])
_CEILING = Context(prec=60, rounding=ROUND_CEILING)
SEED = 20251201
CFG = config()
MS = 1_000_000
S = 1_000_000_000
CENT = D("0.01")
# DOGE-USD is not in the allow-list and has no mid: it exercises both refusals.
PRODUCTS = (*MIDS, "DOGE-USD")
CENTRES = {**MIDS, "DOGE-USD": D("0.15")}

# ---------------------------------------------------------------- strategies
# Hypothesis draws integers mostly near zero, so amounts are a sampled_from over a range
# (drawn about evenly), with integers only as jitter (near zero: exact boundaries).
# Rare branches are a sampled_from with the usual case first, where shrinking goes.

ORDER_PRODUCTS = (*MIDS, *MIDS, *MIDS, "DOGE-USD")


def _one_in(n: int, draw: st.DrawFn) -> bool:
    """Roughly one time in `n` (never the first, shrunk-to choice)."""
    return draw(st.sampled_from((False,) * (n - 1) + (True,)))


def _upto(top: int, draw: st.DrawFn) -> int:
    """0..top, about evenly."""
    return draw(st.sampled_from(range(top + 1)))


def _signed(top: int, draw: st.DrawFn) -> int:
    return draw(st.sampled_from((1, -1))) * _upto(top, draw)


def _base(units: int) -> Decimal:
    return D(units).scaleb(-8)


def _cents(cents: int) -> Decimal:
    return D(cents).scaleb(-2)


def _near(product: str, draw: st.DrawFn, bps: int = 200) -> Decimal:
    """A price on the cent grid within `bps` of the product's centre."""
    centre_cents = int(CENTRES[product] * 100)
    offset = _signed(bps, draw) * centre_cents // 10_000 + _signed(5, draw)
    return _cents(max(1, centre_cents + offset))


def _size(product: str, draw: st.DrawFn) -> Decimal:
    """Up to 1.3 x the product's max_order_size_base, in 1e-8 steps."""
    limits = CFG.products.get(ProductId(product))
    cap_units = int((D(100) if limits is None else limits.max_order_size_base) * D("1e8"))
    percent = _upto(130, draw)
    return _base(max(1, cap_units * percent // 100 + _signed(99, draw)))


def _quote_size(draw: st.DrawFn) -> Decimal:
    return _cents(max(1, 100 * _upto(150, draw) + _signed(99, draw)))  # up to 150 USD


@st.composite
def orders(draw: st.DrawFn) -> PlaceOrder:
    product = draw(st.sampled_from(ORDER_PRODUCTS))
    side = draw(st.sampled_from(Side))
    fields: dict[str, Any] = {
        "product_id": product,
        "side": side,
        "size": _size(product, draw),
        "reduce_only": _one_in(5, draw),
    }
    kind = draw(st.sampled_from((OrderType.LIMIT, OrderType.MARKET, OrderType.STOP_LIMIT)))
    if kind is OrderType.MARKET:
        fields |= {"order_type": kind, "limit_price": None, "time_in_force": TimeInForce.IOC}
        if _one_in(2, draw):
            fields |= {"size": _quote_size(draw), "size_in": SizeUnit.QUOTE}
    elif kind is OrderType.STOP_LIMIT:
        down = side is Side.SELL
        fields |= {
            "order_type": kind,
            "stop_price": _near(product, draw),
            "limit_price": _near(product, draw),
            "stop_direction": StopDirection.DOWN if down else StopDirection.UP,
            "time_in_force": TimeInForce.GTC,
        }
    else:
        tif = draw(st.sampled_from(TimeInForce))
        price = _near(product, draw)
        if _one_in(20, draw):
            price += CENT / 2  # off the price grid
        fields |= {
            "order_type": kind,
            "limit_price": price,
            "time_in_force": tif,
            "end_time_ns": NOW + 300 * S if tif is TimeInForce.GTD else None,
            "post_only": tif in (TimeInForce.GTC, TimeInForce.GTD) and _one_in(3, draw),
        }
        if _one_in(10, draw):
            fields |= {"size": _quote_size(draw), "size_in": SizeUnit.QUOTE}
    return order(**fields)


@st.composite
def live_orders(draw: st.DrawFn) -> LiveOrder:
    product = draw(st.sampled_from(ORDER_PRODUCTS))
    size = _size(product, draw)
    return LiveOrder(
        product_id=ProductId(product),
        side=draw(st.sampled_from(Side)),
        # Now and then a size valued from a quote, as the shell records one: 60 digits.
        remaining_base=_CEILING.divide(size, CENTRES[product]) if _one_in(10, draw) else size,
        limit_price=None if _one_in(5, draw) else _near(product, draw),
    )


@st.composite
def mids(draw: st.DrawFn) -> dict[ProductId, ReferenceMid]:
    out: dict[ProductId, ReferenceMid] = {}
    for product in PRODUCTS:
        # DOGE-USD is not allowed, but may have a mid to value a position in it.
        usual = ("fresh", "none") if product == "DOGE-USD" else ("fresh", "fresh")
        kind = draw(st.sampled_from(usual * 12 + ("none", "old", "future", "zero")))
        if kind == "none":
            continue
        ages = {"fresh": st.sampled_from(range(2_001)), "old": st.sampled_from((2_001, 9_000))}
        age_ms = draw(ages.get(kind, st.just(-1 if kind == "future" else 0)))
        mid = D(0) if kind == "zero" else _near(product, draw, bps=20)
        out[ProductId(product)] = ReferenceMid(mid=mid, observed_ns=NOW - age_ms * MS)
    return out


@st.composite
def positions(draw: st.DrawFn) -> dict[ProductId, Decimal]:
    out: dict[ProductId, Decimal] = {}
    for product in PRODUCTS:
        if product == "DOGE-USD" and not _one_in(10, draw):
            continue
        if draw(st.sampled_from((False, True, True))):
            # Up to 400 USD either way: past max_position_usd and gross now and then.
            usd = D(_signed(400, draw)) + _cents(draw(st.integers(0, 99)))
            out[ProductId(product)] = (usd / CENTRES[product]).quantize(_base(1))
    return out


@st.composite
def accounts(draw: st.DrawFn) -> AccountState:
    # Down 600 to up 100 USD on a 10,000 USD account: past 5 % drawdown now and then.
    equity = D(10_000 + 100 - _upto(700, draw)) - _cents(draw(st.integers(0, 99)))
    peak = max(equity, D(10_000)) + _upto(20, draw)
    loss = D(_upto(50, draw) - 20) + _cents(draw(st.integers(-99, 99)))  # 25 USD is inside
    return AccountState(equity_usd=equity, equity_peak_usd=peak, day_start_equity_usd=equity + loss)


MODES = (
    *(mode(),) * 6,
    mode(TradingState.REDUCING, Cause.RECONCILING),
    mode(TradingState.HALTED, Cause.DEAD_MAN),
)


@st.composite
def cases(draw: st.DrawFn) -> tuple[PlaceOrder, CheckContext]:
    placed = draw(orders())
    base = context()
    admitted = sorted(
        draw(st.integers(1, 999_999)) for _ in range(draw(st.sampled_from((0, 0, *range(7)))))
    )
    window = msgspec.structs.replace(
        base.order_window, admitted_ns=tuple(MONO - us * 1_000 for us in reversed(admitted))
    )
    product_rules = dict(base.product_rules)
    variant = draw(st.sampled_from(("shipped",) * 18 + ("missing", "flag")))
    if variant == "missing":
        product_rules.pop(placed.product_id, None)
    elif variant == "flag":
        flag = draw(st.sampled_from(("limit_only", "post_only", "cancel_only")))
        product_rules[placed.product_id] = rules(**{flag: True})
    recent = [
        RecentOrder(
            product_id=placed.product_id,
            side=placed.side,
            size=placed.size,
            limit_price=placed.limit_price,
            accepted_ns=NOW - _upto(40, draw) * S + draw(st.integers(-1, 1)),
        )
        for _ in range(_one_in(8, draw))
    ]
    live = tuple(draw(live_orders()) for _ in range(draw(st.sampled_from((0, *range(9))))))
    ctx = msgspec.structs.replace(
        base,
        mode=draw(st.sampled_from(MODES)),
        positions_base=draw(positions()),
        live_orders=live,
        mids=draw(mids()),
        product_rules=product_rules,
        account=draw(accounts()),
        order_window=window,
        recent_orders=tuple(recent),
    )
    return placed, ctx


# ---------------------------------------------------------------- tightening

Tightening = tuple[str, Callable[[GateConfig], GateConfig]]


def _halved(value: Any) -> Any:
    return value * D("0.5") if isinstance(value, Decimal) else max(1, value // 2)


def _product(product: ProductId, key: str) -> Tightening:
    def tighten(cfg: GateConfig) -> GateConfig:
        limits = cfg.products[product]
        changed = msgspec.structs.replace(limits, **{key: _halved(getattr(limits, key))})
        return msgspec.structs.replace(cfg, products={**cfg.products, product: changed})

    return f"products.{product}.{key} x 0.5", tighten


def _account(key: str) -> Tightening:
    def tighten(cfg: GateConfig) -> GateConfig:
        value = getattr(cfg.account, key)
        value = value - 1 if key == "max_open_orders" else _halved(value)
        return msgspec.structs.replace(
            cfg, account=msgspec.structs.replace(cfg.account, **{key: value})
        )

    return f"account.{key}", tighten


def _max_age(cfg: GateConfig) -> GateConfig:
    reference = cfg.reference_price
    halved = msgspec.structs.replace(reference, max_age_ms=_halved(reference.max_age_ms))
    return msgspec.structs.replace(cfg, reference_price=halved)


def _longer_duplicate_window(cfg: GateConfig) -> GateConfig:
    # The one limit that tightens upwards: a longer window catches more duplicates.
    return msgspec.structs.replace(cfg, duplicate_intent_window_s=cfg.duplicate_intent_window_s * 2)


# The order-rate limit is not here: the check reads it from the context's window.
TIGHTENINGS: tuple[Tightening, ...] = (
    *(
        _product(product, field.name)
        for product in CFG.products
        for field in msgspec.structs.fields(CFG.products[product])
    ),
    *(_account(f.name) for f in msgspec.structs.fields(CFG.account)),
    ("reference_price.max_age_ms x 0.5", _max_age),
    ("duplicate_intent_window_s x 2", _longer_duplicate_window),
)


def _refused_by(decision: PolicyDecision) -> set[str]:
    return {o.name for o in decision.outcomes if o.rejection is not None}


@seed(SEED)
@settings(max_examples=400)
@given(case=cases(), tightening=st.sampled_from(TIGHTENINGS))
def test_decide_when_one_limit_tightened_then_no_rejection_becomes_approval(
    case: tuple[PlaceOrder, CheckContext], tightening: Tightening
) -> None:
    """A tighter limit refuses at least what the looser one refused, check by check."""
    placed, ctx = case
    _, tighten = tightening
    loose = decide(placed, ctx, CFG)
    tight = decide(placed, ctx, tighten(CFG))
    if not loose.approved:
        assert not tight.approved
    assert _refused_by(loose) <= _refused_by(tight)


def test_tightenings_when_listed_then_each_changes_the_config() -> None:
    """Every tightening moves its limit (a no-op would make the property vacuous)."""
    assert len(TIGHTENINGS) == 4 * len(CFG.products) + 7
    for name, tighten in TIGHTENINGS:
        assert tighten(CFG) != CFG, name


# ---------------------------------------------------------------- terms once


def _check_by_check(placed: PlaceOrder, ctx: CheckContext, cfg: GateConfig) -> PolicyDecision:
    """The decision as the policy defines it, each check called alone without terms."""
    invalid = checks.check_order_values(placed, ctx, cfg)
    if invalid is not None:
        outcome = CheckOutcome(name="order_values", rejection=invalid)
        return PolicyDecision(rejection=invalid, outcomes=(outcome,), order_window=ctx.order_window)
    outcomes = tuple(CheckOutcome(name=n, rejection=check(placed, ctx, cfg)) for n, check in CHECKS)
    first = next((o.rejection for o in outcomes if o.rejection is not None), None)
    window = ctx.order_window
    if first is None:
        _, window = admit(window, ctx.order_window_now_ns)
    return PolicyDecision(rejection=first, outcomes=outcomes, order_window=window)


@seed(SEED)
@settings(max_examples=400)
@given(case=cases(), tightening=st.none() | st.sampled_from(TIGHTENINGS))
def test_decide_when_terms_precomputed_then_same_as_each_check_alone(
    case: tuple[PlaceOrder, CheckContext], tightening: Tightening | None
) -> None:
    """Same verdict, messages, fired_by, latches, outcomes in order, and window."""
    placed, ctx = case
    cfg = CFG if tightening is None else tightening[1](CFG)
    decision = decide(placed, ctx, cfg)
    expected = _check_by_check(placed, ctx, cfg)
    assert decision == expected
    # Equal Decimals can differ in their digits; the encoding shows every digit.
    assert msgspec.json.encode(decision) == msgspec.json.encode(expected)


def _exposure_usd(
    position: Decimal, live: tuple[LiveOrder, ...], product: ProductId, mid: Decimal
) -> Decimal:
    """Worst-case |position| x mid if every live buy, or every live sell, fills."""
    buys = sells = D(0)
    for o in live:
        if o.product_id == product and o.side is Side.BUY:
            buys = EXACT.add(buys, o.remaining_base)
        elif o.product_id == product:
            sells = EXACT.add(sells, o.remaining_base)
    # copy_abs is exact; builtin abs() would round to the ambient 28 digits.
    long, short = EXACT.add(position, buys), EXACT.subtract(position, sells)
    exposure = max(long.copy_abs(), short.copy_abs())
    return EXACT.multiply(exposure, mid)


def _reference_terms(placed: PlaceOrder, ctx: CheckContext) -> OrderTerms:
    """Each term from its definition, the slow way (the code before the terms existed)."""
    reference = ctx.mids.get(placed.product_id)
    mid = None if reference is None else reference.mid
    size = checks.base_size(placed, ctx)
    unsized = dict.fromkeys(
        ("position_before_usd", "position_after_usd", "gross_before_usd", "gross_after_usd")
    )
    if size is None:
        return OrderTerms(
            mid=mid,
            size_base=None,
            notional_usd=checks.order_notional_usd(placed, ctx),
            reduces=False,
            gross_unvalued=None,
            **unsized,
        )
    new = LiveOrder(
        product_id=placed.product_id,
        side=placed.side,
        remaining_base=size,
        limit_price=placed.limit_price,
    )
    with_order = (*ctx.live_orders, new)
    position = ctx.positions_base.get(placed.product_id, D(0))
    # A plain sum (ambient context), as the reduce test has always taken it.
    working = sum(
        (
            o.remaining_base
            for o in ctx.live_orders
            if o.product_id == placed.product_id and o.side is placed.side
        ),
        D(0),
    )
    same_way = EXACT.subtract if position > 0 else EXACT.add
    available = same_way(position, working)
    reduces = (position > 0) == (available > 0) and reduces_position(placed.side, size, available)
    gross_before, _ = checks.gross_exposure_usd(ctx, ctx.live_orders)
    gross_after, unvalued = checks.gross_exposure_usd(ctx, with_order)
    return OrderTerms(
        mid=mid,
        size_base=size,
        notional_usd=checks.order_notional_usd(placed, ctx),
        reduces=reduces,
        position_before_usd=None
        if mid is None
        else _exposure_usd(position, ctx.live_orders, placed.product_id, mid),
        position_after_usd=None
        if mid is None
        else _exposure_usd(position, with_order, placed.product_id, mid),
        gross_before_usd=gross_before,
        gross_after_usd=gross_after,
        gross_unvalued=unvalued,
    )


@seed(SEED)
@settings(max_examples=400)
@given(case=cases())
def test_order_terms_when_computed_once_then_match_their_definitions(
    case: tuple[PlaceOrder, CheckContext],
) -> None:
    """The one-pass terms equal the per-check computations, every digit included."""
    placed, ctx = case
    terms = checks.order_terms(placed, ctx)
    assert msgspec.to_builtins(terms) == msgspec.to_builtins(_reference_terms(placed, ctx))


# ---------------------------------------------------------------- rules

_RULE_BODIES = (
    ("order.notional_usd > 40", 'deny "big"'),
    (
        'order.product == "ETH-USD"',
        'deny "eth" if position.notional_after_usd > 20% * account.equity_usd',
    ),
    ("account.drawdown > 1%", 'reduce_only "deep"'),
    ("market.mid_age > 50ms", 'deny "stale"'),
    ("strategy.win_rate < 45%", 'deny "weak"'),  # unreported by these orders: always an error
    (None, 'require post_only "makers only" if order.type == "limit"'),
)


def _rule_set(tier: str, picks: list[int]) -> RuleSet:
    rules: list[Rule] = []
    for n, index in enumerate(picks):
        when, effect = _RULE_BODIES[index]
        text = rule_text(f"r{n}_{index}", when, effect)
        rules.extend(load_rules(text, source="property", tier=tier))  # type: ignore[arg-type]
    return RuleSet(**{tier: tuple(rules)}, sha256="0" * 64)


_PICKS = st.lists(st.integers(0, len(_RULE_BODIES) - 1), min_size=1, max_size=4)


@seed(SEED)
@settings(max_examples=300)
@given(case=cases(), picks=_PICKS)
def test_decide_when_rules_are_shadow_then_the_decision_is_unchanged(
    case: tuple[PlaceOrder, CheckContext], picks: list[int]
) -> None:
    """Shadow rules are recorded, never enforced: verdict, outcomes and window as without."""
    placed, ctx = case
    without = decide(placed, ctx, CFG)
    shadowed = decide(placed, ctx, CFG, _rule_set("shadow", picks))
    if without.outcomes[0].name == "order_values":
        assert shadowed == without  # invalid values: no rule can even be read
        return
    assert (shadowed.rejection, shadowed.outcomes, shadowed.order_window) == (
        without.rejection, without.outcomes, without.order_window,
    )  # fmt: skip
    assert shadowed.latches == without.latches
    assert len(shadowed.shadow) == len(picks)
    assert shadowed.rules == ()


@seed(SEED)
@settings(max_examples=300)
@given(case=cases(), picks=_PICKS)
def test_decide_when_rules_enforced_then_no_rejection_becomes_approval(
    case: tuple[PlaceOrder, CheckContext], picks: list[int]
) -> None:
    """Rules only take away: what the limits refuse stays refused, with the same reason,
    and an approval under rules is an approval without them."""
    placed, ctx = case
    without = decide(placed, ctx, CFG)
    ruled = decide(placed, ctx, CFG, _rule_set("active", picks))
    if not without.approved:
        assert ruled.rejection == without.rejection
    if ruled.approved:
        assert without.approved
        assert ruled.order_window == without.order_window
