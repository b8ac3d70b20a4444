"""The dashboard's rules and proposals panels and its approve and reject routes, over
real HTTP: the same Guard and body limit as the kill switch, and every refusal leaving
the rule files as they were."""

import json
import re
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.types import ASGIApp

from rule_stubs import rule_text, write_rule
from trading_console.dashboard import build_dashboard
from trading_console.dashboard.app import MAX_BODY_BYTES
from trading_console.dashboard.auth import CSRF_HEADER
from trading_gate.rule_files import load_rule_dir

TOKEN = "test-token-0123456789abcdef"  # noqa: S105 - a test login
CAP = rule_text("btc_cap", 'order.product == "BTC-USD"', 'deny "cap" if order.size_base > 0.001')
EVIDENCE = {"summary": "big BTC orders lose", "source": "loop2", "created": "2026-12-01",
            "metrics": {"trades": "12"}, "tier": "shadow"}  # fmt: skip


@pytest.fixture
def rules(tmp_path: Path) -> Path:
    root = tmp_path / "config" / "rules"
    write_rule(
        root,
        "core",
        "base.rule",
        rule_text("base_rule", effect='deny "x" if order.size_base > 1000'),
    )
    write_rule(root, "proposed", "btc_cap.rule", CAP)
    (root / "proposed" / "btc_cap.evidence.json").write_text(json.dumps(EVIDENCE))
    return root


@pytest.fixture
def client(
    rules: Path, tmp_path: Path, serve: Callable[[ASGIApp], AbstractContextManager[str]]
) -> Iterator[tuple[httpx.Client, dict[str, str]]]:
    """Logged in (cookie), with the headers an action needs; no gate is running."""
    data = tmp_path / "data"
    data.mkdir()
    app = build_dashboard(data, token=TOKEN, admin_socket=data / "run" / "admin.sock")
    with serve(app) as url, httpx.Client(base_url=url) as http:
        assert http.get(f"/?token={TOKEN}", follow_redirects=False).status_code == 303
        match = re.search(r'name="csrf-token" content="([0-9a-f]{64})"', http.get("/").text)
        assert match is not None
        yield http, {CSRF_HEADER: match.group(1), "origin": url}


def tree(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in root.rglob("*") if p.is_file()}


def approve_body(**changes: Any) -> dict[str, Any]:
    return {"id": "btc_cap", "confirm": "APPROVE", "reason": "ok", "to": ""} | changes


def test_snapshot_when_proposal_pending_then_panels_carry_it(
    client: tuple[httpx.Client, dict[str, str]], rules: Path
) -> None:
    """The snapshot holds the rule set's hash, the core rule, and the proposal with its
    text, evidence and metrics (the default rules dir is DATA/../config/rules)."""
    http, _ = client
    doc = http.get("/api/snapshot").json()
    assert doc["rules"]["sha256"] == load_rule_dir(rules).sha256
    assert [r["id"] for r in doc["rules"]["core"]] == ["base_rule"]
    (pending,) = doc["proposals"]["pending"]
    assert (pending["id"], pending["asks_for"], pending["text"]) == ("btc_cap", "shadow", CAP)
    assert pending["metrics"] == {"trades": "12"}


def test_approve_when_no_csrf_then_403_and_nothing_moved(
    client: tuple[httpx.Client, dict[str, str]], rules: Path
) -> None:
    """Behind the Guard: a logged-in POST without the CSRF token is refused."""
    http, _ = client
    before = tree(rules)
    assert http.post("/api/proposals/approve", json=approve_body()).status_code == 403
    assert http.post("/api/proposals/reject", json=approve_body()).status_code == 403
    assert tree(rules) == before


@pytest.mark.parametrize(
    ("body", "status", "says"),
    [(approve_body(confirm="approve?"), 400, "type APPROVE"),
     (approve_body(reason=" "), 400, "blank"),
     (approve_body(to="core"), 400, "active or shadow"),
     (approve_body(id="../core/base"), 400, "not a rule id"),
     (approve_body(extra=1), 400, "bad request"),
     (approve_body(reason="x" * MAX_BODY_BYTES), 413, "too large")],
)  # fmt: skip
def test_approve_when_bad_body_then_refused_and_nothing_moved(
    client: tuple[httpx.Client, dict[str, str]],
    rules: Path,
    body: dict[str, Any],
    status: int,
    says: str,
) -> None:
    """Wrong confirm word, blank reason, bad tier or id, unknown field, oversized body."""
    http, headers = client
    before = tree(rules)
    answer = http.post("/api/proposals/approve", json=body, headers=headers)
    assert answer.status_code == status
    assert says in answer.json()["message"]
    assert tree(rules) == before


def test_approve_when_no_gate_then_moved_and_says_next_start(
    client: tuple[httpx.Client, dict[str, str]], rules: Path
) -> None:
    """Approved into the tier its evidence asks for; the gate is not running, so the
    answer says when it will load it; the ledger has the line."""
    http, headers = client
    answer = http.post("/api/proposals/approve", json=approve_body(), headers=headers)
    assert answer.status_code == 200, answer.text
    assert "the gate loads it at its next start" in answer.json()["message"]
    assert [r.id for r in load_rule_dir(rules).shadow] == ["btc_cap"]
    (line,) = (rules / "decisions.jsonl").read_text().splitlines()
    assert json.loads(line)["decision"] == "approved"
    assert http.get("/api/snapshot").json()["proposals"]["pending"] == []


def test_approve_when_set_would_not_load_then_400_with_the_report(
    client: tuple[httpx.Client, dict[str, str]], rules: Path
) -> None:
    """A proposal clashing with a core id: the loader's report comes back, nothing moves."""
    write_rule(rules, "proposed", "base_rule.rule", rule_text("base_rule"))
    http, headers = client
    before = tree(rules)
    answer = http.post("/api/proposals/approve", json=approve_body(id="base_rule"), headers=headers)
    assert answer.status_code == 400
    assert "already used in core/base.rule" in answer.json()["message"]
    assert tree(rules) == before


def test_reject_when_confirmed_then_moved_to_rejected(
    client: tuple[httpx.Client, dict[str, str]], rules: Path
) -> None:
    """Reject needs REJECT and a reason; the file goes to rejected/."""
    http, headers = client
    body = {"id": "btc_cap", "confirm": "REJECT", "reason": "no"}
    wrong = http.post("/api/proposals/reject", json=body | {"confirm": "x"}, headers=headers)
    assert wrong.status_code == 400
    answer = http.post("/api/proposals/reject", json=body, headers=headers)
    assert answer.status_code == 200, answer.text
    assert (rules / "rejected" / "btc_cap.rule").read_text() == CAP
