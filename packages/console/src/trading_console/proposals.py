"""Rule proposals on disk: add one, list them, approve, reject, and retire a rule.

One module for the CLI (`te proposals`, `te rules retire`) and the dashboard, so both
refuse and record in exactly the same way. Layout under the rules directory:

    proposed/<id>.rule             one rule whose id is the file stem
    proposed/<id>.evidence.json    optional: why (summary, source, metrics, tier asked)
    core/ active/ shadow/          what the gate loads (`trading_gate.rule_files`)
    rejected/ retired/             kept, never loaded: the history stays readable
    decisions.jsonl                one JSON line per approve, reject or retire

An approval is refused unless the whole set as it would be afterwards loads: the
rule files of core/, active/ and shadow/ and the proposal are copied into a temporary
directory and loaded there with the gate's own loader. Only then is the file moved, with
`os.replace` (atomic on one file system), and the decision appended to the ledger.
Telling the running gate is the caller's job (an admin request), as it is an effect on
another process. Time arrives as an argument; the text checks are pure functions.

    ValueError
      ProposalError        a bad input or a refused change; the message says why
        UnknownRule        no proposal or rule with that id
        SetWouldNotLoad    the set after the change would not load; `problems` shows where
"""

import datetime as dt
import hashlib
import json
import os
import re
import shutil
import tempfile
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Final, Literal

import msgspec

from trading_gate.core.rule_set import TIERS, RuleSet
from trading_gate.rule_files import MAX_RULE_FILE_BYTES, RuleSetError, load_rule_dir
from trading_gate.rules import Rule, RuleLoadError, load_rules

__all__ = [
    "LEDGER",
    "Change",
    "Evidence",
    "LedgerEntry",
    "Proposal",
    "ProposalError",
    "SetWouldNotLoad",
    "UnknownRule",
    "add_proposal",
    "approve",
    "check_reason",
    "ledger",
    "ledger_line",
    "list_proposals",
    "parse_evidence",
    "read_proposal",
    "reject",
    "retire",
    "rule_of_text",
    "set_after",
]

PROPOSED: Final = "proposed"
REJECTED: Final = "rejected"
RETIRED: Final = "retired"
LEDGER: Final = "decisions.jsonl"
EVIDENCE_SUFFIX: Final = ".evidence.json"
MAX_EVIDENCE_BYTES: Final = 64 * 1024
MAX_REASON: Final = 500
# The language's id pattern (trading_gate.rules.check): also keeps ids out of paths.
_ID: Final = re.compile(r"[a-z][a-z0-9_]{0,47}")
_OPERATOR: Final = re.compile(r"[A-Za-z0-9_][A-Za-z0-9._@\-]{0,63}")
_CONTROL: Final = re.compile(r"[\x00-\x1f\x7f]")

Asked = Literal["active", "shadow"]
Decided = Literal["approved", "rejected", "retired"]


class ProposalError(ValueError):
    """A proposal or rule change refused before anything moved; the message says why."""


class UnknownRule(ProposalError):
    """No proposal (or rule in force) has this id."""


class SetWouldNotLoad(ProposalError):
    """The rule set after the change would not load: `problems` is the loader's report,
    with the proposal's own path and line numbers."""

    def __init__(self, problems: str) -> None:
        self.problems = problems
        super().__init__(problems)


