"""The second decode pass: every decimal must be a bounded string on the wire.

msgspec accepts JSON numbers for `Decimal` fields and any digits or exponent in a
decimal string. For each message type this module derives a *mirror* type whose
Decimal fields are strings constrained by DECIMAL_PATTERN and whose other fields are
skipped (`msgspec.Raw`). Decoding the same body into the mirror checks every decimal
in C, with msgspec's own JSON path in the error.
"""

import functools
import types
import typing
from decimal import Decimal
from typing import Annotated, Final

import msgspec
from msgspec import Meta

# Plain or scientific notation with at most 30 + 30 digits and a two-digit exponent, so
# "1e999999" (a 9-byte denial of service once something converts it to int) never
# decodes. Every Decimal the codec lets through therefore has |exponent| < 130.
DECIMAL_PATTERN: Final = r"^-?[0-9]{1,30}(\.[0-9]{1,30})?([eE][-+]?[0-9]{1,2})?$"

_DecimalText = Annotated[str, Meta(pattern=DECIMAL_PATTERN)]


def mirror_decoder(tp: object) -> msgspec.json.Decoder[object]:
    """A decoder for `tp`'s mirror: it checks decimals and nothing else."""
    return msgspec.json.Decoder(_mirror(tp))


def _mirror(tp: object) -> object:
    origin = typing.get_origin(tp)
    if tp is Decimal:
        return _DecimalText
    if isinstance(tp, type) and issubclass(tp, msgspec.Struct):
        return _mirror_struct(tp)
    if origin is Annotated:
        return _mirror(typing.get_args(tp)[0])
    if origin in (types.UnionType, typing.Union):
        mirrored = tuple(_mirror(arg) for arg in typing.get_args(tp))
        if all(m is msgspec.Raw for m in mirrored):
            return msgspec.Raw
        return functools.reduce(lambda a, b: a | b, mirrored)  # type: ignore[operator]
    if origin is tuple:
        item = _mirror(typing.get_args(tp)[0])
        return msgspec.Raw if item is msgspec.Raw else tuple[item, ...]  # type: ignore[valid-type]
    if origin is dict:
        value = _mirror(typing.get_args(tp)[1])
        return msgspec.Raw if value is msgspec.Raw else dict[str, value]  # type: ignore[valid-type]
    return msgspec.Raw


@functools.cache
def _mirror_struct(cls: type[msgspec.Struct]) -> type[msgspec.Struct]:
    config = cls.__struct_config__
    fields = []
    for field in msgspec.structs.fields(cls):
        # Every field may be absent in the mirror: presence was the first pass's job.
        mirrored = _mirror(field.type)
        optional = mirrored if mirrored is msgspec.Raw else mirrored | None  # type: ignore[operator]
        fields.append((field.name, optional, None))
    return msgspec.defstruct(
        f"{cls.__name__}Wire",
        fields,
        tag_field=config.tag_field,
        tag=config.tag,
    )
