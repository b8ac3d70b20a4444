"""The key file: read only when the gate alone can read it, and never shown."""

import json
import os
import pickle
from pathlib import Path

import pytest

from trading_gate.secrets import KeyFileError, Secret, read_key_file, scrub_environment

CANARY = (
    "-----BEGIN EC PRIVATE KEY-----\nCANARY-7f3a9c0e-do-not-leak\n-----END EC PRIVATE KEY-----\n"
)
NAME = "organizations/org-1/apiKeys/key-1"


def _key_dir(tmp_path: Path) -> Path:
    directory = tmp_path / "keys"
    directory.mkdir(mode=0o700)
    directory.chmod(0o700)
    return directory


def _write(path: Path, content: str | bytes, mode: int = 0o600) -> Path:
    path.write_bytes(content.encode() if isinstance(content, str) else content)
    path.chmod(mode)
    return path


def _valid(tmp_path: Path, **fields: object) -> Path:
    body = {"name": NAME, "privateKey": CANARY} | fields
    return _write(_key_dir(tmp_path) / "cdp_api_key.json", json.dumps(body))


def test_read_key_file_when_safe_then_key_loaded(tmp_path: Path) -> None:
    """A 0600 file in a 0700 directory, owned by us, loads."""
    key = read_key_file(_valid(tmp_path))
    assert key.name == NAME
    assert key.private_key.reveal() == CANARY


def test_read_key_file_when_ed25519_id_field_then_loaded(tmp_path: Path) -> None:
    """Newer key files name the key with `id`; escaped newlines are restored."""
    path = _write(_key_dir(tmp_path) / "k.json", json.dumps({"id": "key-2", "privateKey": "a\\nb"}))
    key = read_key_file(path)
    assert key.name == "key-2"
    assert key.private_key.reveal() == "a\nb"


@pytest.mark.parametrize("mode", [0o640, 0o604, 0o660, 0o644, 0o601, 0o610])
def test_read_key_file_when_group_or_other_bits_then_refused(tmp_path: Path, mode: int) -> None:
    """Any group or other permission bit refuses the file, saying how to fix it."""
    path = _valid(tmp_path)
    path.chmod(mode)
    with pytest.raises(KeyFileError, match="chmod 600"):
        read_key_file(path)


def test_read_key_file_when_directory_open_then_refused(tmp_path: Path) -> None:
    """A key in a directory others can list or write is refused."""
    path = _valid(tmp_path)
    path.parent.chmod(0o755)
    with pytest.raises(KeyFileError, match="chmod 700"):
        read_key_file(path)


def test_read_key_file_when_symlink_then_refused(tmp_path: Path) -> None:
    """A symlink is never followed, even to a safe file."""
    target = _valid(tmp_path)
    link = target.parent / "link.json"
    link.symlink_to(target)
    with pytest.raises(KeyFileError, match="cannot be opened safely"):
        read_key_file(link)


def test_read_key_file_when_owned_by_another_uid_then_refused(tmp_path: Path) -> None:
    """A file (and directory) owned by another user is refused."""
    path = _valid(tmp_path)
    with pytest.raises(KeyFileError, match="owned by uid"):
        read_key_file(path, euid=os.geteuid() + 1)


def test_read_key_file_when_not_regular_then_refused(tmp_path: Path) -> None:
    """A FIFO planted at the key path is refused without blocking on it."""
    path = _key_dir(tmp_path) / "fifo"
    os.mkfifo(path, 0o600)
    with pytest.raises(KeyFileError, match="not a regular file"):
        read_key_file(path)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("not json", "not valid JSON"),
        (json.dumps({"name": NAME}), "not a CDP key file"),
        (json.dumps({"name": NAME, "privateKey": CANARY, "extra": 1}), "not a CDP key file"),
        (json.dumps({"name": NAME, "privateKey": 7}), "not a CDP key file"),
        (json.dumps({"privateKey": CANARY}), "no `name`"),
        (json.dumps({"name": NAME, "privateKey": "  "}), "empty `privateKey`"),
        ('{"name": "x", "privateKey": "' + CANARY.replace("\n", "\\n") + '"', "not valid JSON"),
        ("x" * 20_000, "larger than"),
    ],
)
def test_read_key_file_when_malformed_then_refused_without_quoting_it(
    tmp_path: Path, content: str, message: str
) -> None:
    """A malformed key file is refused with what is wrong, never with its content."""
    path = _write(_key_dir(tmp_path) / "k.json", content)
    with pytest.raises(KeyFileError, match=message) as raised:
        read_key_file(path)
    shown = f"{raised.value!s} {raised.value!r} {raised.value.__cause__!r}"
    assert "CANARY" not in shown


def test_read_key_file_when_missing_then_refused(tmp_path: Path) -> None:
    """A missing file or directory is a clear refusal."""
    with pytest.raises(KeyFileError, match="does not exist"):
        read_key_file(_key_dir(tmp_path) / "absent.json")
    with pytest.raises(KeyFileError, match="does not exist"):
        read_key_file(tmp_path / "nowhere" / "absent.json")


def test_secret_when_shown_then_masked() -> None:
    """repr, str and formatting never show the secret; pickling is refused."""
    secret = Secret(CANARY)
    for shown in (repr(secret), str(secret), f"{secret}", f"{[secret]}", repr({"k": secret})):
        assert "CANARY" not in shown
    with pytest.raises(TypeError):
        pickle.dumps(secret)
    assert secret == Secret(CANARY)
    assert hash(secret) == hash(Secret(CANARY))
    assert secret != CANARY


def test_scrub_environment_when_credentials_present_then_removed() -> None:
    """Credential-looking variables are removed; ordinary ones stay."""
    environ = {
        "COINBASE_API_KEY": "k",
        "cdp_api_key_name": "n",
        "ANTHROPIC_API_KEY": "a",
        "MY_SECRET": "s",
        "PATH": "/usr/bin",
        "HOME": "/root",
    }
    removed = scrub_environment(environ)
    assert removed == ("ANTHROPIC_API_KEY", "COINBASE_API_KEY", "MY_SECRET", "cdp_api_key_name")
    assert environ == {"PATH": "/usr/bin", "HOME": "/root"}