class Evidence(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Why a proposal was made. Metrics are decimal strings, exact as given."""

    summary: str
    source: Literal["loop2", "loop3", "human"]
    created: dt.date
    metrics: dict[str, str] = {}
    tier: Asked = "active"


class Proposal(msgspec.Struct, frozen=True, kw_only=True):
    """A pending proposal: its text, and either its rule or why it does not load."""

    id: str
    path: str
    text: str
    sha256: str
    name: str | None = None
    author: str | None = None
    created: str | None = None
    problems: str | None = None
    evidence: Evidence | None = None
    evidence_error: str | None = None

    @property
    def asks_for(self) -> Asked:
        return self.evidence.tier if self.evidence is not None else "active"


class LedgerEntry(msgspec.Struct, frozen=True, kw_only=True):
    """One line of decisions.jsonl."""

    ts: str
    id: str
    decision: Decided
    tier: str
    operator: str
    reason: str
    sha256: str
    file: str


class Change(msgspec.Struct, frozen=True, kw_only=True):
    """A change made: the ledger entry, where the file went, and the set now on disk
    (None: a rejection, which changes nothing the gate loads)."""

    entry: LedgerEntry
    moved_to: str
    rule_set: RuleSet | None


# ---------------------------------------------------------------- pure checks


def _checked_id(rule_id: str) -> str:
    if not _ID.fullmatch(rule_id):
        raise ProposalError(
            f"{rule_id!r} is not a rule id: lower case letters, digits and _, starting "
            "with a letter, at most 48"
        )
    return rule_id


def check_reason(reason: str) -> str:
    """The reason, stripped: it must say something, fit the audit text, one line.

    Raises:
        ProposalError: blank, longer than `MAX_REASON`, or with a control character.
    """
    text = reason.strip()
    if not text:
        raise ProposalError("the reason must say why; it is blank")
    if len(text) > MAX_REASON:
        raise ProposalError(f"the reason is {len(text)} characters; at most {MAX_REASON}")
    if _CONTROL.search(text):
        raise ProposalError("the reason holds a control character (a newline or a tab?)")
    return text


def _checked_operator(operator: str) -> str:
    if not _OPERATOR.fullmatch(operator):
        raise ProposalError(
            f"operator {operator!r}: letters, digits and . _ @ - only, at most 64, not "
            "starting with a dot, @ or -"
        )
    return operator


def rule_of_text(text: str, *, rule_id: str, source: str, tier: Asked) -> Rule:
    """The one rule of a proposal file, checked for `tier`, whose id must be `rule_id`.

    Raises:
        ProposalError: the text does not load (every problem with file:line:col and a
            caret), holds no rule or several, or its id is not the file's stem.
    """
    try:
        rules = load_rules(text, source=source, tier=tier)
    except RuleLoadError as exc:
        raise ProposalError(str(exc)) from exc
    if len(rules) != 1:
        raise ProposalError(f"{source}: a proposal holds exactly one rule, this has {len(rules)}")
    (rule,) = rules
    if rule.id != rule_id:
        raise ProposalError(
            f"{source}: the rule's id is {rule.id!r} but the file is named for {rule_id!r}; "
            f"a proposal's file is <id>.rule"
        )
    return rule


def parse_evidence(data: bytes, *, where: str) -> Evidence:
    """Evidence JSON, strictly: known keys only, an ISO date, decimal-string metrics.

    Raises:
        ProposalError: too large, not that shape, or a metric that is not a number.
    """
    if len(data) > MAX_EVIDENCE_BYTES:
        raise ProposalError(f"{where}: {len(data)} bytes; evidence holds at most 64 KiB")
    try:
        evidence = msgspec.json.decode(data, type=Evidence)
    except msgspec.DecodeError as exc:
        raise ProposalError(f"{where}: {exc}") from exc
    for name, value in evidence.metrics.items():
        try:
            number = Decimal(value)
        except InvalidOperation:
            number = Decimal("NaN")
        if not number.is_finite():
            raise ProposalError(f"{where}: metric {name!r} is {value!r}, not a decimal number")
    if not evidence.summary.strip():
        raise ProposalError(f"{where}: the summary is blank")
    return evidence


def ledger_line(entry: LedgerEntry) -> str:
    """One JSON object on one line, keys sorted, so the ledger diffs and greps well."""
    return json.dumps(msgspec.to_builtins(entry), sort_keys=True, ensure_ascii=False) + "\n"


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def _stamp(now: dt.datetime) -> str:
    if now.tzinfo is None:
        raise ProposalError("the time of a decision must carry its time zone")
    return now.astimezone(dt.UTC).isoformat(timespec="seconds")


# ---------------------------------------------------------------- reading


def _read_text(path: Path) -> str:
    try:
        if path.is_symlink() or not path.is_file():
            raise ProposalError(f"{path}: not a regular file")
        if path.stat().st_size > MAX_RULE_FILE_BYTES:
            raise ProposalError(f"{path}: larger than {MAX_RULE_FILE_BYTES} bytes")
        return path.read_bytes().decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ProposalError(f"{path}: not UTF-8 (byte {exc.start})") from exc
    except OSError as exc:
        raise ProposalError(f"{path}: cannot be read ({exc.strerror or exc})") from exc


def _evidence_at(path: Path) -> tuple[Evidence | None, str | None]:
    if not path.exists():
        return None, None
    try:
        return parse_evidence(path.read_bytes(), where=str(path)), None
    except (ProposalError, OSError) as exc:
        return None, str(exc)


def _proposal_at(path: Path) -> Proposal:
    text = _read_text(path)
    evidence, evidence_error = _evidence_at(path.with_name(path.stem + EVIDENCE_SUFFIX))
    tier: Asked = evidence.tier if evidence is not None else "active"
    pending = Proposal(
        id=path.stem,
        path=str(path),
        text=text,
        sha256=_sha256(text),
        evidence=evidence,
        evidence_error=evidence_error,
    )
    try:
        rule = rule_of_text(text, rule_id=path.stem, source=str(path), tier=tier)
    except ProposalError as exc:
        return msgspec.structs.replace(pending, problems=str(exc))
    return msgspec.structs.replace(
        pending, name=rule.name, author=rule.author, created=rule.created.isoformat()
    )


def list_proposals(root: Path) -> tuple[Proposal, ...]:
    """Every pending proposal under `root/proposed`, by id; one that does not load is
    listed with its problems (so it can be shown, and rejected)."""
    directory = root / PROPOSED
    if not directory.is_dir():
        return ()
    found: list[Proposal] = []
    for path in sorted(directory.glob("*.rule")):
        try:
            found.append(_proposal_at(path))
        except ProposalError as exc:
            found.append(Proposal(id=path.stem, path=str(path), text="", sha256="",
                                  problems=str(exc)))  # fmt: skip
    return tuple(found)


def read_proposal(root: Path, proposal_id: str) -> Proposal:
    """Raises: UnknownRule: no `proposed/<id>.rule`; ProposalError: a bad id or file."""
    path = root / PROPOSED / f"{_checked_id(proposal_id)}.rule"
    if not path.exists():
        raise UnknownRule(f"no proposal {proposal_id!r} in {root / PROPOSED}")
    return _proposal_at(path)


def ledger(root: Path) -> tuple[LedgerEntry, ...]:
    """Every decision recorded so far, oldest first.

    Raises:
        ProposalError: a line that is not a ledger entry (named by its line number).
    """
    path = root / LEDGER
    if not path.exists():
        return ()
    entries: list[LedgerEntry] = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            entries.append(msgspec.json.decode(line, type=LedgerEntry))
        except msgspec.DecodeError as exc:
            raise ProposalError(f"{path}:{number}: not a ledger entry: {exc}") from exc
    return tuple(entries)


# ---------------------------------------------------------------- changing


def add_proposal(root: Path, rule_file: Path, evidence_file: Path | None = None) -> Proposal:
    """Copy a checked rule file (and its evidence) into `root/proposed/`, never over one.

    Raises:
        ProposalError: the rule or the evidence does not check, or the id is taken by a
            pending proposal or a rule in force.
    """
    text = _read_text(rule_file)
    evidence_bytes = None if evidence_file is None else _read_evidence_file(evidence_file)
    evidence = (
        None if evidence_bytes is None else parse_evidence(evidence_bytes, where=str(evidence_file))
    )
    tier: Asked = evidence.tier if evidence is not None else "active"
    rules = _rules_in(text, source=str(rule_file), tier=tier)
    if len(rules) != 1:
        raise ProposalError(f"{rule_file}: a proposal holds exactly one rule, not {len(rules)}")
    rule_id = rules[0].id
    _refuse_taken(root, rule_id)
    directory = root / PROPOSED
    directory.mkdir(parents=True, exist_ok=True)
    if evidence_bytes is not None:
        _create(directory / f"{rule_id}{EVIDENCE_SUFFIX}", evidence_bytes)
    _create(directory / f"{rule_id}.rule", text.encode())
    return read_proposal(root, rule_id)


def _read_evidence_file(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise ProposalError(f"{path}: cannot be read ({exc.strerror or exc})") from exc


def _rules_in(text: str, *, source: str, tier: Asked) -> tuple[Rule, ...]:
    try:
        return load_rules(text, source=source, tier=tier)
    except RuleLoadError as exc:
        raise ProposalError(str(exc)) from exc


def _refuse_taken(root: Path, rule_id: str) -> None:
    if (root / PROPOSED / f"{rule_id}.rule").exists():
        raise ProposalError(f"a proposal {rule_id!r} is already pending in {root / PROPOSED}")
    try:
        current = load_rule_dir(root)
    except RuleSetError:
        return  # the approval check will report the set's problems
    for tier, rules in (("core", current.core), ("active", current.active),
                        ("shadow", current.shadow)):  # fmt: skip
        if any(r.id == rule_id for r in rules):
            raise ProposalError(f"rule id {rule_id!r} is already in force ({tier})")


def _create(path: Path, data: bytes) -> None:
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o644)
    except FileExistsError as exc:
        raise ProposalError(f"{path} already exists; nothing was overwritten") from exc
    with os.fdopen(fd, "wb") as out:
        out.write(data)
        out.flush()
        os.fsync(out.fileno())


def set_after(root: Path, proposal: Proposal, tier: Asked) -> RuleSet:
    """The rule set as it would load with `proposal` in `tier`, loaded in a temporary copy.

    Raises:
        SetWouldNotLoad: any problem, reported with the real paths.
    """
    with tempfile.TemporaryDirectory(prefix="te-rules-") as scratch:
        copy = Path(scratch)
        for each in TIERS:
            (copy / each).mkdir()
            source = root / each
            if source.is_dir():
                for path in sorted(source.glob("*.rule")):
                    shutil.copyfile(path, copy / each / path.name, follow_symlinks=False)
        placed = copy / tier / f"{proposal.id}.rule"
        if placed.exists():
            raise ProposalError(f"{root / tier / placed.name} already exists")
        placed.write_text(proposal.text, encoding="utf-8")
        try:
            return load_rule_dir(copy)
        except RuleSetError as exc:
            report = exc.render().replace(str(placed), proposal.path)
            raise SetWouldNotLoad(report.replace(str(copy), str(root))) from exc


def approve(
    root: Path,
    proposal_id: str,
    *,
    operator: str,
    reason: str,
    now: dt.datetime,
    to: Asked | None = None,
) -> Change:
    """Move a proposal into `to` (default: the tier its evidence asks for, else active)
    once the whole set with it loads, and record the decision.

    Raises:
        UnknownRule: no such proposal.
        SetWouldNotLoad: the set with it would not load; nothing moved.
        ProposalError: a bad reason, operator or id, or the target file exists.
    """
    reason, operator = check_reason(reason), _checked_operator(operator)
    stamp = _stamp(now)
    proposal = read_proposal(root, proposal_id)
    tier: Asked = to if to is not None else proposal.asks_for
    if tier not in ("active", "shadow"):
        raise ProposalError(f"approve into active or shadow, not {tier!r}")
    set_after(root, proposal, tier)
    target = root / tier / f"{proposal.id}.rule"
    _move_with_evidence(Path(proposal.path), target)
    entry = _record(root, proposal.id, "approved", tier, operator, reason, proposal.sha256,
                    target, stamp)  # fmt: skip
    return Change(entry=entry, moved_to=str(target), rule_set=load_rule_dir(root))


def reject(root: Path, proposal_id: str, *, operator: str, reason: str, now: dt.datetime) -> Change:
    """Move a proposal (loadable or not) to `rejected/`, and record the decision.

    Raises:
        UnknownRule: no such proposal. ProposalError: a bad reason, operator or id.
    """
    reason, operator = check_reason(reason), _checked_operator(operator)
    stamp = _stamp(now)
    proposal = read_proposal(root, proposal_id)
    target = _free(root / REJECTED, proposal.id, now)
    _move_with_evidence(Path(proposal.path), target)
    entry = _record(root, proposal.id, "rejected", REJECTED, operator, reason, proposal.sha256,
                    target, stamp)  # fmt: skip
    return Change(entry=entry, moved_to=str(target), rule_set=None)


def retire(root: Path, rule_id: str, *, operator: str, reason: str, now: dt.datetime) -> Change:
    """Move the file of an active or shadow rule to `retired/`, and record the decision.

    Raises:
        UnknownRule: no rule in force has this id.
        ProposalError: a core rule (a human edits core/), a file that holds other rules
            too, a set that does not load now, or a bad reason, operator or id.
    """
    reason, operator = check_reason(reason), _checked_operator(operator)
    stamp = _stamp(now)
    _checked_id(rule_id)
    try:
        current = load_rule_dir(root)
    except RuleSetError as exc:
        raise SetWouldNotLoad(exc.render()) from exc
    found = next((f for f in current.files if rule_id in f.rule_ids), None)
    if found is None:
        raise UnknownRule(f"no rule {rule_id!r} in force under {root}")
    if found.tier == "core":
        raise ProposalError("core rules are retired by a human editing config/rules/core")
    if found.rule_ids != (rule_id,):
        raise ProposalError(
            f"{root / found.path} holds {', '.join(found.rule_ids)}: retire one rule by "
            "editing that file"
        )
    source = root / found.path
    target = _free(root / RETIRED, rule_id, now)
    _move_with_evidence(source, target)
    entry = _record(root, rule_id, "retired", found.tier, operator, reason, found.sha256,
                    target, stamp)  # fmt: skip
    return Change(entry=entry, moved_to=str(target), rule_set=load_rule_dir(root))


def _free(directory: Path, rule_id: str, now: dt.datetime) -> Path:
    """`directory/<id>.rule`, or with the time added when an earlier one is there."""
    plain = directory / f"{rule_id}.rule"
    if not plain.exists():
        return plain
    return directory / f"{rule_id}.{now.astimezone(dt.UTC):%Y%m%dT%H%M%S}.rule"


def _move_with_evidence(source: Path, target: Path) -> None:
    """The evidence first: if the rule's move fails, the proposal is still whole where
    it was, less only a file the gate never reads."""
    if target.exists():
        raise ProposalError(f"{target} already exists; nothing was moved")
    target.parent.mkdir(parents=True, exist_ok=True)
    evidence = source.with_name(source.stem + EVIDENCE_SUFFIX)
    if evidence.exists():
        os.replace(evidence, target.with_name(target.stem + EVIDENCE_SUFFIX))
    os.replace(source, target)


def _record(
    root: Path,
    rule_id: str,
    decision: Decided,
    tier: str,
    operator: str,
    reason: str,
    sha256: str,
    target: Path,
    stamp: str,
) -> LedgerEntry:
    entry = LedgerEntry(
        ts=stamp,
        id=rule_id,
        decision=decision,
        tier=tier,
        operator=operator,
        reason=reason,
        sha256=sha256,
        file=str(target.relative_to(root)),
    )
    fd = os.open(root / LEDGER, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    with os.fdopen(fd, "a", encoding="utf-8") as out:
        out.write(ledger_line(entry))
        out.flush()
        os.fsync(out.fileno())
    return entry
