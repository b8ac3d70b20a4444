"""`te bootstrap`: the runtime layout, never overwriting, and docs for this installation."""

import os
import re
import stat
import sys
from importlib import resources
from pathlib import Path

import yaml

from operator_stubs import RunTe
from trading_agent.config_files import load_strategy_dir
from trading_gate import load_config
from trading_gate.rule_files import load_rule_dir

REPO = Path(__file__).resolve().parents[4]
TEMPLATES = resources.files("trading_console").joinpath("templates")

# ARCHITECTURE.md "Runtime layout", as the files and folders it names.
EXPECTED_DIRS = {
    "config", "config/strategies", "config/rules", "config/rules/core",
    "config/rules/active", "config/rules/shadow", "config/rules/proposed", "data", "journal",
    "docs", "docs/systemd",
}  # fmt: skip
EXPECTED_DOCS = {
    "README.md", "keys.md", "going-live.md", "kill-switch.md", "recovery.md", "systemd.md",
    "systemd/trading-gate.service", "systemd/trading-agent.service",
}  # fmt: skip


def _tree(root: Path) -> dict[str, tuple[bytes, int, int]]:
    """Every file under root: (content, mtime ns, mode), keyed by relative path."""
    return {
        str(p.relative_to(root)): (p.read_bytes(), p.stat().st_mtime_ns, p.stat().st_mode)
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def test_templates_when_compared_with_the_repository_config_then_identical() -> None:
    """The packaged config is byte for byte the shipped config/ (safety and strategies)."""
    shipped = REPO / "config"
    packaged = TEMPLATES.joinpath("config")
    assert packaged.joinpath("safety.yaml").read_bytes() == (shipped / "safety.yaml").read_bytes()
    names = {p.name for p in (shipped / "strategies").glob("*.yaml")}
    assert {t.name for t in packaged.joinpath("strategies").iterdir()} == names
    for name in names:
        ours = packaged.joinpath("strategies", name).read_bytes()
        assert ours == (shipped / "strategies" / name).read_bytes(), name


def test_bootstrap_when_directory_is_new_then_creates_the_runtime_layout(
    te: RunTe, tmp_path: Path
) -> None:
    """Every folder of the layout, the shipped config, one example rule, the docs;
    data/ is the gate's (0700) and rules/active/ starts empty."""
    root = tmp_path / "inst"
    done = te("bootstrap", root)
    assert done.returncode == 0, done.stderr
    for relative in EXPECTED_DIRS:
        assert (root / relative).is_dir(), relative
    assert stat.S_IMODE((root / "data").stat().st_mode) & 0o077 == 0
    assert list((root / "config" / "rules" / "active").iterdir()) == []
    assert [p.name for p in (root / "config" / "rules" / "core").iterdir()] == [
        "stale-mid-no-entries.rule"
    ]
    docs = {str(p.relative_to(root / "docs")) for p in (root / "docs").rglob("*") if p.is_file()}
    assert docs == EXPECTED_DOCS
    files = [p for p in root.rglob("*") if p.is_file()]
    assert f"{len(files) + len(EXPECTED_DIRS)} created, 0 skipped" in done.stdout


def test_bootstrap_config_when_loaded_then_the_gate_and_the_agent_accept_it(
    te: RunTe, tmp_path: Path
) -> None:
    """The bootstrapped safety.yaml passes the gate's loader; the strategies the agent's."""
    root = tmp_path / "inst"
    assert te("bootstrap", root).returncode == 0
    loaded = load_config(root / "config" / "safety.yaml")
    assert loaded.config.dead_man.heartbeat_timeout_s == 3
    shipped = {p.stem for p in (REPO / "config" / "strategies").glob("*.yaml")}
    assert set(load_strategy_dir(root / "config" / "strategies")) == shipped


def test_bootstrap_when_run_twice_then_second_run_changes_nothing_and_lists_skips(
    te: RunTe, tmp_path: Path
) -> None:
    """Idempotent: the second run creates nothing, touches no file (bytes, mtime, mode)
    and says that it skipped every path."""
    root = tmp_path / "inst"
    first = te("bootstrap", root)
    before = _tree(root)
    second = te("bootstrap", root)
    assert second.returncode == 0, second.stderr
    assert _tree(root) == before
    created = len(re.findall(r"^created ", first.stdout, re.M))
    assert (
        len(re.findall(r"^skipped .*\(already there; left unchanged\)$", second.stdout, re.M))
        == created
    )
    assert f"0 created, {created} skipped" in second.stdout


def test_bootstrap_when_files_edited_or_deleted_then_edits_kept_and_missing_restored(
    te: RunTe, tmp_path: Path
) -> None:
    """An operator's edit survives; a deleted file comes back as shipped; only those
    two are reported created."""
    root = tmp_path / "inst"
    assert te("bootstrap", root).returncode == 0
    safety = root / "config" / "safety.yaml"
    safety.write_text(safety.read_text().replace("max_age_ms: 2000", "max_age_ms: 1500"))
    edited = safety.read_bytes()
    (root / "config" / "strategies" / "momentum.yaml").unlink()
    (root / "docs" / "keys.md").unlink()
    done = te("bootstrap", root)
    assert done.returncode == 0
    assert safety.read_bytes() == edited
    restored = (root / "config" / "strategies" / "momentum.yaml").read_bytes()
    assert restored == (REPO / "config" / "strategies" / "momentum.yaml").read_bytes()
    assert sorted(re.findall(r"^created +(.*)$", done.stdout, re.M)) == sorted(
        [str((root / "config" / "strategies" / "momentum.yaml").resolve()),
         str((root / "docs" / "keys.md").resolve())]
    )  # fmt: skip


def test_bootstrap_when_a_file_sits_where_a_folder_belongs_then_nothing_is_created(
    te: RunTe, tmp_path: Path
) -> None:
    """`data` is a file: exit 1 naming it, and the check runs before anything is made."""
    root = tmp_path / "inst"
    root.mkdir()
    (root / "data").write_text("not a folder")
    done = te("bootstrap", root)
    assert done.returncode == 1
    assert f"{(root / 'data').resolve()} should be a directory" in done.stderr
    assert sorted(p.name for p in root.iterdir()) == ["data"]


def test_bootstrap_when_target_is_a_file_then_usage_error(te: RunTe, tmp_path: Path) -> None:
    """DIRECTORY naming a file is refused by the argument check: exit 2."""
    target = tmp_path / "file"
    target.write_text("x")
    done = te("bootstrap", target)
    assert done.returncode == 2
    assert "is a file" in done.stderr


def test_bootstrap_when_a_symlink_sits_at_a_file_path_then_it_is_not_followed(
    te: RunTe, tmp_path: Path
) -> None:
    """A (dangling) symlink at config/safety.yaml is skipped, never written through."""
    root = tmp_path / "inst"
    (root / "config").mkdir(parents=True)
    victim = tmp_path / "victim.yaml"
    (root / "config" / "safety.yaml").symlink_to(victim)
    done = te("bootstrap", root)
    assert done.returncode == 0, done.stderr
    assert not victim.exists()
    assert f"skipped  {root.resolve() / 'config' / 'safety.yaml'} (already there" in done.stdout
    assert (root / "config" / "safety.yaml").is_symlink()


def test_bootstrap_docs_when_written_then_they_name_this_installations_paths(
    te: RunTe, tmp_path: Path
) -> None:
    """The docs hold this installation's absolute paths and executables, no placeholder
    left, the key file that safety.yaml names, and units of Type=simple that say why."""
    root = (tmp_path / "inst").resolve()
    assert te("bootstrap", root).returncode == 0
    docs = root / "docs"
    texts = {p.name: p.read_text() for p in docs.rglob("*") if p.is_file()}
    for name, text in texts.items():
        assert not re.search(r"\$[a-z_{]", text), name
    key_file = yaml.safe_load((root / "config" / "safety.yaml").read_text())["keys"]["key_file"]
    assert key_file in texts["keys.md"]
    assert "0600" in texts["keys.md"]
    assert "Trade-only" in texts["keys.md"]
    assert "environment variable" in texts["keys.md"]
    assert f"touch {root / 'data' / 'KILL'}" in texts["kill-switch.md"]
    te_bin = Path(sys.executable).parent / "te"
    assert f"{te_bin} kill --data {root / 'data'}" in texts["kill-switch.md"]
    assert "HALTED stays HALTED" in texts["recovery.md"]
    assert f"{te_bin} audit verify --data {root / 'data'}" in texts["recovery.md"]
    assert "- [ ]" in texts["going-live.md"]
    gate_unit = texts["trading-gate.service"]
    exec_start = re.search(r"^ExecStart=(\S+) run --config (\S+) --data (\S+)", gate_unit, re.M)
    assert exec_start is not None
    assert os.access(exec_start[1], os.X_OK)
    assert (exec_start[2], exec_start[3]) == (
        str(root / "config" / "safety.yaml"),
        str(root / "data"),
    )
    for unit in (gate_unit, texts["trading-agent.service"]):
        assert "\nType=simple\n" in unit
        assert "\nRestart=on-failure\n" in unit
        assert "Type=notify is not implemented yet" in unit
    assert "Type=notify" in texts["systemd.md"]


def test_rules_when_bootstrapped_then_example_loads_and_matches_the_repository(
    te: RunTe, tmp_path: Path
) -> None:
    """The example core rule loads with the gate's own loader, is the repository's
    config/rules byte for byte, and the README describes every tier directory."""
    root = tmp_path / "inst"
    assert te("bootstrap", root).returncode == 0
    loaded = load_rule_dir(root / "config" / "rules")
    assert ([r.id for r in loaded.core], loaded.active, loaded.shadow) == (
        ["core_stale_mid_no_entries"],
        (),
        (),
    )
    assert loaded.sha256 == load_rule_dir(REPO / "config" / "rules").sha256
    readme = (root / "config" / "rules" / "README.md").read_text()
    assert readme == (REPO / "config" / "rules" / "README.md").read_text()
    for tier in ("core/", "active/", "shadow/", "proposed/", "decisions.jsonl"):
        assert tier in readme
