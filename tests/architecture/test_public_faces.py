"""Each package's public face is its __all__: every name exists, none twice."""

import importlib

import pytest

PACKAGES = [
    "trading_contract",
    "trading_coinbase",
    "trading_gate",
    "trading_agent",
    "trading_sim",
    "trading_console",
]


@pytest.mark.parametrize("name", PACKAGES)
def test_package_when_imported_then_all_names_exist_once(name: str) -> None:
    """`__all__` lists only names the package has, each once, none private."""
    package = importlib.import_module(name)
    exported = package.__all__
    assert len(exported) == len(set(exported))
    assert all(hasattr(package, item) for item in exported)
    assert not [item for item in exported if item.startswith("_")]
