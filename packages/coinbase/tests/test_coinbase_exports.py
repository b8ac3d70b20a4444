"""The public faces: every `__all__` name exists, and the packages re-export their parts."""

import importlib

import pytest

import trading_coinbase
from trading_coinbase import schemas, translate

MODULES = [
    "trading_coinbase",
    "trading_coinbase.auth",
    "trading_coinbase.boundary",
    "trading_coinbase.errors",
    "trading_coinbase.ratelimit",
    "trading_coinbase.rest",
    "trading_coinbase.websocket",
    "trading_coinbase.schemas",
    "trading_coinbase.schemas.base",
    "trading_coinbase.schemas.orders",
    "trading_coinbase.schemas.account",
    "trading_coinbase.schemas.market",
    "trading_coinbase.schemas.stream",
    "trading_coinbase.translate",
    "trading_coinbase.translate.scalars",
    "trading_coinbase.translate.enums",
    "trading_coinbase.translate.orders",
    "trading_coinbase.translate.state",
    "trading_coinbase.translate.market",
]


@pytest.mark.parametrize("name", MODULES)
def test_module_when_imported_then_all_names_exist_once_and_public(name: str) -> None:
    """`__all__` lists only names the module has, each once, none private."""
    module = importlib.import_module(name)

    exported = module.__all__

    assert len(exported) == len(set(exported))
    assert all(hasattr(module, item) for item in exported)
    assert not [item for item in exported if item.startswith("_")]


@pytest.mark.parametrize(
    ("package", "parts"),
    [
        (schemas, ["base", "orders", "account", "market", "stream"]),
        (translate, ["scalars", "enums", "orders", "state", "market"]),
    ],
)
def test_package_when_imported_then_reexports_exactly_its_parts(
    package: object, parts: list[str]
) -> None:
    """`schemas` and `translate` are one import each: their __all__ is the union."""
    prefix = package.__name__  # type: ignore[attr-defined]
    union = {n for p in parts for n in importlib.import_module(f"{prefix}.{p}").__all__}

    assert set(package.__all__) == union  # type: ignore[attr-defined]


def test_top_level_when_imported_then_core_names_present() -> None:
    """The names the gate, agent and sim reach for are on the package itself."""
    for name in ("RestClient", "WebsocketFeed", "ApiKey", "Signer", "OrderSpec", "schemas"):
        assert name in trading_coinbase.__all__
