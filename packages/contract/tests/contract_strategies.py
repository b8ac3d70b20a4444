"""Hypothesis strategies for every protocol message, derived from msgspec's type info.

Deriving them from the schema means a new message or field is covered the day it is
added. PlaceOrder has cross-field rules that random fields would almost never meet,
so it gets a hand-written strategy that picks a valid shape first.
"""

import re
from decimal import Decimal
from typing import Any, cast

import msgspec
import msgspec.inspect as mi
from hypothesis import strategies as st

import trading_contract as c
from trading_contract.wire_decimals import DECIMAL_PATTERN

_TEXT = st.characters(codec="utf-8", exclude_categories=("Cs",))


def decimals(*, positive: bool = False) -> st.SearchStrategy[Decimal]:
    digits = st.integers(min_value=1 if positive else -(10**20), max_value=10**20)
    exponent = st.integers(min_value=-18, max_value=6)
    return st.builds(lambda n, e: Decimal(n).scaleb(e), digits, exponent).filter(_wire_ok)


def _wire_ok(value: Decimal) -> bool:
    return re.fullmatch(DECIMAL_PATTERN, str(value)) is not None


def _strings(info: mi.StrType) -> st.SearchStrategy[str]:
    base = (
        st.from_regex(info.pattern, fullmatch=True, alphabet=_TEXT)
        if info.pattern
        else st.text(_TEXT)
    )
    low, high = info.min_length or 0, info.max_length
    return base.filter(lambda s: low <= len(s) and (high is None or len(s) <= high))


def _ints(info: mi.IntType) -> st.SearchStrategy[int]:
    return st.integers(min_value=info.ge, max_value=info.le)


def _collection_sizes(info: mi.VarTupleType | mi.DictType) -> dict[str, int]:
    return {"min_size": info.min_length or 0, "max_size": min(info.max_length or 3, 3)}


def from_info(info: mi.Type) -> st.SearchStrategy[Any]:  # noqa: C901 - one arm per kind
    match info:
        case mi.Metadata():
            return from_info(info.type)
        case mi.DecimalType():
            return decimals()
        case mi.StrType():
            return _strings(info)
        case mi.IntType():
            return _ints(info)
        case mi.BoolType():
            return st.booleans()
        case mi.NoneType():
            return st.none()
        case mi.EnumType():
            return st.sampled_from(list(info.cls))
        case mi.UnionType():
            return st.one_of([from_info(t) for t in info.types])
        case mi.VarTupleType():
            return st.lists(from_info(info.item_type), **_collection_sizes(info)).map(tuple)
        case mi.DictType():
            return st.dictionaries(
                from_info(info.key_type), from_info(info.value_type), **_collection_sizes(info)
            )
        case mi.StructType():
            return structs(info.cls)
    raise NotImplementedError(f"no strategy for {info!r}")


def structs(cls: type[msgspec.Struct]) -> st.SearchStrategy[Any]:
    if cls is c.PlaceOrder:
        return place_orders()
    info = cast(mi.StructType, mi.type_info(cls))
    fields = {f.name: from_info(f.type) for f in info.fields}
    positive = {"price", "size"} if cls is c.Fill else set()
    fields |= {name: decimals(positive=True) for name in positive}
    if cls is c.AdminResume:
        # Its cross-field rules: a resume says why, and never resumes into HALTED.
        fields["reason"] = fields["reason"].filter(str.strip)
        fields["to"] = st.sampled_from([c.TradingState.ACTIVE, c.TradingState.REDUCING])
    return st.fixed_dictionaries(fields).map(lambda kw: cls(**kw))


def _field(cls: type[msgspec.Struct], name: str) -> st.SearchStrategy[Any]:
    info = cast(mi.StructType, mi.type_info(cls))
    return from_info(next(f.type for f in info.fields if f.name == name))


@st.composite
def place_orders(draw: st.DrawFn) -> c.PlaceOrder:
    kind = draw(st.sampled_from(list(c.OrderType)))
    tifs = {
        c.OrderType.MARKET: [c.TimeInForce.IOC],
        c.OrderType.LIMIT: list(c.TimeInForce),
        c.OrderType.STOP_LIMIT: [c.TimeInForce.GTC, c.TimeInForce.GTD],
    }[kind]
    tif = draw(st.sampled_from(tifs))
    resting = kind is c.OrderType.LIMIT and tif in {c.TimeInForce.GTC, c.TimeInForce.GTD}
    stop = kind is c.OrderType.STOP_LIMIT
    units = [c.SizeUnit.BASE] if stop else list(c.SizeUnit)
    maybe_price = decimals(positive=True)
    return c.PlaceOrder(
        request_id=draw(_field(c.PlaceOrder, "request_id")),
        intent_id=draw(_field(c.PlaceOrder, "intent_id")),
        product_id=draw(_field(c.PlaceOrder, "product_id")),
        side=draw(st.sampled_from(list(c.Side))),
        order_type=kind,
        size=draw(decimals(positive=True)),
        size_in=draw(st.sampled_from(units)),
        limit_price=None if kind is c.OrderType.MARKET else draw(maybe_price),
        stop_price=draw(maybe_price) if stop else None,
        stop_direction=draw(st.sampled_from(list(c.StopDirection))) if stop else None,
        time_in_force=tif,
        end_time_ns=draw(_field(c.PlaceOrder, "sent_ns")) if tif is c.TimeInForce.GTD else None,
        post_only=draw(st.booleans()) if resting else False,
        reduce_only=draw(st.booleans()),
        strategy_id=draw(_field(c.PlaceOrder, "strategy_id")),
        reason=draw(structs(c.Reason)),
        sent_ns=draw(_field(c.PlaceOrder, "sent_ns")),
    )


AGENT_MESSAGE_TYPES: tuple[type[msgspec.Struct], ...] = (
    c.Hello,
    c.Heartbeat,
    c.PlaceOrder,
    c.CancelOrder,
    c.CancelAll,
    c.Query,
)
GATE_MESSAGE_TYPES: tuple[type[msgspec.Struct], ...] = (
    c.Welcome,
    c.Heartbeat,
    c.Decision,
    c.OrderUpdate,
    c.Fill,
    c.GateState,
    c.QueryReply,
    c.Error,
)
ADMIN_REQUEST_TYPES: tuple[type[msgspec.Struct], ...] = (
    c.AdminStatus,
    c.AdminHalt,
    c.AdminResume,
    c.AdminReloadConfig,
    c.AdminReloadRules,
)
ADMIN_REPLY_TYPES: tuple[type[msgspec.Struct], ...] = (
    c.AdminAck,
    c.AdminStatusReply,
    c.Error,
)
