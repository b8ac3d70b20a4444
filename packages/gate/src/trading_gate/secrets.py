"""The exchange key: read from one file the gate alone can read, never from elsewhere.

The key file is the CDP portal's download (`{"name": ..., "privateKey": ...}`; newer
Ed25519 keys carry `id` instead of `name`). It is opened without following symlinks,
then checked on the open descriptor (no race between check and read): a regular file,
owned by the gate's own user, no group or other permission bits, in a directory with
none either. Anything else refuses to start: a key another user could read or swap is
not a key this gate will trade with.

    KeyFileError                  refuse to start; the message says what to fix
"""

import os
import re
import stat
from collections.abc import MutableMapping
from pathlib import Path
from typing import Final

import msgspec

MAX_KEY_FILE_BYTES: Final = 16 * 1024

# Variables that may carry exchange or model credentials; scrubbed from the gate's own
# environment at start so no child process or crash dump inherits them.
_SECRET_VARIABLE: Final = re.compile(
    r"^(COINBASE_.*|CDP_.*|CB_.*|.*API_KEY.*|.*API_SECRET.*|.*PRIVATE_KEY.*|.*SECRET.*)$",
    re.IGNORECASE,
)


_SAFE_FIELD: Final = re.compile(r"`(\$?[A-Za-z_.]{1,40})`")


class KeyFileError(Exception):
    """The key file is missing, unsafe or malformed: fix it, then start the gate."""


class Secret:
    """A string that never shows itself in a repr, str, log line or traceback."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        """The secret itself: call only where it is used (signing)."""
        return self._value

    def __repr__(self) -> str:
        return "Secret('**********')"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)

    def __reduce__(self) -> str:
        # Refuse pickling: a secret must not travel by serialisation.
        raise TypeError("Secret cannot be pickled")


class ExchangeKey(msgspec.Struct, frozen=True, kw_only=True):
    """A Coinbase CDP API key: its name (the JWT `kid` and `sub`) and private key."""

    name: str
    private_key: Secret


class _KeyFile(msgspec.Struct, forbid_unknown_fields=True, kw_only=True, rename="camel"):
    name: str | None = None
    id: str | None = None
    private_key: str


def read_key_file(path: Path, *, euid: int | None = None) -> ExchangeKey:
    """Read and check the key file at `path`.

    Raises:
        KeyFileError: missing, a symlink, not a regular file, wrong owner, readable or
            writable by group or others, in an unsafe directory, or not a key file.
    """
    owner = os.geteuid() if euid is None else euid
    _check_directory(path.parent, owner)
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC | os.O_NOCTTY | os.O_NONBLOCK)
    except FileNotFoundError as exc:
        raise KeyFileError(f"key file {path} does not exist") from exc
    except OSError as exc:
        # ELOOP is what O_NOFOLLOW reports for a symlink. O_NONBLOCK keeps a FIFO planted
        # at the path from blocking the open; fstat then refuses it.
        raise KeyFileError(f"key file {path} cannot be opened safely: {exc.strerror}") from exc
    try:
        _check_descriptor(fd, path, owner)
        raw = os.read(fd, MAX_KEY_FILE_BYTES + 1)
    finally:
        os.close(fd)
    if len(raw) > MAX_KEY_FILE_BYTES:
        raise KeyFileError(f"key file {path} is larger than {MAX_KEY_FILE_BYTES} bytes")
    return _parse(raw, path)


def _check_directory(directory: Path, owner: int) -> None:
    try:
        info = directory.lstat()
    except FileNotFoundError as exc:
        raise KeyFileError(f"key directory {directory} does not exist") from exc
    if not stat.S_ISDIR(info.st_mode):
        raise KeyFileError(f"key directory {directory} is not a directory (or is a symlink)")
    if info.st_uid != owner:
        raise KeyFileError(f"key directory {directory} is owned by uid {info.st_uid}, not {owner}")
    if info.st_mode & 0o077:
        raise KeyFileError(
            f"key directory {directory} has mode {stat.filemode(info.st_mode)}; "
            f"run: chmod 700 {directory}"
        )


def _check_descriptor(fd: int, path: Path, owner: int) -> None:
    info = os.fstat(fd)
    if not stat.S_ISREG(info.st_mode):
        raise KeyFileError(f"key file {path} is not a regular file")
    if info.st_uid != owner:
        raise KeyFileError(f"key file {path} is owned by uid {info.st_uid}, not {owner}")
    if info.st_mode & 0o077:
        raise KeyFileError(
            f"key file {path} has mode {stat.filemode(info.st_mode)}; run: chmod 600 {path}"
        )


def _parse(raw: bytes, path: Path) -> ExchangeKey:
    try:
        parsed = msgspec.json.decode(raw, type=_KeyFile)
    except msgspec.ValidationError as exc:
        # Never repeat the library's text: it may quote the file. Name only a safe field.
        field = _SAFE_FIELD.search(str(exc))
        where = f" (field {field.group(1)})" if field else ""
        raise KeyFileError(
            f"key file {path} is not a CDP key file with `name` and `privateKey`{where}"
        ) from None
    except msgspec.DecodeError:
        # ValidationError is a DecodeError: this arm is for text that is not JSON at all.
        raise KeyFileError(f"key file {path} is not valid JSON") from None
    name = parsed.name or parsed.id
    if not name:
        raise KeyFileError(f"key file {path} has no `name` (or `id`) field")
    if not parsed.private_key.strip():
        raise KeyFileError(f"key file {path} has an empty `privateKey`")
    # Keys copied through environment variables often carry literal "\n" sequences.
    private_key = parsed.private_key.replace("\\n", "\n")
    return ExchangeKey(name=name, private_key=Secret(private_key))


def scrub_environment(environ: MutableMapping[str, str]) -> tuple[str, ...]:
    """Remove credential-looking variables from `environ`; return the names removed."""
    removed = tuple(sorted(name for name in environ if _SECRET_VARIABLE.match(name)))
    for name in removed:
        del environ[name]
    return removed
