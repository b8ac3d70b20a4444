"""How often each rule ran and fired, read from gate.db's audit log (read-only).

Every order decision's audit row lists each rule evaluated (`rules`: core and active,
enforced) and each shadow rule (`shadow_rules`: a "fired" there is a would-have), so
the counts are a GROUP BY over those lists. The connection comes from
`trading_gate.read.open_gate_db`: read-only, one snapshot. Counterfactual P&L is not
here: pricing it belongs to the learning loop.
"""

import sqlite3
from pathlib import Path
from typing import Final

import msgspec

from trading_gate import read as gate_read

__all__ = ["RuleLoad", "RuleStats", "last_rule_load", "read_rule_stats", "rule_stats"]

_PER_RULE: Final = """
SELECT json_extract(r.value, '$.rule_id') AS rule_id,
       json_extract(r.value, '$.tier') AS tier,
       count(*) AS evaluated,
       sum(json_extract(r.value, '$.outcome') = 'fired') AS fired,
       sum(json_extract(r.value, '$.outcome') = 'error') AS errors,
       max(CASE WHEN json_extract(r.value, '$.outcome') = 'fired' THEN a.ts_wall_ns END)
FROM audit AS a, json_each(a.payload, ?) AS r
WHERE a.event_type IN ('order.accepted', 'order.rejected')
GROUP BY rule_id, tier
"""
_LAST_LOAD: Final = """
SELECT seq, ts_wall_ns, event_type, payload FROM audit
WHERE event_type IN ('rules.loaded', 'rules.reloaded') ORDER BY seq DESC LIMIT 1
"""


class RuleStats(msgspec.Struct, frozen=True, kw_only=True):
    """One rule in one tier: orders it was evaluated on, how often it fired (for a
    shadow rule: would have), how often it could not be evaluated, and when it last fired."""

    rule_id: str
    tier: str
    evaluated: int
    fired: int
    errors: int
    last_fired_ns: int | None


class RuleLoad(msgspec.Struct, frozen=True, kw_only=True):
    """The gate's last rule-set load or reload as audited: which set, from where."""

    seq: int
    ts_ns: int
    event_type: str
    sha256: str
    source: str
    files: tuple[str, ...]


class _LoadPayload(msgspec.Struct, frozen=True):
    sha256: str
    source: str = ""
    files: tuple[dict[str, object], ...] = ()


def rule_stats(conn: sqlite3.Connection) -> dict[tuple[str, str], RuleStats]:
    """Every rule the audit log saw decide, keyed by (rule id, tier)."""
    found: dict[tuple[str, str], RuleStats] = {}
    for path in ("$.rules", "$.shadow_rules"):
        for rule_id, tier, evaluated, fired, errors, last in conn.execute(_PER_RULE, (path,)):
            found[(str(rule_id), str(tier))] = RuleStats(
                rule_id=str(rule_id),
                tier=str(tier),
                evaluated=int(evaluated),
                fired=int(fired or 0),
                errors=int(errors or 0),
                last_fired_ns=None if last is None else int(last),
            )
    return found


def last_rule_load(conn: sqlite3.Connection) -> RuleLoad | None:
    """The latest `rules.loaded` or `rules.reloaded` row, or None before any."""
    row = conn.execute(_LAST_LOAD).fetchone()
    if row is None:
        return None
    seq, ts_ns, event_type, payload = row
    loaded = msgspec.json.decode(payload, type=_LoadPayload)
    return RuleLoad(
        seq=int(seq),
        ts_ns=int(ts_ns),
        event_type=str(event_type),
        sha256=loaded.sha256,
        source=loaded.source,
        files=tuple(str(f.get("path", "")) for f in loaded.files),
    )


def read_rule_stats(
    gate_db: Path,
) -> tuple[dict[tuple[str, str], RuleStats], RuleLoad | None]:
    """Both reads in one read-only snapshot of `gate_db`.

    Raises:
        trading_gate.read.GateDbError: missing, unreadable, or not a gate journal.
    """
    with gate_read.open_gate_db(gate_db) as conn:
        try:
            return rule_stats(conn), last_rule_load(conn)
        except (sqlite3.Error, msgspec.DecodeError) as exc:
            raise gate_read.GateDbError(f"cannot read rule outcomes in {gate_db}: {exc}") from exc
