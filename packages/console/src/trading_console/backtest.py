"""`te backtest`: the agent's engine, the gate's checks and the paper venue in one process.

The engine and the gate exchange the same contract messages as over the socket, so every
limit of safety.yaml and the whole order lifecycle apply as in live trading. One
`ReplayClock` is the only time; the same inputs give the same gate.db audit chain and
the same agent.db events, byte for byte.

Timing (per candle, in completion order across products):
1. the clock moves to the candle's end; the venue sees the whole candle (resting orders,
   stops, the volume budget) and the gate syncs, pushing updates and fills;
2. the engine sees the complete candle and decides;
3. its orders go to the gate at once, at this close; the first trade after the close is
   the next candle's open, so that is where a market order takes (`on_open`): decided at
   one bar's close, filled at the next bar's open, never on the bar that triggered it.

Two replays give the same run folder: per bar (`replay="per_bar"`, the reference: every
candle through the engine and the venue) and fast (`trading_console.fast_replay`: only
the candles on which something can happen, the rest caught up). `replay="auto"` runs
fast when every strategy offers a plan (`strategies.base.Planned`), else per bar, and
the result says which ran and why. The engine records `equity` events only at the
start and after fills; the per-bar equity curve is computed after the run from the
closes and the fills (`fast_replay.equity_curve`), the same way in both modes.

A run folder gets: gate.db (the gate's audit log: every decision with every check's
outcome), agent.db (the engine's events), trades.csv, equity.csv, metrics.json and
report.html.
"""

import csv
import gc
import json
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Final, Literal

import msgspec
import numpy as np

import trading_sim as sim
from trading_agent.analytics.metrics import Metrics, compute_metrics
from trading_agent.config import StrategyParams
from trading_agent.config_files import load_strategy_dir
from trading_agent.domain.market import Candle
from trading_agent.domain.trades import Trade
from trading_agent.engine import Engine, ProductSpec, StrategySlot
from trading_agent.features import PrecomputedFeatures
from trading_agent.marketdata.columnar_csv import read_candle_columns
from trading_agent.marketdata.columnar_parquet import read_candle_parquet_columns
from trading_agent.marketdata.columns import CandleColumns
from trading_agent.marketdata.source import merge_by_completion
from trading_agent.store.event_store import EventStore
from trading_agent.strategies.base import Planned
from trading_agent.strategies.registry import build_strategy
from trading_console.fast_replay import (
    FLUSH_EVERY,
    FastReplay,
    IntArray,
    Replay,
    completion_order,
    equity_curve,
)
from trading_console.report import write_report
from trading_gate import InProcessGate, PaperConfig, ReplayClock, load_config
from trading_gate.core.rule_set import RuleSet
from trading_gate.rule_files import RuleSetError, load_rule_dir

__all__ = ["BacktestError", "BacktestResult", "BacktestSpec", "read_candles", "run_backtest"]

Progress = Callable[[int, int], None]
"""Called with (candles done, candles in all) as the run goes."""
Probe = Callable[[int, Engine], None]
"""Called after each step of a per-bar replay with (step, engine): for tests."""
ReplayMode = Literal["auto", "per_bar"]

_REPORT_POINTS: Final = 4_000  # the charts thin long runs to about this many points


class BacktestError(Exception):
    """The backtest cannot run as asked; the message says what to change."""


@dataclass(frozen=True, kw_only=True)
class BacktestSpec:
    """What to run: strategies on products over candle files, under a safety config."""

    strategies: tuple[str, ...]
    data: Mapping[str, Path]  # product id -> candle file (.csv, .csv.gz or .parquet)
    strategy_dir: Path
    safety_config: Path
    run_dir: Path
    starting_cash_usd: Decimal = Decimal(1000)
    fees: sim.FeeSchedule = sim.COINBASE_ADVANCED_SPOT
    spread_bps: Decimal = Decimal(2)
    slippage_bps: Decimal = Decimal(0)
    participation: Decimal = Decimal("0.1")
    seed: int = 0
    params: Mapping[str, StrategyParams] = field(default_factory=dict)  # overrides the dir
    replay: ReplayMode = "auto"  # "per_bar" forces the reference replay
    # The rule directory (core/, active/, shadow/) the gate enforces, as in live; None:
    # no rules.
    rules_dir: Path | None = None


