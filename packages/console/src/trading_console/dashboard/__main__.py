"""`python -m trading_console.dashboard --data DIR`: serve the dashboard on 127.0.0.1.

The login token is generated for the run and printed in the ready line, never taken
from the command line (where other users could read it in the process list).
"""

from pathlib import Path

import click

from trading_console.dashboard.serve import serve_dashboard


@click.command()
@click.option(
    "--data",
    "data_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("data"),
    show_default=True,
    help="The runtime folder: gate.db, agent.db, run/admin.sock.",
)
@click.option(
    "--rules",
    "rules_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="The rule directory the gate enforces (default: DATA/../config/rules).",
)
@click.option("--port", type=int, default=0, show_default=True, help="0: any free port.")
def main(data_dir: Path, rules_dir: Path | None, port: int) -> None:
    """Serve the local dashboard (127.0.0.1 only) over DIR's databases."""
    rules = rules_dir.resolve() if rules_dir is not None else None
    serve_dashboard(data_dir.resolve(), port=port, rules_dir=rules)


if __name__ == "__main__":
    main()
