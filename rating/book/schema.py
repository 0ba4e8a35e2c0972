"""Turn parsed YAML into typed, frozen dataclasses, strictly.

The dataclasses in :mod:`rating.book.model` *are* the schema: field names, types, defaults and
constraints (``Annotated[float, POSITIVE]``) are read from their type hints, so the document
format and the code cannot drift apart. Unknown keys, missing required keys, wrong types and
values outside their constraint are errors that name the file, line and key path and say what
would be valid.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
import types
import typing
from dataclasses import dataclass
from typing import Annotated, Any, Literal, Union, get_args, get_origin

from ..errors import BookError
from .dates import iso_date
from .yamlsafe import Lines, dotted

_EPS = 2.0 ** -52


@dataclass(frozen=True)
class Constraint:
    """A numeric bound attached to a field with ``Annotated``."""

    description: str
    low: float | None = None
    high: float | None = None
    low_open: bool = False
    high_open: bool = False
    fen: bool = False  # an amount in yuan: at most 2 decimals

    def ok(self, x: float) -> bool:
        if self.low is not None and (x <= self.low if self.low_open else x < self.low):
            return False
        if self.high is not None and (x >= self.high if self.high_open else x > self.high):
            return False
        return True

    def whole_fen(self, x: float) -> bool:
        cents = x * 100
        return not self.fen or abs(cents - round(cents)) <= 1e-9 + 8 * _EPS * abs(cents)


POSITIVE = Constraint("a finite number > 0", low=0.0, low_open=True)
NON_NEGATIVE = Constraint("a finite number >= 0", low=0.0)
SHARE = Constraint("a share between 0 and 1", low=0.0, high=1.0)
UNIT_RATIO = Constraint("a ratio in (0, 1]", low=0.0, low_open=True, high=1.0)
FACTOR = Constraint("a factor > 0 and at most 1000", low=0.0, low_open=True, high=1000.0)
RATE = Constraint("a rate > 0 and at most 1,000,000", low=0.0, low_open=True, high=1e6)
MONEY = Constraint("an amount in yuan >= 0 and at most 1e12", low=0.0, high=1e12, fen=True)

Positive = Annotated[float, POSITIVE]
NonNegative = Annotated[float, NON_NEGATIVE]
Share = Annotated[float, SHARE]
Factor = Annotated[float, FACTOR]
Rate = Annotated[float, RATE]
Money = Annotated[float, MONEY]


class Reader:
    """Converts data to dataclasses and reports errors against one file's line map."""

    def __init__(self, lines: Lines, file: str | None):
        self.lines, self.file = lines, file

    def error(self, path: tuple, reason: str) -> BookError:
        """An error at ``path``, with the line of the nearest known ancestor."""
        probe = path
        while probe and probe not in self.lines:
            probe = probe[:-1]
        return BookError(reason, file=self.file, line=self.lines.get(probe), path=dotted(path))

    def read(self, tp: Any, value: Any, path: tuple) -> Any:
        """Convert ``value`` to type ``tp`` (a dataclass, container, scalar or ``Annotated``)."""
        constraint = None
        if get_origin(tp) is Annotated:
            tp, *extras = get_args(tp)
            constraint = next((e for e in extras if isinstance(e, Constraint)), None)
        origin = get_origin(tp)
        if origin in (Union, types.UnionType):
            options = [a for a in get_args(tp) if a is not type(None)]
            if value is None:
                if len(options) < len(get_args(tp)):
                    return None
                raise self.error(path, f"a value is required here ({_describe(tp)})")
            if len(options) == 1:
                return self.read(options[0] if constraint is None
                                 else Annotated[options[0], constraint], value, path)
            for option in options:  # the first that fits; used for int | str style unions
                try:
                    return self.read(option, value, path)
                except BookError:
                    continue
            raise self.error(path, f"expected {_describe(tp)}, got {_show(value)}")
        if isinstance(tp, type) and dataclasses.is_dataclass(tp):
            return self.read_dataclass(tp, value, path)
        if _is_sequence(tp):
            item_tp = get_args(tp)[0]
            if not isinstance(value, list):
                raise self.error(path, f"expected a list, got {_show(value)}")
            return tuple(self.read(item_tp, v, path + (i,)) for i, v in enumerate(value))
        if origin is dict:
            _, item_tp = get_args(tp)
            if not isinstance(value, dict):
                raise self.error(path, f"expected a mapping, got {_show(value)}")
            return {k: self.read(item_tp, v, path + (k,)) for k, v in value.items()}
        if origin is Literal:
            allowed = get_args(tp)
            if value not in allowed or isinstance(value, bool) != isinstance(allowed[0], bool):
                raise self.error(path, f"{_show(value)} is not allowed; use one of: "
                                       + ", ".join(str(a) for a in allowed))
            return value
        return self.read_scalar(tp, value, path, constraint)

    def read_scalar(self, tp: type, value: Any, path: tuple, constraint: Constraint | None):
        if tp is float:
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise self.error(path, f"expected a number, got {_show(value)}")
            value = float(value)
            if not math.isfinite(value):
                raise self.error(path, f"{value} is not finite; use a finite number")
            if constraint is not None and not constraint.ok(value):
                raise self.error(path, f"{value:g} is out of range; use {constraint.description}")
            if constraint is not None and not constraint.whole_fen(value):
                raise self.error(path, f"{value!r} has fractions of a fen; amounts are yuan "
                                       "with at most 2 decimals")
            return value
        if tp is int:
            if isinstance(value, bool) or not isinstance(value, int):
                raise self.error(path, f"expected a whole number, got {_show(value)}")
            if constraint is not None and not constraint.ok(value):
                raise self.error(path, f"{value} is out of range; use {constraint.description}")
            return value
        if tp is bool:
            if not isinstance(value, bool):
                raise self.error(path, f"expected true or false, got {_show(value)}")
            return value
        if tp is str:
            if not isinstance(value, str) or not value.strip():
                raise self.error(path, f"expected non-empty text, got {_show(value)}")
            return value
        if tp is dt.date:
            if isinstance(value, str):  # JSON has no date type
                try:
                    return iso_date(value)
                except ValueError:
                    raise self.error(path, f"{value!r} is not a date written YYYY-MM-DD") \
                        from None
            if isinstance(value, dt.datetime) or not isinstance(value, dt.date):
                raise self.error(path, f"expected a date written YYYY-MM-DD, got {_show(value)}")
            return value
        raise TypeError(f"schema type {tp!r} is not supported")  # a bug in the model, not input

    def read_dataclass(self, cls: type, value: Any, path: tuple):
        if not isinstance(value, dict):
            raise self.error(path, f"expected a mapping with keys {_keys(cls)}, got {_show(value)}")
        hints = typing.get_type_hints(cls, include_extras=True)
        fields = {f.name: f for f in dataclasses.fields(cls) if f.init}
        names = {f.metadata.get("key", f.name): f.name for f in fields.values()}
        for key in value:
            if key not in names:
                raise self.error(path + (key,), f"unknown key {key!r}; valid keys: {_keys(cls)}")
        kwargs = {}
        for key, name in names.items():
            field = fields[name]
            if key in value:
                kwargs[name] = self.read(hints[name], value[key], path + (key,))
            elif (field.default is dataclasses.MISSING
                  and field.default_factory is dataclasses.MISSING):
                raise self.error(path, f"missing required key {key!r} ({_describe(hints[name])})")
        obj = cls(**kwargs)
        check = getattr(obj, "_check", None)
        if check is not None:
            check(self, path)
        return obj


