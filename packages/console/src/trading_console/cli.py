"""The `te` command: the operator's entry point to the whole system."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import signal
import sys
import time
from decimal import Decimal, InvalidOperation
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING

import click
from rich.console import Console
from rich.table import Table

import trading_contract
from trading_console import up_lock
from trading_console.commands.audit import audit
from trading_console.commands.bootstrap import bootstrap
from trading_console.commands.control import kill, resume
from trading_console.commands.data import data
from trading_console.commands.down import down
from trading_console.commands.journal import journal
from trading_console.commands.proposals import proposals
from trading_console.commands.rules import rules
from trading_console.commands.status import status
from trading_console.components import COMPONENTS
from trading_console.supervisor import (
    Child,
    SupervisorError,
    VenueUrls,
    agent_child,
    dashboard_child,
    gate_child,
    minimal_env,
    venue_child,
)

if TYPE_CHECKING:
    import trading_sim as sim
    from trading_console import backtest as bt


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="trading-console")
def main() -> None:
    """te: run, watch and stop the trading system."""


main.add_command(bootstrap)
main.add_command(status)
main.add_command(kill)
main.add_command(resume)
main.add_command(audit)
main.add_command(journal)
main.add_command(data)
main.add_command(down)
main.add_command(rules)
main.add_command(proposals)


# The options `up` and `backtest` share: the same files, so the same defaults.
_CONFIG_OPTION = click.option(
    "--config",
    type=click.Path(dir_okay=False, path_type=Path),
    default=Path("config/safety.yaml"),
    show_default=True,
    help="The gate's safety limits (a backtest applies them as in live trading).",
)
_STRATEGIES_OPTION = click.option(
    "--strategies-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("config/strategies"),
    show_default=True,
    help="The agent's strategy parameter files.",
)


class _Stop(Exception):
    pass


def _raise_stop(signum: int, frame: FrameType | None) -> None:
    raise _Stop


@main.command()
@_CONFIG_OPTION
@click.option(
    "--data",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("data"),
    show_default=True,
    help="Runtime data: gate.db, the audit anchor, sockets, logs.",
)
@_STRATEGIES_OPTION
@click.option("--duration", type=float, default=None, help="Stop after this many seconds.")
@click.option("--bar-seconds", type=float, default=1.0, show_default=True, help="Replay speed.")
@click.option(
    "--exchange",
    type=click.Choice(["loopback", "paper"]),
    default="loopback",
    show_default=True,
    help="loopback: the Coinbase-protocol venue on 127.0.0.1, reached through the gate's "
    "real Coinbase adapter; paper: the gate's in-process paper exchange.",
)
@click.option(
    "--live",
    is_flag=True,
    help="Trade real money on Coinbase with the key file of the safety config, after an "
    "explicit confirmation (type LIVE).",
)
@click.option(
    "--i-understand-this-trades-real-money",
    "live_confirmed",
    is_flag=True,
    help="With --live and no terminal to ask on: the confirmation, given in advance.",
)
def up(
    config: Path,
    data: Path,
    strategies_dir: Path,
    duration: float | None,
    bar_seconds: float,
    exchange: str,
    live: bool,
    live_confirmed: bool,
) -> None:
    """Start the system: loopback exchange, gate, agent and dashboard.

    With no keys and no internet: the loopback Coinbase venue replays bundled real
    candles; the gate trades on it through its Coinbase adapter with a demo key made
    for it; the agent reads the venue's public market data. Ctrl-C (or --duration)
    stops them in order: agent, dashboard, gate (after cancelling its orders), venue.
    """
    console = Console()
    if live:
        _confirm_live(console, config, live_confirmed)
        exchange = "live"
    console.print(_components_table(exchange))
    if not config.is_file():
        raise click.ClickException(f"no safety config at {config}; pass --config PATH")
    root = data.resolve()
    try:
        up_lock.take(root)
    except up_lock.UpLockError as exc:
        raise click.ClickException(str(exc)) from exc
    if exchange != "live":
        _set_aside_previous_run(console, root)
    started: list[Child] = []
    previous = signal.signal(signal.SIGTERM, _raise_stop)
    try:
        _start_stack(console, started, root, config.resolve(), strategies_dir.resolve(),
                     bar_seconds, mode=exchange)  # fmt: skip
        console.print(
            "logs:     " + ", ".join(str(c.log_path) for c in started) + "\n"
            f"status:   uv run te status --data {data}\n"
            f"kill:     uv run te kill --data {data} --reason '...'\n"
            f"stop:     Ctrl-C, or uv run te down --data {data}",
            soft_wrap=True,
        )
        began = time.monotonic()
        while all(c.alive() for c in started) and (
            duration is None or time.monotonic() - began < duration
        ):
            time.sleep(0.2)
        for child in started:
            if not child.alive():
                console.print(f"[red]{child.name} stopped; see {child.log_path}[/red]")
    except (SupervisorError, ValueError) as exc:
        raise click.ClickException(str(exc)) from exc
    except (KeyboardInterrupt, _Stop):
        pass
    finally:
        signal.signal(signal.SIGTERM, previous)
        _stop_stack(console, started)
        up_lock.release(root)


def _start_stack(
    console: Console,
    started: list[Child],
    root: Path,
    config: Path,
    strategies_dir: Path,
    bar_seconds: float,
    *,
    mode: str,
) -> None:
    """Start venue (loopback only), gate, agent and dashboard, in that order; each
    child joins `started` once it is ready, so a failure stops only what runs."""
    env = minimal_env()
    venue: VenueUrls | None = None
    products: tuple[str, ...] = ()
    # The operator's rules, whatever config the gate runs on (the demo writes its own).
    rules = config.parent / "rules"
    if mode == "live":
        from trading_gate import load_config

        venue = COINBASE
        products = tuple(sorted(load_config(config).config.products))
    elif mode == "loopback":
        import trading_sim as sim
        from trading_console.demo import prepare_demo

        demo = prepare_demo(root, config)
        config = demo.safety_config
        exchange_sim = venue_child(root, bar_seconds, demo.public_key_file, demo.key_name)
        venue = VenueUrls.parse(_started(console, started, exchange_sim, env))
        products = tuple(sim.BUNDLED_PRODUCTS)
    _started(console, started, gate_child(config, root, bar_seconds, venue, rules), env)
    granularity = "FIVE_MINUTE" if mode == "live" else "FIFTEEN_MINUTE"
    agent = agent_child(root, strategies_dir, venue, products, granularity=granularity, rules=rules)
    _started(console, started, agent, env)
    line = _started(console, started, dashboard_child(root, rules), env, quiet=True)
    # soft_wrap: the terminal's own wrapping keeps the link whole and clickable.
    console.print(f"[bold green]{line}[/bold green]", soft_wrap=True)


_RUN_FILES = ("gate.db", "gate.db-wal", "gate.db-shm", "audit.anchor",
              "agent.db", "agent.db-wal", "agent.db-shm")  # fmt: skip


def _set_aside_previous_run(console: Console, root: Path) -> None:
    """The loopback venue and the paper exchange start empty every time, so the journal
    of the run before would not match them (the gate would rightly refuse to serve):
    its databases move to data/previous/<time>/, kept, not deleted."""
    present = [root / name for name in _RUN_FILES if (root / name).exists()]
    if not present:
        return
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%d-%H%M%S")
    keep = root / "previous" / stamp
    keep.mkdir(parents=True, exist_ok=False)
    for path in present:
        path.rename(keep / path.name)
    console.print(f"the simulated venue starts empty: the last run's databases moved to {keep}")


def _components_table(exchange: str) -> Table:
    table = Table(title=f"te up (agent-gate protocol v{trading_contract.PROTOCOL_VERSION})")
    for column in ("component", "role", "status"):
        table.add_column(column)
    why = "--live" if exchange == "live" else "--exchange paper"
    for component in COMPONENTS:
        skipped = component.name == "exchange-sim" and exchange != "loopback"
        status = f"not used ({why})" if skipped else "starting"
        if not component.available:
            status = f"not built yet: {component.built_by}"
        table.add_row(component.name, component.role, status)
    return table


COINBASE = VenueUrls(
    rest="https://api.coinbase.com",
    market_ws="wss://advanced-trade-ws.coinbase.com",
    user_ws="wss://advanced-trade-ws-user.coinbase.com",
)


def _confirm_live(console: Console, config: Path, confirmed: bool) -> None:
    """Real money: only after a person says so, on a terminal or with the long flag."""
    if confirmed:
        return
    if not sys.stdin.isatty():
        raise click.ClickException(
            "refusing to trade real money without confirmation: run on a terminal, or pass "
            "--i-understand-this-trades-real-money"
        )
    console.print(
        f"[bold red]--live trades REAL MONEY on Coinbase[/bold red] with the key named in "
        f"{config}, within its limits."
    )
    if click.prompt("Type LIVE to go on", default="", show_default=False) != "LIVE":
        raise click.ClickException("not confirmed; nothing was started")


def _started(
    console: Console,
    started: list[Child],
    child: Child,
    env: dict[str, str],
    *,
    quiet: bool = False,
) -> str:
    line = child.start(env)
    started.append(child)
    if not quiet:
        console.print(line, soft_wrap=True)
    return line


_STOP_ORDER = ("agent", "dashboard", "gate", "exchange-sim")


def _stop_stack(console: Console, started: list[Child]) -> None:
    # The agent first, so no intent arrives while the gate cancels and stops; the venue
    # last, so the gate can still cancel on it.
    for name in _STOP_ORDER:
        for child in (c for c in started if c.name == name):
            code = child.stop()
            console.print(f"{name} stopped" + (f" (exit {code})" if name != "dashboard" else ""))


def _decimal(ctx: click.Context, param: click.Parameter, value: str | None) -> Decimal | None:
    if value is None:
        return None
    try:
        number = Decimal(value)
    except InvalidOperation:
        raise click.BadParameter(f"{value!r} is not a decimal number") from None
    if not number.is_finite() or number < 0:
        raise click.BadParameter(f"{value} must be a finite number >= 0")
    return number


@main.command()
@click.option(
    "--strategy",
    "strategies",
    multiple=True,
    required=True,
    help="Strategy to run (repeat for several): sma_cross, mean_reversion, momentum.",
)
@click.option(
    "--product", "products", multiple=True, required=True, help="Product id (repeatable)."
)
@click.option(
    "--data",
    "data_files",
    multiple=True,
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    help="Candle file per --product, in the same order (default: the bundled sample).",
)
@_STRATEGIES_OPTION
@_CONFIG_OPTION
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), help="Run folder.")
@click.option("--cash", default="1000", show_default=True, callback=_decimal, help="Start USD.")
@click.option(
    "--fee-bps",
    default=None,
    callback=_decimal,
    help="A flat fee on every fill, in bps (default: Coinbase's published tiers).",
)
@click.option("--spread-bps", default="2", show_default=True, callback=_decimal)
@click.option("--slippage-bps", default="0", show_default=True, callback=_decimal)
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print the metrics as JSON only.")
@click.option(
    "--per-bar",
    is_flag=True,
    help="Run every bar through the engine (the reference replay), not the fast one.",
)
@click.option(
    "--rules",
    "rules_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="The rule directory the gate enforces [default: rules/ next to --config].",
)
def backtest(
    strategies: tuple[str, ...],
    products: tuple[str, ...],
    data_files: tuple[Path, ...],
    strategies_dir: Path,
    config: Path,
    out: Path | None,
    cash: Decimal,
    fee_bps: Decimal | None,
    spread_bps: Decimal,
    slippage_bps: Decimal,
    seed: int,
    as_json: bool,
    per_bar: bool,
    rules_dir: Path | None,
) -> None:
    """Replay candles through the agent's strategies, the gate's checks and the paper venue.

    Writes a run folder (gate.db, agent.db, trades.csv, equity.csv, metrics.json,
    report.html) and prints the metrics, with the replay mode that ran: fast (only the
    bars where something can happen) when every strategy offers a plan, else per bar.
    """
    from trading_console import backtest as bt

    spec = bt.BacktestSpec(
        strategies=strategies,
        data=_data_files(products, data_files),
        strategy_dir=strategies_dir,
        safety_config=config,
        run_dir=out or _default_run_dir(strategies, products),
        starting_cash_usd=cash,
        fees=sim_fees(fee_bps),
        spread_bps=spread_bps,
        slippage_bps=slippage_bps,
        seed=seed,
        replay="per_bar" if per_bar else "auto",
        rules_dir=rules_dir if rules_dir is not None else config.parent / "rules",
    )
    console = Console(stderr=True)
    try:
        result = _run_with_progress(spec, console, quiet=as_json)
    except (bt.BacktestError, ValueError, OSError) as exc:
        raise click.ClickException(str(exc)) from exc
    report = result.run_dir / "report.html"
    if as_json:
        click.echo(json.dumps(result.summary(), sort_keys=True))
        return
    _print_metrics(Console(), result.summary(), report)


def sim_fees(fee_bps: Decimal | None) -> sim.FeeSchedule:
    import trading_sim as sim

    if fee_bps is None:
        return sim.COINBASE_ADVANCED_SPOT
    rate = fee_bps / Decimal(10_000)
    flat = sim.FeeTier(name="flat", min_volume_quote=Decimal(0), maker_rate=rate, taker_rate=rate)
    return sim.FeeSchedule(tiers=(flat,))


def _data_files(products: tuple[str, ...], files: tuple[Path, ...]) -> dict[str, Path]:
    import trading_sim as sim

    if files and len(files) != len(products):
        raise click.BadParameter(
            f"{len(files)} --data files for {len(products)} --product ids; give one per product",
            param_hint="--data",
        )
    if len(set(products)) != len(products):
        raise click.BadParameter("a product is listed twice", param_hint="--product")
    if files:
        return dict(zip(products, files, strict=True))
    missing = [p for p in products if p not in sim.BUNDLED_PRODUCTS]
    if missing:
        raise click.BadParameter(
            f"no bundled sample for {', '.join(missing)}; pass --data",
            param_hint="--product",
        )
    return {p: sim.bundled_bars_path(p) for p in products}


def _default_run_dir(strategies: tuple[str, ...], products: tuple[str, ...]) -> Path:
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%d-%H%M%S")
    return Path("runs") / f"{'+'.join(strategies)}_{'+'.join(products)}_{stamp}"


def _run_with_progress(
    spec: bt.BacktestSpec, console: Console, *, quiet: bool
) -> bt.BacktestResult:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

    from trading_console import backtest as bt

    with Progress(
        "[progress.description]{task.description}",
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=console,
        disable=quiet,
        transient=True,
    ) as bar:
        task = bar.add_task("backtest", total=None)

        def progress(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        return asyncio.run(bt.run_backtest(spec, progress))


def _print_metrics(console: Console, summary: dict[str, object], report: Path) -> None:
    table = Table(title="backtest")
    table.add_column("metric")
    table.add_column("value", justify="right")
    for key, value in summary.items():
        table.add_row(key.removesuffix("_ns").replace("_", " "), _shown_as(key, value))
    console.print(table)
    console.print(f"report: {report}")


_PERCENT_KEYS = frozenset({"total_return", "cagr", "max_drawdown", "exposure", "win_rate"})


def _shown_as(key: str, value: object) -> str:
    """A metric as a person reads it: dates for *_ns, percentages for ratios."""
    if value is None:
        return "n/a"
    if key.endswith("_ns") and isinstance(value, int):
        return dt.datetime.fromtimestamp(value / 1e9, dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    if key in _PERCENT_KEYS and isinstance(value, float):
        return f"{value:.2%}"
    if isinstance(value, float):
        return f"{value:,.4g}" if abs(value) < 1000 else f"{value:,.2f}"
    if isinstance(value, dict):
        return ", ".join(f"{k} {v}" for k, v in value.items()) or "none"
    return str(value)
