"""The `trading-gate` command: run the gate, check its config, verify its audit log, and
talk to a running gate through its admin socket."""

import getpass
import secrets
import sys
from decimal import Decimal
from pathlib import Path

import click
import msgspec

import trading_contract
from trading_contract import (
    AdminAck,
    AdminHalt,
    AdminReloadConfig,
    AdminReloadRules,
    AdminRequest,
    AdminResume,
    AdminStatus,
    AdminStatusReply,
    RequestId,
    TradingState,
)
from trading_gate.audit_cli import audit_verify
from trading_gate.config_cli import check_config

_DATA = click.option(
    "--data",
    "data_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("data"),
    show_default=True,
    help="The gate's data directory (gate.db, audit.anchor, run/ sockets).",
)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="trading-gate")
def main() -> None:
    """The gate: checks every order against the safety limits and rules, alone holds
    the exchange keys, and writes the audit log.
    """


@main.command()
@click.option(
    "--config",
    "config_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=Path("config/safety.yaml"),
    show_default=True,
)
@click.option(
    "--exchange", type=click.Choice(["paper", "coinbase"]), default="paper", show_default=True
)
@_DATA
@click.option(
    "--bar-seconds",
    type=float,
    default=1.0,
    show_default=True,
    help="Paper: seconds per replayed bar.",
)
@click.option(
    "--starting-usd", type=str, default="10000", show_default=True, help="Paper: starting cash."
)
@click.option("--duration", type=float, default=None, help="Stop after this many seconds.")
@click.option(
    "--venue-url", default=None, help="Coinbase: REST base URL (default: Coinbase's own)."
)
@click.option(
    "--venue-ws-url",
    default=None,
    help="Coinbase: market-data websocket URL (default: Coinbase's own); also the user "
    "channel's unless --venue-user-ws-url is given.",
)
@click.option("--venue-user-ws-url", default=None, help="Coinbase: user-channel websocket URL.")
@click.option(
    "--rules",
    "rules_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="The rule directory (core/, active/, shadow/). Default: rules/ next to --config.",
)
def run(
    config_path: Path,
    exchange: str,
    data_dir: Path,
    bar_seconds: float,
    starting_usd: str,
    duration: float | None,
    venue_url: str | None,
    venue_ws_url: str | None,
    venue_user_ws_url: str | None,
    rules_dir: Path | None,
) -> None:
    """Run the gate: serve the agent and admin sockets until SIGINT or SIGTERM.

    With --exchange coinbase the key file named in the config is required; against the
    loopback venue, pass the URLs `python -m trading_sim.venue` prints.
    """
    from trading_gate.app import RunOptions
    from trading_gate.app import run as run_gate

    options = RunOptions(
        config_path=config_path.resolve(),
        data_dir=data_dir.resolve(),
        exchange=exchange,
        bar_seconds=bar_seconds,
        starting_usd=Decimal(starting_usd),
        duration_s=duration,
        venue_url=venue_url,
        venue_ws_url=venue_ws_url,
        venue_user_ws_url=venue_user_ws_url,
        rules_dir=rules_dir.resolve() if rules_dir is not None else None,
    )
    raise SystemExit(run_gate(options))


@main.command("check-config")
@click.argument("path", type=click.Path(path_type=Path))
def check_config_command(path: Path) -> None:
    """Validate a safety.yaml without starting the gate (exit 0 valid, 1 invalid, 2 unreadable)."""
    code, text = check_config(path)
    click.echo(text, err=code != 0)
    raise SystemExit(code)


@main.group()
def audit() -> None:
    """The hash-chained audit log."""


@audit.command("verify")
@click.option(
    "--db", type=click.Path(path_type=Path), default=Path("data/gate.db"), show_default=True
)
@click.option(
    "--anchor",
    type=click.Path(path_type=Path),
    default=Path("data/audit.anchor"),
    show_default=True,
)
@click.option(
    "--no-anchor", is_flag=True, help="Verify the chain alone (a truncated tail is then invisible)."
)
def audit_verify_command(db: Path, anchor: Path, no_anchor: bool) -> None:
    """Recompute the chain; name the first bad row; check the anchor file."""
    code, text = audit_verify(db, None if no_anchor else anchor)
    click.echo(text, err=code != 0)
    raise SystemExit(code)


def _ask(data_dir: Path, message: AdminRequest) -> AdminAck | AdminStatusReply:
    from trading_gate.admin_client import GateUnreachable, request

    try:
        reply = request(data_dir / "run" / "admin.sock", message)
    except GateUnreachable as exc:
        click.echo(f"trading-gate: {exc}", err=True)
        raise SystemExit(3) from None
    if isinstance(reply, trading_contract.Error):
        click.echo(f"trading-gate: the gate refused the request: {reply.message}", err=True)
        raise SystemExit(1)
    return reply


def _request_id() -> RequestId:
    return RequestId(f"cli-{secrets.token_hex(6)}")


def _operator(given: str | None) -> str:
    return given or getpass.getuser()