@dataclass(frozen=True, kw_only=True)
class BacktestResult:
    """A finished run. The bulky fields stay out of its repr: `asyncio.run` formats the
    finished task (result included) when it restores the SIGINT handler, and a year's
    equity curve took 0.3 s to print each time."""

    run_dir: Path
    metrics: Metrics
    trades: tuple[Trade, ...] = field(repr=False)
    equity_ts_ns: tuple[int, ...] = field(repr=False)
    equity_usd: tuple[float, ...] = field(repr=False)
    candles: int
    orders: int
    unsent: int
    rejections: dict[str, int]
    elapsed_s: float  # everything: reading the data, the replay, closing the stores
    replay_s: float  # the candle loop alone: strategies, gate, venue, stores
    final_gate_state: str
    candles_by_product: Mapping[str, Sequence[Candle]] = field(repr=False)
    mode: str = "per_bar"  # the replay that ran: "fast" or "per_bar"
    mode_reason: str = ""  # why that one
    visited: int = 0  # candles the engine processed (all of them per bar)

    def summary(self) -> dict[str, object]:
        """The metrics plus the run's own figures, for `--json`."""
        return self.metrics.to_dict() | {
            "bars_processed": self.candles,
            "orders_sent": self.orders,
            "orders_unsent_at_end": self.unsent,
            "rejections": self.rejections,
            "elapsed_s": round(self.elapsed_s, 3),
            "replay_s": round(self.replay_s, 3),
            "final_gate_state": self.final_gate_state,
            "replay_mode": self.mode,
            "replay_mode_reason": self.mode_reason,
            "bars_visited": self.visited,
            "run_dir": str(self.run_dir),
        }


def read_candles(product_id: str, path: Path) -> CandleColumns:
    """A candle file by its suffix: Parquet, or the CSV format of ../shared/data.

    Raises:
        CandleFileError: a refused or empty file (naming the line or row).
    """
    if path.suffix == ".parquet":
        return read_candle_parquet_columns(path, product_id)
    return read_candle_columns(path, product_id)


