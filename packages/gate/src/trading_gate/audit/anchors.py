"""The anchor file outside gate.db: one JSON line per anchored head, appended and synced.

Whoever can write gate.db can still cut its tail or rebuild the whole chain, so the head
``(seq, hash)`` is also appended here (RELIABILITY.md section 1, finding 10).
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Annotated, Final

import msgspec

from trading_gate.audit.database import write_errors
from trading_gate.audit.errors import InvalidAuditInput
from trading_gate.audit.records import check_ns
from trading_gate.audit.report import ProblemKind, VerifyProblem

__all__ = ["Anchor", "append_durably", "read_anchors", "write_anchor"]

_HEX_HASH: Final = re.compile(r"[0-9a-f]{64}")


class Anchor(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """One line of the anchor file: the chain reached ``hash`` at ``seq``."""

    seq: Annotated[int, msgspec.Meta(ge=0)]
    hash: Annotated[str, msgspec.Meta(pattern="^[0-9a-f]{64}$")]
    ts_wall_ns: Annotated[int, msgspec.Meta(ge=0)]


# ---------------------------------------------------------------- writing


def write_anchor(
    anchor_path: Path, seq: int, head_hash: str, ts_wall_ns: int, *, fsync: bool = True
) -> None:
    """Append ``{"seq":..,"hash":..,"ts_wall_ns":..}`` as one line and fsync it (unless
    ``fsync`` is False: a backtest's anchor, rebuilt by rerunning it).

    Raises:
        InvalidAuditInput: seq or ts_wall_ns negative, or head_hash not 64 lowercase hex.
        AuditWriteFailed: the line could not be written and synced.
    """
    check_ns("seq", seq)
    if not isinstance(head_hash, str) or not _HEX_HASH.fullmatch(head_hash):
        raise InvalidAuditInput(f"anchor hash {head_hash!r} is not 64 lowercase hex digits")
    check_ns("ts_wall_ns", ts_wall_ns)
    line = msgspec.json.encode(Anchor(seq, head_hash, ts_wall_ns)) + b"\n"
    with write_errors(f"append anchor seq {seq} to {anchor_path}"):
        append_durably(anchor_path, line, fsync=fsync)


def append_durably(path: Path, data: bytes, *, fsync: bool = True) -> None:
    """Append ``data`` to ``path`` (created if missing) and fsync it, and a new file's name.

    ``fsync=False`` (backtests only) appends the same bytes and syncs nothing.

    Raises:
        OSError: the file could not be opened, written or synced.
    """
    # O_APPEND: the file only grows, and the deployment may make it append-only (chattr +a)
    # or owned by another uid, so it is never rewritten via a temp file.
    created = not path.exists()
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o640)
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view) :]
        if fsync:
            os.fsync(fd)
    finally:
        os.close(fd)
    if created and fsync:
        # A new file's name lives in its directory, which needs its own fsync to survive.
        dir_fd = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)


# ---------------------------------------------------------------- reading

_ANCHOR_DECODER: Final = msgspec.json.Decoder(Anchor)


def read_anchors(path: Path) -> tuple[list[Anchor], list[VerifyProblem]]:
    """Every anchor in the file, and a `BAD_ANCHOR_FILE` problem per unreadable line.

    A missing or unreadable file is a problem, not an exception.
    """
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        message = f"anchor file {path} does not exist: a cut tail would go unnoticed"
        return [], [VerifyProblem(None, ProblemKind.BAD_ANCHOR_FILE, message)]
    except OSError as exc:
        return [], [VerifyProblem(None, ProblemKind.BAD_ANCHOR_FILE, f"anchor file: {exc}")]
    anchors: list[Anchor] = []
    problems: list[VerifyProblem] = []
    for number, line in enumerate(data.split(b"\n"), start=1):
        if not line:
            continue
        try:
            anchors.append(_ANCHOR_DECODER.decode(line))
        except msgspec.DecodeError as exc:
            message = f"anchor file {path} line {number} is not an anchor: {exc}"
            problems.append(VerifyProblem(None, ProblemKind.BAD_ANCHOR_FILE, message))
    return anchors, problems
