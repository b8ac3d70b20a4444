"""The gate's decision: every check in one fixed order; the first rejection wins.

    0  order values           finite and above zero; if not, nothing else runs
    1  trading state          HALTED: cancels only; REDUCING: reducing orders only
    2  reduce-only flag       a reduce-only order must reduce
    3  product allow-list
    3b venue rules            increments, min/max size, trading flags
    4  reference price        a mid no older than max_age_ms (none or stale: deny)
    5  order size             max_order_size_base
    6  notional               per product and per account max_order_notional_usd
    7  price collar           limit and stop within price_collar_bps of the mid
    8  position               worst-case position counting live and unknown orders
    9  gross exposure         the same, summed over products
    10 open orders            max_open_orders
    11 duplicate              the same economic order within duplicate_intent_window_s
    12 daily loss, drawdown   reaching either denies and latches HALTED
    13 order rate             throttles.orders; only approved orders count
    14 core rules             config/rules/core, in file and source order
    15 active rules           config/rules/active, the same
       shadow rules           config/rules/shadow: evaluated and recorded, never enforced

Every check and every rule runs on every order whose values are valid, so the audit
row holds each one's outcome for counterfactuals; the verdict is the first rejection in
this order. A rule that cannot be evaluated (a field with no value, the step budget
spent, a division by zero) denies: the rules fail closed. A `halt` effect (core rules
only) latches HALTED whether or not its rejection is the one that wins.
"""

from typing import Final

import msgspec

from trading_contract import PlaceOrder, RejectCode, TradingState
from trading_gate.config import GateConfig
from trading_gate.core import checks
from trading_gate.core.checks import Rejection, TermsCheck
from trading_gate.core.context import CheckContext
from trading_gate.core.rule_set import RuleSet, Tier, empty_rule_set
from trading_gate.core.throttle import SlidingWindow, admit
from trading_gate.rules import Rule, RuleContext, evaluate, rule_context

CHECKS: Final[tuple[tuple[str, TermsCheck], ...]] = (
    ("trading_state", checks.check_trading_state),
    ("reduce_only", checks.check_reduce_only),
    ("product_allowed", checks.check_product_allowed),
    ("product_rules", checks.check_product_rules),
    ("reference_price", checks.check_reference_price),
    ("order_size", checks.check_order_size),
    ("notional", checks.check_notional),
    ("price_collar", checks.check_price_collar),
    ("position", checks.check_position),
    ("gross_exposure", checks.check_gross_exposure),
    ("open_orders", checks.check_open_orders),
    ("duplicate", checks.check_duplicate),
    ("daily_loss", checks.check_daily_loss),
    ("drawdown", checks.check_drawdown),
    ("order_rate", checks.check_order_rate),
)


class CheckOutcome(msgspec.Struct, frozen=True, kw_only=True):
    name: str
    rejection: Rejection | None = None