async def run_backtest(
    spec: BacktestSpec, progress: Progress | None = None, *, probe: Probe | None = None
) -> BacktestResult:
    """Run `spec` to the end of its data and write the run folder.

    `probe` (tests) is called after every step; it forces the per-bar replay.

    Raises:
        BacktestError: a bad spec (unknown strategy, product not on the venue, no data,
            a run folder that already holds a run).
        ConfigError, StrategyConfigError, CandleFileError: a refused input file.
    """
    started = time.perf_counter()
    if not spec.data:
        raise BacktestError("no candles for any product")
    series = {p: read_candles(p, path) for p, path in sorted(spec.data.items())}
    rules = _rules(spec.rules_dir)
    _prepare(spec.run_dir)
    first = min(candles[0].start_ns for candles in series.values())
    clock = ReplayClock(first)
    gate = InProcessGate(
        config=load_config(spec.safety_config),
        data_dir=spec.run_dir,
        clock=clock,
        paper=PaperConfig(
            engine=sim.EngineConfig(
                fees=spec.fees,
                spread_bps=spec.spread_bps,
                slippage_bps=spec.slippage_bps,
                participation=spec.participation,
            ),
            starting_balances={"USD": spec.starting_cash_usd},
            seed=spec.seed,
        ),
        starting_cash_usd=spec.starting_cash_usd,
        rules=rules,
    )
    slots = _slots(spec, series)
    order = completion_order(series)
    replay_started = time.perf_counter()
    mode, reason, candidates = _choose_mode(spec, slots, series, probe)
    engine = Engine(
        slots=slots,
        specs={p: _product_spec(gate, p) for p in series},
        starting_cash_usd=spec.starting_cash_usd,
        features=PrecomputedFeatures(series) if mode == "fast" else None,
        equity_every_ns=None,
    )
    store = EventStore(spec.run_dir / "agent.db")
    # The candles live for the whole run: keep the cyclic collector from re-scanning
    # them (hundreds of thousands of objects) at every full collection.
    gc.freeze()
    try:
        loop: Replay
        if mode == "fast":
            loop = FastReplay(
                engine, gate, clock, store, series, candidates=candidates, order=order
            )
        else:
            loop = _Loop(engine, gate, clock, store, series, probe)
        await loop.start()
        await _run(loop, series, progress)
        replay_s = time.perf_counter() - replay_started
    finally:
        store.close()
        gate.close()
        gc.unfreeze()
    trades = tuple(engine.trades.closed)
    ts, equity = equity_curve(series, loop.fills, spec.starting_cash_usd, order)
    equity_ts, equity_usd = tuple(ts.tolist()), tuple(equity.tolist())
    metrics = compute_metrics(equity_ts, equity_usd, trades, engine.portfolio.traded_notional_usd)
    result = BacktestResult(
        run_dir=spec.run_dir,
        metrics=metrics,
        trades=trades,
        equity_ts_ns=equity_ts,
        equity_usd=equity_usd,
        candles=loop.candles,
        orders=loop.orders,
        unsent=loop.unsent,
        rejections=dict(sorted(loop.rejections.items())),
        elapsed_s=time.perf_counter() - started,
        replay_s=replay_s,
        final_gate_state=engine.gate_state.value,
        candles_by_product=series,
        mode=mode,
        mode_reason=reason,
        visited=loop.visited if isinstance(loop, FastReplay) else loop.candles,
    )
    _write_outputs(result, spec)
    return result


def _choose_mode(
    spec: BacktestSpec,
    slots: Sequence[StrategySlot],
    series: Mapping[str, Sequence[Candle]],
    probe: Probe | None,
) -> tuple[str, str, dict[str, IntArray]]:
    """("fast" or "per_bar", why, each product's candidate bars); plans the strategies
    only when running fast (a planned strategy reads its plan from then on)."""
    if spec.replay == "per_bar" or probe is not None:
        return "per_bar", "asked for", {}
    unplanned = sorted(
        {s.strategy.strategy_id for s in slots if not isinstance(s.strategy, Planned)}
    )
    if unplanned:
        return "per_bar", f"no plan for {', '.join(unplanned)}", {}
    candidates: dict[str, list[IntArray]] = {}
    for slot in slots:
        assert isinstance(slot.strategy, Planned)  # noqa: S101 - checked just above
        candidates.setdefault(slot.product_id, []).append(
            slot.strategy.plan(series[slot.product_id])
        )
    merged = {p: np.unique(np.concatenate(arrays)) for p, arrays in candidates.items()}
    return "fast", "every strategy has a plan", merged


async def _run(
    loop: Replay, series: Mapping[str, Sequence[Candle]], progress: Progress | None
) -> None:
    if isinstance(loop, FastReplay):
        await loop.run(progress)
    elif isinstance(loop, _Loop):
        await loop.run(merge_by_completion(series.values()), progress)


class _Loop(Replay):
    """The per-bar replay: every candle, in completion order, through `Replay.visit`."""

    def __init__(
        self,
        engine: Engine,
        gate: InProcessGate,
        clock: ReplayClock,
        store: EventStore,
        series: Mapping[str, Sequence[Candle]],
        probe: Probe | None = None,
    ) -> None:
        super().__init__(engine, gate, clock, store, series)
        self._probe = probe
        self._seen: dict[str, int] = {}

    async def run(self, candles: Iterable[Candle], progress: Progress | None) -> None:
        total = sum(len(v) for v in self.series.values())
        for candle in candles:
            position = self._seen[candle.product_id] = self._seen.get(candle.product_id, -1) + 1
            self.step = self.candles
            await self.visit(candle, position)
            if self._probe is not None:
                self._probe(self.step, self.engine)
            self.candles += 1
            if self.candles % FLUSH_EVERY == 0:
                self.store.flush()
                if progress is not None:
                    progress(self.candles, total)
        self.store.append(self.engine.drain_events())
        if progress is not None:
            progress(self.candles, total)


