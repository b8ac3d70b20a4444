"""The gate's decision: `decide()` (every check, empty rule set) per order, against the
strict decode of the same order as a peer.

    uv run python bench/bench_decision.py [--orders 100000] [--runs 5] [--seed 20251201]

The orders and their contexts are built up front from the gate's object mothers and a
seeded RNG: three allowed products and one that is not, limit, market and stop-limit
orders of both sides, sizes and prices around the shipped limits, live orders,
positions, recent orders, stale mids, a filling order-rate window, losses and the
REDUCING and HALTED states. So some orders pass and the others stop at various checks;
the verdict mix is printed. Then each `decide()` call is timed with perf_counter_ns.

The peer is `trading_contract.decode_agent_message` of the same orders' encoded bodies,
timed the same way: it shows how the decision compares with what the gate must do anyway
before it can decide.
"""

import argparse
import gc
import random
import sys
import time
from collections import Counter
from collections.abc import Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any, Final

import msgspec

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "packages" / "contract" / "tests"))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "packages" / "gate" / "tests"))

from _stats import median_of_runs, report, summarize

import trading_contract as c
from contract_stubs import reason
from gate_stubs import MIDS, MONO, NOW, config, context, mode, order, rules
from trading_contract import ProductId
from trading_gate.config import GateConfig
from trading_gate.core.context import (
    AccountState,
    CheckContext,
    LiveOrder,
    RecentOrder,
    ReferenceMid,
)
from trading_gate.core.trading_state import Cause
from trading_gate.policy import decide

TARGET_P99_US: Final = 50.0
PRODUCTS: Final = (*MIDS, "DOGE-USD")  # DOGE-USD is not in the shipped allow-list
PRODUCT_WEIGHTS: Final = (45, 30, 22, 3)
BASE_STEP: Final = Decimal("0.00000001")
CENT: Final = Decimal("0.01")
MS: Final = 1_000_000
S: Final = 1_000_000_000


def _base(units: int) -> Decimal:
    """`units` of 1e-8 of the base asset."""
    return Decimal(units).scaleb(-8)


def _usd(value: float) -> Decimal:
    """A float rounded to the cent, as an exact Decimal."""
    return Decimal(round(value * 100)).scaleb(-2)