def as_data(obj: Any) -> Any:
    """The document a dataclass was read from, rebuilt: the inverse of :meth:`Reader.read`.

    Absent optional keys (``None``) are left out; reading the result back gives an equal
    object. Used to derive a new document from a loaded one (scenarios) without the file.
    """
    if dataclasses.is_dataclass(obj):
        return {f.metadata.get("key", f.name): as_data(getattr(obj, f.name))
                for f in dataclasses.fields(obj)
                if f.init and getattr(obj, f.name) is not None}
    if isinstance(obj, (list, tuple)):
        return [as_data(v) for v in obj]
    if isinstance(obj, dict):
        return {k: as_data(v) for k, v in obj.items()}
    return obj


def _keys(cls: type) -> str:
    return ", ".join(f.metadata.get("key", f.name) for f in dataclasses.fields(cls) if f.init)


def _show(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _describe(tp: Any) -> str:
    if get_origin(tp) is Annotated:
        tp, *extras = get_args(tp)
        for extra in extras:
            if isinstance(extra, Constraint):
                return extra.description
    origin = get_origin(tp)
    if origin in (Union, types.UnionType):
        return " or ".join(_describe(a) for a in get_args(tp) if a is not type(None))
    if _is_sequence(tp):
        return "a list"
    if origin is dict:
        return "a mapping"
    if origin is Literal:
        return "one of " + ", ".join(map(str, get_args(tp)))
    if isinstance(tp, type) and dataclasses.is_dataclass(tp):
        return f"a mapping with keys {_keys(tp)}"
    return {float: "a number", int: "a whole number", bool: "true or false", str: "text",
            dt.date: "a date YYYY-MM-DD"}.get(tp, str(tp))


def _is_sequence(tp: Any) -> bool:
    """``tuple[X, ...]``: a YAML list, read into a tuple (values stay immutable). ``list[X]``
    is read the same way."""
    args = get_args(tp)
    return get_origin(tp) is list or (get_origin(tp) is tuple and len(args) == 2
                                      and args[1] is Ellipsis)
