"""The package's public face is exactly its __all__."""

import importlib
import pkgutil

import msgspec

import trading_contract


def test_all_when_listed_then_every_name_exists_and_is_unique() -> None:
    """Every name in __all__ is importable, and none is listed twice."""
    assert len(trading_contract.__all__) == len(set(trading_contract.__all__))
    for name in trading_contract.__all__:
        assert hasattr(trading_contract, name), name


def test_all_when_compared_to_modules_then_every_message_type_is_public() -> None:
    """Every Struct defined in the package's modules is exported (none is left private)."""
    package = trading_contract.__path__
    structs: set[str] = set()
    for info in pkgutil.iter_modules(package):
        module = importlib.import_module(f"trading_contract.{info.name}")
        for name, value in vars(module).items():
            is_struct = isinstance(value, type) and issubclass(value, msgspec.Struct)
            if is_struct and not name.startswith("_") and value.__module__ == module.__name__:
                structs.add(name)
    assert structs <= set(trading_contract.__all__)
