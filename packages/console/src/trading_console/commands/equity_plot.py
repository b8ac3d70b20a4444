"""The journal page's equity plot, drawn with matplotlib (a console dependency only).

The curve is the page's own (`trading_agent.domain.journal_page.equity_curve`), so the
plot and the numbers in the markdown cannot disagree. Drawn on a bare `Figure` (no
pyplot: no global figure state, no display needed) and saved without the PNG's
"Software" text, so the same page gives the same bytes with the same matplotlib.
"""

import io
import os
import tempfile
from pathlib import Path
from typing import Final

from trading_agent.domain.journal_page import JournalPage, day_bounds_ns, equity_curve

__all__ = ["render_equity_png"]

_NS_PER_HOUR: Final = 3_600 * 1_000_000_000


def render_equity_png(page: JournalPage, path: Path) -> Path:
    """Draw the day's cumulative realized net P&L to `path` (replaced atomically).

    Raises:
        OSError: the file cannot be written.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    start, _ = day_bounds_ns(page.day)
    curve = equity_curve(page)
    hours = [(p.ts_ns - start) / _NS_PER_HOUR for p in curve]
    values = [float(p.pnl_usd) for p in curve]

    figure = Figure(figsize=(8, 3), dpi=100)
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    axes.step(hours, values, where="post", color="tab:blue", linewidth=1.5)
    axes.axhline(0, color="grey", linewidth=0.5)
    axes.set_xlim(0, 24)
    axes.set_xticks(range(0, 25, 3))
    axes.set_xticklabels([f"{h:02d}:00" for h in range(0, 25, 3)])
    axes.set_xlabel("UTC")
    axes.set_ylabel("USD")
    axes.set_title(
        f"{page.day.isoformat()}: cumulative realized net P&L ({len(page.trades)} trades)"
    )
    axes.grid(visible=True, linewidth=0.3)
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", metadata={"Software": None})
    _replace(path, buffer.getvalue())
    return path


def _replace(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