@main.command()
@_DATA
@click.option("--json", "as_json", is_flag=True, help="Print the reply as JSON.")
def status(data_dir: Path, as_json: bool) -> None:
    """The running gate's trading state, agent link and open orders."""
    reply = _ask(data_dir, AdminStatus(request_id=_request_id()))
    if as_json:
        click.echo(msgspec.json.encode(reply).decode())
        return
    assert isinstance(reply, AdminStatusReply)  # noqa: S101 - a status request gets a status
    click.echo(f"state:        {reply.state.value} ({reply.cause})")
    click.echo(f"agent:        {'connected' if reply.agent_connected else 'not connected'}")
    click.echo(f"open orders:  {reply.open_orders} ({reply.unknown_orders} unknown)")
    click.echo(f"config:       {reply.config_hash}")


@main.command()
@_DATA
@click.option("--reason", default="", help="Why (recorded in the audit log).")
@click.option("--operator", default=None, help="Who (default: your user name).")
def halt(data_dir: Path, reason: str, operator: str | None) -> None:
    """The kill switch: latch HALTED, cancel every open order, verify the book is empty."""
    reply = _ask(
        data_dir, AdminHalt(request_id=_request_id(), operator=_operator(operator), reason=reason)
    )
    _finish(reply)


@main.command()
@_DATA
@click.option("--to", "to", type=click.Choice(["active", "reducing"]), required=True)
@click.option("--reason", required=True, help="Why it is safe to trade again (audited).")
@click.option("--operator", default=None, help="Who (default: your user name).")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
def resume(data_dir: Path, to: str, reason: str, operator: str | None, yes: bool) -> None:
    """Lower the trading state: the only way out of HALTED, and only by a human."""
    if not yes:
        click.confirm(f"Resume trading to {to.upper()}?", abort=True)
    message = AdminResume(
        request_id=_request_id(), operator=_operator(operator), reason=reason, to=TradingState(to)
    )
    _finish(_ask(data_dir, message))


@main.command("reload-config")
@_DATA
@click.option("--operator", default=None)
def reload_config_command(data_dir: Path, operator: str | None) -> None:
    """Re-read safety.yaml in the running gate; a bad file keeps the old config."""
    _finish(
        _ask(data_dir, AdminReloadConfig(request_id=_request_id(), operator=_operator(operator)))
    )


@main.command("reload-rules")
@_DATA
@click.option("--operator", default=None)
def reload_rules_command(data_dir: Path, operator: str | None) -> None:
    """Re-read the rule files in the running gate; any bad file keeps the old set."""
    _finish(
        _ask(data_dir, AdminReloadRules(request_id=_request_id(), operator=_operator(operator)))
    )


@main.group()
def rules() -> None:
    """The rule language: lint rule files, explain a decision, list the vocabulary."""


@rules.command("check")
@click.argument("rules_dir", type=click.Path(path_type=Path), default=Path("config/rules"))
def rules_check_command(rules_dir: Path) -> None:
    """Load every rule file under RULES_DIR as the gate would (exit 0 clean, 1 problems)."""
    from trading_gate.rules_cli import check_dir

    code, text = check_dir(rules_dir)
    click.echo(text, err=code != 0)
    raise SystemExit(code)


@rules.command("explain")
@click.argument("context_file", type=click.Path(dir_okay=False, path_type=Path), required=False)
@click.option(
    "--rules",
    "rules_dir",
    type=click.Path(path_type=Path),
    default=Path("config/rules"),
    show_default=True,
)
@click.option(
    "--db",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Explain the decision recorded in this gate.db (with --seq).",
)
@click.option("--seq", type=int, default=None, help="The audit row of the decision.")
def rules_explain_command(
    context_file: Path | None, rules_dir: Path, db: Path | None, seq: int | None
) -> None:
    """Which rules fire on one order, and the values each one read.

    CONTEXT_FILE is JSON: field values ({"order.product": "ETH-USD", ...}), or the
    `rule_context` of a decision's audit row; or give --db and --seq instead.
    """  # fmt: skip
    from trading_gate.rule_files import RuleSetError, load_rule_dir
    from trading_gate.rules_cli import (
        ExplainInputError,
        context_from_audit,
        context_from_json,
        explain,
    )

    try:
        loaded = load_rule_dir(rules_dir)
        if db is not None and seq is not None:
            ctx = context_from_audit(db, seq)
        elif context_file is not None:
            ctx = context_from_json(context_file.read_text(), source=str(context_file))
        else:
            raise click.UsageError("give CONTEXT_FILE, or --db and --seq")
    except (RuleSetError, ExplainInputError, OSError) as exc:
        click.echo(f"trading-gate rules explain: {exc}", err=True)
        raise SystemExit(2) from None
    click.echo(explain(loaded, ctx))


@rules.command("vocabulary")
def rules_vocabulary_command() -> None:
    """Every field a rule may read (type, unit, meaning) and every operator."""
    from trading_gate.rules import describe_vocabulary

    click.echo(describe_vocabulary())


def _finish(reply: AdminAck | AdminStatusReply) -> None:
    assert isinstance(reply, AdminAck)  # noqa: S101 - these requests are answered with an ack
    click.echo(reply.message, err=not reply.ok)
    sys.exit(0 if reply.ok else 1)


@main.command()
def protocol() -> None:
    """Print the agent-gate protocol version and the messages the gate accepts."""
    click.echo(f"protocol v{trading_contract.PROTOCOL_VERSION}")
    click.echo("accepts: " + ", ".join(trading_contract.AGENT_MESSAGE_TAGS))
    click.echo("sends:   " + ", ".join(trading_contract.GATE_MESSAGE_TAGS))
