"""Unix-socket plumbing for the IPC servers: a private directory, a 0600 socket, peer uids.

Per unix(7), a pathname socket obeys its directory's and its own permissions, and an
abstract one obeys none: we only ever bind a pathname in a directory that is ours alone.
Every failure refuses to start, naming the path and what is wrong with it:

    SocketSetupError         refuse to start: fix the path or its permissions
    ├── UnsafeSocketDir      not a directory, a symlink, another owner, group/other bits
    └── UnsafeSocketPath     abstract, relative or too long; something else in the way;
                             a live socket there; the bound socket has the wrong mode
"""

import contextlib
import os
import socket
import stat
import struct
from dataclasses import dataclass
from pathlib import Path
from typing import Final, Protocol

# struct ucred: pid_t (int32), uid_t and gid_t (uint32). "3i" would misread uids >= 2**31.
_UCRED: Final = struct.Struct("=iII")
# sun_path is 108 bytes including the terminating NUL.
MAX_SOCKET_PATH_BYTES: Final = 107
_DIR_MODE: Final = 0o700
_SOCKET_MODE: Final = 0o600
# The mask that leaves 0600 of the 0777 bind() asks for: no window with a wider mode.
_BIND_UMASK: Final = 0o177


class SocketSetupError(Exception):
    """The IPC socket cannot be set up safely; the gate must not start."""


class UnsafeSocketDir(SocketSetupError):
    """The socket directory is not a private directory of this user."""


class UnsafeSocketPath(SocketSetupError):
    """The socket path is unusable, or something other than our stale socket is there."""


@dataclass(frozen=True, slots=True)
class PeerCredentials:
    """Who is on the other end, as the kernel saw it at connect(2). The pid may be reused."""

    pid: int
    uid: int
    gid: int


class _HasSockopt(Protocol):
    # socket.socket and asyncio's TransportSocket (writer.get_extra_info("socket")).
    def getsockopt(self, level: int, optname: int, buflen: int, /) -> bytes: ...


def prepare_socket_dir(path: Path) -> Path:
    """Create `path` with mode 0700, or check that the existing one is as safe.

    Returns the path. The parent must exist: we create no tree with default modes.

    Raises:
        UnsafeSocketDir: relative, a symlink, not a directory, owned by another uid,
            open to group or others, or its parent does not exist.
    """
    if not path.is_absolute():
        raise UnsafeSocketDir(f"socket directory {path} is not an absolute path")
    try:
        os.mkdir(path, _DIR_MODE)
    except FileExistsError:
        _check_existing_dir(path)
        return path
    except FileNotFoundError as exc:
        raise UnsafeSocketDir(f"the parent of socket directory {path} does not exist") from exc
    # The umask can only have removed bits; put back the owner's (never more than 0700).
    os.chmod(path, _DIR_MODE)
    _check_existing_dir(path)
    return path


def _check_existing_dir(path: Path) -> None:
    info = os.lstat(path)
    if stat.S_ISLNK(info.st_mode):
        raise UnsafeSocketDir(f"socket directory {path} is a symlink")
    if not stat.S_ISDIR(info.st_mode):
        raise UnsafeSocketDir(f"socket directory {path} is not a directory")
    if info.st_uid != os.geteuid():
        raise UnsafeSocketDir(
            f"socket directory {path} is owned by uid {info.st_uid}, not {os.geteuid()}"
        )
    if info.st_mode & 0o077:
        raise UnsafeSocketDir(
            f"socket directory {path} has mode {stat.S_IMODE(info.st_mode):04o}; "
            "group and others must have no access (chmod 700)"
        )


def bind_unix_socket(path: Path) -> socket.socket:
    """A stream socket bound to `path` with mode 0600 (not yet listening).

    A stale socket of ours at `path` is replaced; anything else there is refused.
    Sets the process umask for the duration of bind(): call it before starting threads.

    Raises:
        UnsafeSocketPath: an abstract, relative, non-normalised or too long name; a
            non-socket, a foreign socket or a live socket at the path; a wrong mode after
            bind.
        SocketSetupError: bind() itself failed (no directory, no permission).
    """
    _check_socket_name(path)
    _remove_stale_socket(path)
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        previous = os.umask(_BIND_UMASK)
        try:
            sock.bind(str(path))
        except OSError as exc:
            raise SocketSetupError(f"cannot bind {path}: {exc.strerror}") from exc
        finally:
            os.umask(previous)
        _check_bound_socket(path)
    except BaseException:
        # Never leak the descriptor, whatever stopped us; the caller sees the error.
        sock.close()
        raise
    return sock


def _check_socket_name(path: Path) -> None:
    name = str(path)
    if name.startswith("\0") or name.startswith("@"):
        raise UnsafeSocketPath(f"{name!r} is an abstract socket name: it has no permissions")
    if "\0" in name:
        raise UnsafeSocketPath(f"{name!r} contains a NUL byte")
    if not path.is_absolute() or os.path.normpath(name) != name:
        raise UnsafeSocketPath(f"{name!r} is not an absolute, normalised path")
    if len(os.fsencode(name)) > MAX_SOCKET_PATH_BYTES:
        raise UnsafeSocketPath(
            f"{name!r} is longer than the {MAX_SOCKET_PATH_BYTES} bytes a socket path allows"
        )


def _remove_stale_socket(path: Path) -> None:
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        return
    if not stat.S_ISSOCK(info.st_mode):
        raise UnsafeSocketPath(f"{path} exists and is not a socket; refusing to remove it")
    if info.st_uid != os.geteuid():
        raise UnsafeSocketPath(f"socket {path} is owned by uid {info.st_uid}; not removing it")
    if _is_listening(path):
        raise UnsafeSocketPath(f"another process is listening on {path}; is a gate running?")
    os.unlink(path)


def _is_listening(path: Path) -> bool:
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as probe:
        probe.settimeout(1.0)
        try:
            probe.connect(str(path))
        except (ConnectionRefusedError, FileNotFoundError):
            # Nobody accepts on it, and nobody ever will: it is stale.
            return False
        except TimeoutError:
            # A full backlog: someone is listening, just busy.
            return True
    return True


def _check_bound_socket(path: Path) -> None:
    info = os.lstat(path)
    mode = stat.S_IMODE(info.st_mode)
    if not stat.S_ISSOCK(info.st_mode) or mode != _SOCKET_MODE or info.st_uid != os.geteuid():
        os.unlink(path)
        raise UnsafeSocketPath(
            f"bound socket {path} has mode {mode:04o} and uid {info.st_uid}; expected 0600 "
            f"and {os.geteuid()}"
        )


def peer_credentials(sock: _HasSockopt) -> PeerCredentials:
    """The pid, uid and gid of the process that connected `sock` (SO_PEERCRED)."""
    raw = sock.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, _UCRED.size)
    pid, uid, gid = _UCRED.unpack(raw)
    return PeerCredentials(pid=pid, uid=uid, gid=gid)


def unlink_if_ours(path: Path, inode: tuple[int, int]) -> None:
    """Remove the socket at `path` if it is still the one we bound (device, inode).

    Call it while our socket is still open: an open socket pins its inode, so the number
    cannot have been reused. A socket someone else bound there since is left alone.
    """
    with contextlib.suppress(FileNotFoundError):
        info = os.lstat(path)
        if (info.st_dev, info.st_ino) == inode:
            os.unlink(path)


def socket_inode(path: Path) -> tuple[int, int]:
    """The (device, inode) of the socket file at `path`, for unlink_if_ours."""
    info = os.lstat(path)
    return info.st_dev, info.st_ino
