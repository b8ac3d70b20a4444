"""Which `te up` runs over a data directory: its pid file, read and checked.

`te up` writes DATA/te-up.pid when it starts and removes it when it stops; a second
`te up` on the same directory refuses while the first lives, and `te down` signals it
(SIGTERM, which `te up` handles as Ctrl-C: agent, dashboard, gate after cancelling its
orders, venue). A pid is trusted only while /proc says that process is a `te up`
(a pid file left by a killed run may name a reused pid: such a file is stale).
"""

import os
from pathlib import Path
from typing import Final

__all__ = ["PID_FILE", "UpLockError", "read_running", "release", "take"]

PID_FILE: Final = "te-up.pid"


class UpLockError(Exception):
    """Another `te up` runs over this data directory; the message names its pid."""


def read_running(data_dir: Path) -> int | None:
    """The pid of the `te up` running over `data_dir`, or None (no file, or a stale one)."""
    try:
        text = (data_dir / PID_FILE).read_text().strip()
    except (FileNotFoundError, NotADirectoryError):
        return None
    if not text.isdigit():
        return None
    pid = int(text)
    return pid if is_te_up(pid) else None


def is_te_up(pid: int) -> bool:
    """Whether `pid` is alive and its command line is a `te ... up` (via /proc)."""
    try:
        argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return False
    names = [Path(a.decode(errors="replace")).name for a in argv if a]
    return "te" in names and "up" in names[names.index("te") :]


def take(data_dir: Path) -> Path:
    """Record this process as the `te up` of `data_dir`.

    Raises:
        UpLockError: a live `te up` already runs over it.
    """
    running = read_running(data_dir)
    if running is not None and running != os.getpid():
        raise UpLockError(
            f"te up is already running over {data_dir} (pid {running}); stop it with "
            f"`te down --data {data_dir}` first"
        )
    data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    path = data_dir / PID_FILE
    tmp = path.with_name(f".{PID_FILE}.{os.getpid()}")
    tmp.write_text(f"{os.getpid()}\n")
    os.replace(tmp, path)
    return path


def release(data_dir: Path) -> None:
    """Remove the pid file if it is this process's."""
    path = data_dir / PID_FILE
    try:
        if path.read_text().strip() == str(os.getpid()):
            path.unlink()
    except FileNotFoundError:
        pass