class Scenario:
    """Deterministic generator of (order, context) pairs around the shipped limits."""

    def __init__(self, cfg: GateConfig, seed: int) -> None:
        self.cfg = cfg
        self.rng = random.Random(seed)  # noqa: S311 - reproducible inputs, not secrets
        self.base_ctx = context()
        self.caps = {p: limits.max_order_size_base for p, limits in cfg.products.items()}

    # ---------------------------------------------------------------- the market
    def mids(self) -> dict[ProductId, ReferenceMid]:
        rng = self.rng
        out: dict[ProductId, ReferenceMid] = {}
        for product, centre in MIDS.items():
            roll = rng.random()
            if roll < 0.01:
                continue  # no mid for this product
            age_ms = rng.randint(2_001, 10_000) if roll < 0.04 else rng.randint(0, 1_500)
            mid = _usd(float(centre) * (1 + rng.gauss(0, 0.0005)))
            out[ProductId(product)] = ReferenceMid(mid=mid, observed_ns=NOW - age_ms * MS)
        return out

    # ---------------------------------------------------------------- the book
    def positions(self) -> dict[ProductId, Decimal]:
        rng = self.rng
        out: dict[ProductId, Decimal] = {}
        for product, centre in MIDS.items():
            if rng.random() < 0.4:
                # Up to 320 USD either way: past max_position_usd now and then.
                units = round(rng.uniform(-320, 320) / float(centre) * 1e8)
                out[ProductId(product)] = _base(units)
        return out

    def live_order(self) -> LiveOrder:
        rng = self.rng
        product = rng.choice(tuple(MIDS))
        cap = self.caps[ProductId(product)]
        remaining = _base(round(float(cap) * rng.uniform(0.05, 0.6) * 1e8))
        price = None if rng.random() < 0.2 else _usd(float(MIDS[product]) * rng.uniform(0.99, 1.01))
        return LiveOrder(
            product_id=ProductId(product),
            side=rng.choice((c.Side.BUY, c.Side.SELL)),
            remaining_base=remaining,
            limit_price=price,
        )

    def live_orders(self) -> tuple[LiveOrder, ...]:
        # 6 or 7 live orders: the next one is past max_open_orders (6).
        count = self.rng.choices(range(8), weights=(30, 20, 15, 10, 8, 7, 6, 4))[0]
        return tuple(self.live_order() for _ in range(count))

    def recent_orders(self, placed: c.PlaceOrder) -> tuple[RecentOrder, ...]:
        rng = self.rng
        out = [
            RecentOrder(
                product_id=ProductId(rng.choice(tuple(MIDS))),
                side=rng.choice((c.Side.BUY, c.Side.SELL)),
                size=_base(rng.randint(1_000, 100_000)),
                limit_price=_usd(rng.uniform(90, 50_000)),
                accepted_ns=NOW - rng.randint(1, 60) * S,
            )
            for _ in range(rng.randint(0, 3))
        ]
        if rng.random() < 0.03:  # the same economic order, accepted 5 s ago
            out.append(
                RecentOrder(
                    product_id=placed.product_id,
                    side=placed.side,
                    size=placed.size,
                    limit_price=placed.limit_price,
                    accepted_ns=NOW - 5 * S,
                )
            )
        return tuple(out)

    # ---------------------------------------------------------------- the account
    def account(self) -> AccountState:
        rng = self.rng
        equity = 10_000 + rng.gauss(0, 5)
        roll = rng.random()
        if roll < 0.03:  # down 25-60 USD today: daily_loss_limit_usd
            return AccountState(
                equity_usd=_usd(equity),
                equity_peak_usd=_usd(equity + 60),
                day_start_equity_usd=_usd(equity + rng.uniform(25, 60)),
            )
        if roll < 0.05:  # 6 % below the peak: max_drawdown_pct
            return AccountState(
                equity_usd=_usd(equity),
                equity_peak_usd=_usd(equity * 1.06),
                day_start_equity_usd=_usd(equity),
            )
        return AccountState(
            equity_usd=_usd(equity),
            equity_peak_usd=_usd(max(equity, 10_000) + rng.uniform(0, 20)),
            day_start_equity_usd=_usd(equity + rng.uniform(-10, 10)),
        )

    def context_for(self, placed: c.PlaceOrder) -> CheckContext:
        rng = self.rng
        state = rng.choices(
            (
                mode(),
                mode(c.TradingState.REDUCING, Cause.RECONCILING),
                mode(c.TradingState.HALTED, Cause.DEAD_MAN),
            ),
            weights=(92, 5, 3),
        )[0]
        # A full window (5 admitted in the last second) throttles the order.
        admitted = rng.choices(range(6), weights=(40, 20, 12, 10, 8, 10))[0]
        window = msgspec.structs.replace(
            self.base_ctx.order_window,
            admitted_ns=tuple(sorted(MONO - rng.randint(1, 999) * MS for _ in range(admitted))),
        )
        product_rules = dict(self.base_ctx.product_rules)
        if rng.random() < 0.01:
            product_rules[placed.product_id] = rules(limit_only=True, post_only=True)
        return msgspec.structs.replace(
            self.base_ctx,
            mode=state,
            positions_base=self.positions(),
            live_orders=self.live_orders(),
            mids=self.mids(),
            product_rules=product_rules,
            account=self.account(),
            order_window=window,
            recent_orders=self.recent_orders(placed),
        )

    # ---------------------------------------------------------------- the order
    def size(self, product: str) -> Decimal:
        rng = self.rng
        cap = float(self.caps.get(ProductId(product), Decimal("100")))
        fraction = rng.uniform(0.05, 0.9) if rng.random() < 0.8 else rng.uniform(0.9, 1.3)
        size = _base(max(1, round(cap * fraction * 1e8)))
        if rng.random() < 0.02:  # past base_increment
            size += BASE_STEP / 10
        return size

    def shape(self, side: c.Side, mid: float) -> dict[str, Any]:
        """Order type, prices and time in force."""
        rng = self.rng
        kind = rng.choices(("limit", "market", "stop"), weights=(70, 20, 10))[0]
        if kind == "market":
            fields: dict[str, Any] = {
                "order_type": c.OrderType.MARKET,
                "limit_price": None,
                "time_in_force": c.TimeInForce.IOC,
            }
            if rng.random() < 0.5:
                fields |= {"size": _usd(rng.uniform(10, 120)), "size_in": c.SizeUnit.QUOTE}
            return fields
        if kind == "stop":
            sign = -1 if side is c.Side.SELL else 1
            stop = mid * (1 + sign * rng.uniform(0.001, 0.012))
            return {
                "order_type": c.OrderType.STOP_LIMIT,
                "stop_price": _usd(stop),
                "limit_price": _usd(stop * (1 + sign * 0.002)),
                "stop_direction": c.StopDirection.DOWN if sign < 0 else c.StopDirection.UP,
                "time_in_force": c.TimeInForce.GTC,
            }
        tif = rng.choices(tuple(c.TimeInForce), weights=(60, 25, 10, 5))[0]
        price = _usd(mid * (1 + rng.gauss(0, 0.006)))  # |z| > 1.67: past the 1 % collar
        if rng.random() < 0.01:
            price += CENT / 2  # past price_increment
        return {
            "order_type": c.OrderType.LIMIT,
            "limit_price": price,
            "time_in_force": tif,
            "end_time_ns": NOW + 300 * S if tif is c.TimeInForce.GTD else None,
            "post_only": tif in (c.TimeInForce.GTC, c.TimeInForce.GTD) and rng.random() < 0.4,
        }

    def order(self, i: int) -> c.PlaceOrder:
        rng = self.rng
        product = rng.choices(PRODUCTS, weights=PRODUCT_WEIGHTS)[0]
        side = rng.choice((c.Side.BUY, c.Side.SELL))
        mid = float(MIDS.get(product, Decimal("0.15")))
        signals = {"zscore": _usd(rng.gauss(0, 2)), "bb_width": _base(rng.randint(1, 5_000_000))}
        fields: dict[str, Any] = {
            "request_id": f"req-{i:06d}",
            "intent_id": f"mr.{product}.{NOW // S}.{i}",
            "product_id": product,
            "side": side,
            "size": self.size(product),
            "reduce_only": rng.random() < 0.05,
            "reason": reason(signals=signals),
            "sent_ns": NOW - rng.randint(0, 2_000) * 1_000,
        }
        return order(**(fields | self.shape(side, mid)))


