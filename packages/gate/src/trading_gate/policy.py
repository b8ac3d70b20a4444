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
    13 order rate             throttles.orders; last, so only approved orders count
    (rules: core, then active, arrive with the rule language)

Every check runs on every order, so the audit row holds each one's outcome for
counterfactuals; the verdict is the first rejection in this order.
"""

from typing import Final

import msgspec

from trading_contract import PlaceOrder
from trading_gate.config import GateConfig
from trading_gate.core import checks
from trading_gate.core.checks import Rejection, TermsCheck
from trading_gate.core.context import CheckContext
from trading_gate.core.throttle import SlidingWindow, admit

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


class PolicyDecision(msgspec.Struct, frozen=True, kw_only=True):
    """The verdict (None: approved), every check's outcome, and the order-rate window
    to keep (advanced only when the order is approved)."""

    rejection: Rejection | None
    outcomes: tuple[CheckOutcome, ...]
    order_window: SlidingWindow

    @property
    def approved(self) -> bool:
        return self.rejection is None

    @property
    def latches(self) -> tuple[Rejection, ...]:
        """Rejections that latch a trading state, whether or not they won."""
        return tuple(o.rejection for o in self.outcomes if o.rejection and o.rejection.latch)


# A passing outcome is the same frozen value on every order: built once, not per check.
_PLAN: Final = tuple((name, check, CheckOutcome(name=name)) for name, check in CHECKS)


def decide(order: PlaceOrder, ctx: CheckContext, config: GateConfig) -> PolicyDecision:
    """Run every check on `order` and return the verdict with all outcomes.

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
    window = ctx.order_window
    if first is None:
        _, window = admit(window, ctx.order_window_now_ns)
    return PolicyDecision(rejection=first, outcomes=tuple(outcomes), order_window=window)
