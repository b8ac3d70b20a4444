"""The socket directory, the socket file and the peer's credentials, on a real filesystem."""

import os
import socket
import stat
import struct
from collections.abc import Iterator
from pathlib import Path

import pytest

from trading_gate.ipc_socket import (
    MAX_SOCKET_PATH_BYTES,
    PeerCredentials,
    SocketSetupError,
    UnsafeSocketDir,
    UnsafeSocketPath,
    bind_unix_socket,
    peer_credentials,
    prepare_socket_dir,
    socket_inode,
    unlink_if_ours,
)


@pytest.fixture
def open_umask() -> Iterator[None]:
    """The most permissive umask, so only our own care can produce private modes."""
    previous = os.umask(0)
    yield
    os.umask(previous)


@pytest.fixture
def other_euid(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make every file we create look owned by someone else (we may be root or not)."""
    real = os.geteuid()
    monkeypatch.setattr(os, "geteuid", lambda: real + 1)


def _mode(path: Path) -> int:
    return stat.S_IMODE(os.lstat(path).st_mode)


def _stale_socket(path: Path) -> None:
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.bind(str(path))


def test_prepare_socket_dir_when_missing_then_created_0700(
    sock_dir: Path, open_umask: None
) -> None:
    """A new directory is 0700 even under umask 0."""
    assert prepare_socket_dir(sock_dir) == sock_dir
    assert _mode(sock_dir) == 0o700


def test_prepare_socket_dir_when_existing_private_then_accepted(sock_dir: Path) -> None:
    """An existing 0700 directory of ours is used as it is."""
    sock_dir.mkdir(mode=0o700)
    assert prepare_socket_dir(sock_dir) == sock_dir


@pytest.mark.parametrize("mode", [0o750, 0o701, 0o777])
def test_prepare_socket_dir_when_group_or_other_bits_then_refused(
    sock_dir: Path, mode: int
) -> None:
    """Any access for group or others is refused, naming the mode; nothing is chmodded."""
    sock_dir.mkdir()
    sock_dir.chmod(mode)
    with pytest.raises(UnsafeSocketDir, match=f"mode {mode:04o}"):
        prepare_socket_dir(sock_dir)
    assert _mode(sock_dir) == mode


def test_prepare_socket_dir_when_symlink_then_refused(sock_dir: Path) -> None:
    """A symlink is refused even when it points at a private directory."""
    target = sock_dir.with_name("real")
    target.mkdir(mode=0o700)
    sock_dir.symlink_to(target)
    with pytest.raises(UnsafeSocketDir, match="symlink"):
        prepare_socket_dir(sock_dir)


def test_prepare_socket_dir_when_a_file_then_refused(sock_dir: Path) -> None:
    """A regular file where the directory should be is refused."""
    sock_dir.write_bytes(b"")
    with pytest.raises(UnsafeSocketDir, match="not a directory"):
        prepare_socket_dir(sock_dir)


def test_prepare_socket_dir_when_owned_by_another_uid_then_refused(
    sock_dir: Path, other_euid: None
) -> None:
    """A directory another uid owns is refused, naming both uids."""
    sock_dir.mkdir(mode=0o700)
    with pytest.raises(UnsafeSocketDir, match="owned by uid"):
        prepare_socket_dir(sock_dir)


@pytest.mark.parametrize(
    ("path", "problem"), [(Path("run/gate"), "absolute"), (Path("/nonexistent/x"), "parent")]
)
def test_prepare_socket_dir_when_relative_or_orphan_then_refused(path: Path, problem: str) -> None:
    """A relative path or a missing parent is refused; no tree is created."""
    with pytest.raises(UnsafeSocketDir, match=problem):
        prepare_socket_dir(path)


def test_bind_unix_socket_when_bound_then_0600_and_umask_restored(
    sock_dir: Path, open_umask: None
) -> None:
    """The socket is 0600 under umask 0, and the process umask is back as it was."""
    prepare_socket_dir(sock_dir)
    path = sock_dir / "gate.sock"
    with bind_unix_socket(path):
        info = os.lstat(path)
        assert stat.S_ISSOCK(info.st_mode)
        assert stat.S_IMODE(info.st_mode) == 0o600
        assert info.st_uid == os.geteuid()
    assert os.umask(0) == 0


def test_bind_unix_socket_when_stale_socket_of_ours_then_replaced(sock_dir: Path) -> None:
    """A leftover socket nobody listens on is unlinked and bound afresh: it accepts again."""
    prepare_socket_dir(sock_dir)
    path = sock_dir / "gate.sock"
    _stale_socket(path)
    with bind_unix_socket(path) as sock:
        sock.listen(1)
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as client:
            client.connect(str(path))


def test_bind_unix_socket_when_regular_file_at_path_then_refused_and_kept(sock_dir: Path) -> None:
    """A non-socket at the path is refused and left untouched."""
    prepare_socket_dir(sock_dir)
    path = sock_dir / "gate.sock"
    path.write_bytes(b"precious")
    with pytest.raises(UnsafeSocketPath, match="not a socket"):
        bind_unix_socket(path)
    assert path.read_bytes() == b"precious"


def test_bind_unix_socket_when_socket_listening_then_refused(sock_dir: Path) -> None:
    """A live socket (another gate) is never stolen."""
    prepare_socket_dir(sock_dir)
    path = sock_dir / "gate.sock"
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as live:
        live.bind(str(path))
        live.listen(1)
        with pytest.raises(UnsafeSocketPath, match="listening"):
            bind_unix_socket(path)
        assert path.exists()


def test_bind_unix_socket_when_socket_owned_by_another_uid_then_refused(
    sock_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A stale socket of another uid is not ours to remove."""
    prepare_socket_dir(sock_dir)
    path = sock_dir / "gate.sock"
    _stale_socket(path)
    real = os.geteuid()
    monkeypatch.setattr(os, "geteuid", lambda: real + 1)
    with pytest.raises(UnsafeSocketPath, match="owned by uid"):
        bind_unix_socket(path)
    assert path.exists()


@pytest.mark.parametrize(
    ("name", "problem"),
    [
        ("\0trading-gate", "abstract"),
        ("@trading-gate", "abstract"),
        ("gate.sock", "absolute"),
        ("/run/te/../gate.sock", "normalised"),
        ("/run/te\0b", "NUL"),
        ("/run/" + "x" * MAX_SOCKET_PATH_BYTES, "longer"),
    ],
)
def test_bind_unix_socket_when_name_is_unsafe_then_refused(name: str, problem: str) -> None:
    """Abstract, relative, non-normalised, NUL-bearing and overlong names are refused."""
    with pytest.raises(UnsafeSocketPath, match=problem):
        bind_unix_socket(Path(name) if "\0" not in name else _raw_path(name))


def test_bind_unix_socket_when_bind_fails_then_setup_error(sock_dir: Path) -> None:
    """An OS refusal to bind is the typed setup error, naming the path."""
    with pytest.raises(SocketSetupError, match="cannot bind"):
        bind_unix_socket(sock_dir / "gate.sock")


def test_bind_unix_socket_when_umask_ineffective_then_wrong_mode_refused_and_removed(
    sock_dir: Path, open_umask: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The mode is verified after bind: a socket that is not 0600 is removed and refused."""
    prepare_socket_dir(sock_dir)
    monkeypatch.setattr(os, "umask", lambda mask: 0)
    with pytest.raises(UnsafeSocketPath, match="expected 0600"):
        bind_unix_socket(sock_dir / "gate.sock")
    assert not (sock_dir / "gate.sock").exists()


def _raw_path(name: str) -> Path:
    # pathlib keeps NUL bytes; only the OS refuses them, later.
    path = Path(name)
    assert str(path) == name
    return path


def test_peer_credentials_when_socketpair_then_our_pid_uid_gid() -> None:
    """SO_PEERCRED names the connecting process."""
    left, right = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
    with left, right:
        assert peer_credentials(right) == PeerCredentials(
            pid=os.getpid(), uid=os.geteuid(), gid=os.getegid()
        )


class _UcredSocket:
    def __init__(self, raw: bytes) -> None:
        self.raw = raw
        self.asked: tuple[int, int, int] | None = None

    def getsockopt(self, level: int, optname: int, buflen: int, /) -> bytes:
        self.asked = (level, optname, buflen)
        return self.raw


def test_peer_credentials_when_uid_at_or_above_2_31_then_read_unsigned() -> None:
    """uid and gid are unsigned 32-bit: "=iII", where "3i" would make them negative."""
    sock = _UcredSocket(struct.pack("=iII", 4242, 2**31 + 5, 2**32 - 2))
    assert peer_credentials(sock) == PeerCredentials(pid=4242, uid=2**31 + 5, gid=2**32 - 2)
    assert sock.asked == (socket.SOL_SOCKET, socket.SO_PEERCRED, 12)


def test_unlink_if_ours_when_another_socket_replaced_ours_then_kept(sock_dir: Path) -> None:
    """Shutdown removes only the socket it bound, never one bound there since."""
    prepare_socket_dir(sock_dir)
    path = sock_dir / "gate.sock"
    with bind_unix_socket(path):
        ours = socket_inode(path)
        path.unlink()
        with bind_unix_socket(path):
            theirs = socket_inode(path)
            unlink_if_ours(path, ours)
            assert path.exists()
            unlink_if_ours(path, theirs)
            assert not path.exists()
            unlink_if_ours(path, theirs)