def build(count: int, seed: int, cfg: GateConfig) -> list[tuple[c.PlaceOrder, CheckContext]]:
    scenario = Scenario(cfg, seed)
    pairs = []
    for i in range(count):
        placed = scenario.order(i)
        pairs.append((placed, scenario.context_for(placed)))
    return pairs


def _time_decide(pairs: Sequence[tuple[c.PlaceOrder, CheckContext]], cfg: GateConfig) -> list[int]:
    clock = time.perf_counter_ns
    samples = [0] * len(pairs)
    gc.collect()
    for i, (placed, ctx) in enumerate(pairs):
        start = clock()
        decide(placed, ctx, cfg)
        samples[i] = clock() - start
    return samples


def _time_decode(bodies: Sequence[bytes]) -> list[int]:
    clock = time.perf_counter_ns
    decode = c.decode_agent_message
    samples = [0] * len(bodies)
    gc.collect()
    for i, body in enumerate(bodies):
        start = clock()
        decode(body)
        samples[i] = clock() - start
    return samples


def verdict_mix(pairs: Sequence[tuple[c.PlaceOrder, CheckContext]], cfg: GateConfig) -> str:
    """Approved, and rejected by the first check that refused, in percent."""
    tally: Counter[str] = Counter()
    for placed, ctx in pairs:
        decision = decide(placed, ctx, cfg)
        fired = next((o.name for o in decision.outcomes if o.rejection is decision.rejection), "")
        tally["approved" if decision.approved else fired] += 1
    total = len(pairs)
    rows = [f"approved {100 * tally.pop('approved', 0) / total:.1f} %"]
    rows += [f"{name} {100 * n / total:.1f} %" for name, n in tally.most_common()]
    return "; ".join(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--seed", type=int, default=20251201)
    args = parser.parse_args()
    cfg = config()
    pairs = build(args.orders, args.seed, cfg)
    bodies = [c.encode(placed) for placed, _ in pairs]
    print(f"{args.orders} orders x {args.runs} runs, seed {args.seed}, median of runs")
    print(f"verdicts: {verdict_mix(pairs, cfg)}")

    decide_runs, decode_runs = [], []
    for _ in range(args.runs):
        decide_runs.append(summarize(_time_decide(pairs, cfg)))
        decode_runs.append(summarize(_time_decode(bodies)))
    dec50, dec99 = median_of_runs(decide_runs)
    cod50, cod99 = median_of_runs(decode_runs)
    verdict = "PASS" if dec99 <= TARGET_P99_US else "FAIL"
    report("decide (all checks, no rules)", dec50, dec99, f"target p99 <= 50 us: {verdict}")
    mean_body = sum(map(len, bodies)) / len(bodies)
    report("peer: decode_agent_message (strict)", cod50, cod99, f"body {mean_body:.0f} B mean")
    print(f"ratio decide/decode p50 {dec50 / cod50:.2f}x; p99 {dec99 / cod99:.2f}x")


if __name__ == "__main__":
    main()