class RuleVerdict(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    """One rule on one order: `fired` (its effect applies; for a shadow rule, would
    have), `passed`, or `error` (it could not be evaluated: an enforced rule then denies)."""

    rule_id: str
    tier: str
    outcome: str  # "fired" | "passed" | "error"
    effect: str | None = None
    message: str | None = None


class PolicyDecision(msgspec.Struct, frozen=True, kw_only=True):
    """The verdict (None: approved), every check's and rule's outcome, and the
    order-rate window to keep (advanced only when the order is approved)."""

    rejection: Rejection | None
    outcomes: tuple[CheckOutcome, ...]
    order_window: SlidingWindow
    rules: tuple[RuleVerdict, ...] = ()
    shadow: tuple[RuleVerdict, ...] = ()
    latched: tuple[Rejection, ...] = ()
    # What the rules read (None when the set is empty): kept in the audit row so a rule
    # proposed later can be priced against the orders it would have seen.
    rule_context: RuleContext | None = None

    @property
    def approved(self) -> bool:
        return self.rejection is None

    @property
    def latches(self) -> tuple[Rejection, ...]:
        """Rejections that latch a trading state, whether or not they won."""
        found = tuple(o.rejection for o in self.outcomes if o.rejection and o.rejection.latch)
        return found + self.latched


# A passing outcome is the same frozen value on every order: built once, not per check.
_PLAN: Final = tuple((name, check, CheckOutcome(name=name)) for name, check in CHECKS)


def decide(
    order: PlaceOrder, ctx: CheckContext, config: GateConfig, rules: RuleSet | None = None
) -> PolicyDecision:
    """Run every check and rule on `order` and return the verdict with all outcomes.

    What several checks derive from the order is computed once, after the order values
    pass, and handed to each check; a check called alone computes the same itself.
    """
    invalid = checks.check_order_values(order, ctx, config)
    if invalid is not None:
        outcome = CheckOutcome(name="order_values", rejection=invalid)
        return PolicyDecision(rejection=invalid, outcomes=(outcome,), order_window=ctx.order_window)
    terms = checks.order_terms(order, ctx)
    first: Rejection | None = None
    outcomes: list[CheckOutcome] = []
    for name, check, passed in _PLAN:
        rejection = check(order, ctx, config, terms)
        if rejection is None:
            outcomes.append(passed)
            continue
        outcomes.append(CheckOutcome(name=name, rejection=rejection))
        if first is None:
            first = rejection
    rules = rules or _NO_RULES
    context = rule_context(order, ctx, terms) if rules.any else None
    ruled = _apply_rules(rules, context) if context is not None else _UNRULED
    if first is None:
        first = ruled.rejection
    window = ctx.order_window
    if first is None:
        _, window = admit(window, ctx.order_window_now_ns)
    return PolicyDecision(
        rejection=first,
        outcomes=tuple(outcomes),
        order_window=window,
        rules=ruled.enforced,
        shadow=ruled.shadow,
        latched=ruled.latched,
        rule_context=context,
    )


_NO_RULES: Final = empty_rule_set()


class _Ruled(msgspec.Struct, frozen=True, kw_only=True):
    rejection: Rejection | None
    enforced: tuple[RuleVerdict, ...]
    shadow: tuple[RuleVerdict, ...]
    latched: tuple[Rejection, ...]


_UNRULED: Final = _Ruled(rejection=None, enforced=(), shadow=(), latched=())


def _apply_rules(rules: RuleSet, ctx: RuleContext) -> _Ruled:
    """Every enforced rule, then every shadow rule, on one context; the first enforced
    rule that fires or fails gives the rejection."""
    first: Rejection | None = None
    latched: list[Rejection] = []
    enforced: list[RuleVerdict] = []
    for tier, rule in rules.enforced:
        verdict, rejection = _judge(rule, tier, ctx)
        enforced.append(verdict)
        if rejection is not None and rejection.latch is not None:
            latched.append(rejection)
        if first is None:
            first = rejection
    shadow = tuple(_judge(rule, "shadow", ctx)[0] for rule in rules.shadow)
    return _Ruled(rejection=first, enforced=tuple(enforced), shadow=shadow, latched=tuple(latched))


def _judge(rule: Rule, tier: Tier, ctx: RuleContext) -> tuple[RuleVerdict, Rejection | None]:
    result = evaluate(rule, ctx)
    if result.error is not None:
        message = f"rule {rule.id} could not be evaluated, so it denies: {result.error}"
        verdict = RuleVerdict(rule_id=rule.id, tier=tier, outcome="error", message=message)
        return verdict, Rejection(code=RejectCode.RULE_ERROR, message=message, fired_by=rule.id)
    if not result.fired:
        return RuleVerdict(rule_id=rule.id, tier=tier, outcome="passed"), None
    effect = result.kind
    message = f"rule {rule.id}: {result.message}"
    verdict = RuleVerdict(
        rule_id=rule.id, tier=tier, outcome="fired", effect=effect, message=message
    )
    latch = TradingState.HALTED if effect == "halt" else None
    return verdict, Rejection(
        code=RejectCode.RULE_DENIED, message=message, fired_by=rule.id, latch=latch
    )


def rule_context_record(ctx: RuleContext) -> dict[str, object]:
    """A rule context as plain JSON values (Decimals as strings), for the audit row and
    `trading-gate rules explain`, which reads it back."""
    return {
        "values": {k: v if isinstance(v, bool | str) else str(v) for k, v in sorted(ctx.items())},
        "unavailable": dict(sorted(ctx.unavailable.items())),
    }