def _slots(spec: BacktestSpec, series: Mapping[str, Sequence[Candle]]) -> list[StrategySlot]:
    params = dict(load_strategy_dir(spec.strategy_dir)) | dict(spec.params)
    unknown = [s for s in spec.strategies if s not in params]
    if unknown:
        raise BacktestError(
            f"no parameter file for {', '.join(unknown)} in {spec.strategy_dir} "
            f"(have: {', '.join(sorted(params)) or 'none'})"
        )
    return [
        StrategySlot(
            strategy=build_strategy(name, product, params[name]),
            product_id=product,
            sizing=params[name].sizing,
        )
        for product in series
        for name in spec.strategies
    ]


def _product_spec(gate: InProcessGate, product_id: str) -> ProductSpec:
    rules = gate.product_rules(product_id)
    if rules is None:
        raise BacktestError(f"the paper venue does not list {product_id}")
    return ProductSpec(
        product_id=product_id, base_increment=rules.base_increment, min_size=rules.base_min_size
    )


def _rules(rules_dir: Path | None) -> RuleSet | None:
    if rules_dir is None:
        return None
    try:
        return load_rule_dir(rules_dir)
    except RuleSetError as exc:
        raise BacktestError(exc.render()) from None


def _prepare(run_dir: Path) -> None:
    if (run_dir / "gate.db").exists() or (run_dir / "agent.db").exists():
        raise BacktestError(f"{run_dir} already holds a run; choose a new --out folder")
    run_dir.mkdir(parents=True, exist_ok=True)


def _write_outputs(result: BacktestResult, spec: BacktestSpec) -> None:
    run_dir = result.run_dir
    (run_dir / "metrics.json").write_text(
        json.dumps(result.summary(), indent=2, sort_keys=True) + "\n"
    )
    with (run_dir / "equity.csv").open("w", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(["ts_ns", "equity_usd"])
        writer.writerows(zip(result.equity_ts_ns, result.equity_usd, strict=True))
    with (run_dir / "trades.csv").open("w", newline="") as out:
        fields = list(msgspec.structs.fields(Trade))
        writer = csv.writer(out)
        writer.writerow([f.name for f in fields])
        for trade in result.trades:
            writer.writerow([_cell(getattr(trade, f.name)) for f in fields])
    step = max(1, len(result.equity_ts_ns) // _REPORT_POINTS)
    write_report(
        run_dir,
        title=f"{' + '.join(spec.strategies)} on {', '.join(spec.data)}",
        equity_ts_ns=result.equity_ts_ns[::step],
        equity=result.equity_usd[::step],
        trades=result.trades,
        metrics=result.metrics,
        candles_by_product={p: c[::step] for p, c in result.candles_by_product.items()},
        params=_report_params(spec, result),
    )


def _report_params(spec: BacktestSpec, result: BacktestResult) -> dict[str, object]:
    return {
        "strategies": ", ".join(spec.strategies),
        "data": ", ".join(f"{p}: {path.name}" for p, path in spec.data.items()),
        "safety config": str(spec.safety_config),
        "rules": str(spec.rules_dir) if spec.rules_dir is not None else "none",
        "starting cash (USD)": str(spec.starting_cash_usd),
        "fee tiers": ", ".join(
            f"{t.name} {t.maker_rate}/{t.taker_rate}" for t in spec.fees.tiers[:3]
        ),
        "spread / slippage (bps)": f"{spec.spread_bps} / {spec.slippage_bps}",
        "seed": str(spec.seed),
        "orders sent": str(result.orders),
        "gate refusals": ", ".join(f"{k} {v}" for k, v in result.rejections.items()) or "none",
        "final gate state": result.final_gate_state,
    }


def _cell(value: object) -> str:
    return "" if value is None else str(value)
