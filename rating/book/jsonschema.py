"""JSON Schemas (draft 2020-12) of the files the package reads, generated from the dataclasses.

The loader (:class:`rating.book.schema.Reader`) validates a document against the type hints of
the dataclasses in :mod:`rating.book.model` and :mod:`rating.book.reference`; this module walks
the same type hints and writes them out as a JSON Schema, so that an editor (or any other
program) can check a file as it is typed. There is one source of truth: a new field in the
model appears in the schema without touching this module.

What the walk translates, mirroring the reader:

=======================================  ===========================================================
type hint                                JSON Schema
=======================================  ===========================================================
a dataclass                              an object: its fields are ``properties``; those without a
                                         default are ``required``; ``additionalProperties: false``
``float`` / ``Annotated[float, C]``      ``number``, with C's bounds (``minimum``,
                                         ``exclusiveMinimum``, ``maximum`` ...)
``int`` / ``Annotated[int, C]``          ``integer``, with C's bounds
``bool``                                 ``boolean``
``str``                                  a non-blank ``string`` (``minLength: 1``, ``pattern: \\S``)
``datetime.date``                        a ``string`` written ``YYYY-MM-DD`` (``format: date``)
``Literal[...]``                         ``enum``
``X | None``                             ``anyOf`` X and ``null`` (``key:`` with no value)
``X | Y``                                ``anyOf``
``tuple[X, ...]``, ``list[X]``           an ``array`` of X
``dict[str, X]``                         an ``object`` whose values are X
=======================================  ===========================================================

What cannot be expressed is listed in :data:`NOT_EXPRESSED` and in each schema's
``description``: the rules that span several fields (the ``_check`` methods), references to
other parts of the file or to other files, amounts in whole fen, and YAML's own types (a
whole number written ``12.0`` is refused by the loader, while JSON Schema counts it as an
integer).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import inspect
import types
import typing
from typing import Annotated, Any, Literal, Union, get_args, get_origin

from .fields import FIELDS, FieldSpec
from .schema import Constraint, _is_sequence, as_data

DRAFT = "https://json-schema.org/draft/2020-12/schema"

DATE_PATTERN = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"
"""A date as the loader reads one: exactly ``YYYY-MM-DD`` (whether it is a real day is left
to ``format: date``, which validators check when asked to)."""

NOT_EXPRESSED = (
    "Checked by the loader (`rating validate`) but not by this schema: rules that span "
    "several fields (the `_check` methods of the dataclasses; in a rate book, e.g. exactly "
    "one of `source` and `illustrative: true`, `article` only with `source`, exactly one of "
    "`levels` and `bands` and which one the variable's kind needs, bands contiguous and "
    "increasing, factors monotone for adverse and favourable variables, the short-term "
    "scale's length and last entry, exactly one of `amount` and `ratio`, floor <= 1 <= cap, "
    "effective_to not before effective_from); "
    "references inside the file (`source` keys, `sectors` lists, one table per variable and "
    "sector, `variable` a profile field a table may key on) and to other files "
    "(`limits.injury_scale` naming a shipped scale); the "
    "jurisdiction code's pattern; mapping keys a profile can match (no blanks, ';' or ','); "
    "amounts in whole fen (at most 2 decimals); and that a whole number is written `12`, "
    "not `12.0` (JSON Schema counts 12.0 as an integer). A file this schema accepts may still "
    "be refused by `rating validate`; what it refuses (dates written YYYY-MM-DD), the loader "
    "refuses too.")


def schema_of(cls: type, *, title: str | None = None,
              description: str | None = None) -> dict[str, Any]:
    """The JSON Schema of documents the reader turns into ``cls`` (a dataclass).

    Parameters
    ----------
    cls : type
        The dataclass a document is read into, e.g. :class:`rating.book.model.RateBook`.
    title, description : str, optional
        Default: the class name and its docstring; :data:`NOT_EXPRESSED` is appended to the
        description.

    Returns
    -------
    dict
        A draft 2020-12 schema: the top-level object, and every other dataclass under
        ``$defs`` (referred to by ``$ref``).
    """
    walker = _Walker()
    top = walker.dataclass_body(cls)
    out: dict[str, Any] = {"$schema": DRAFT}
    out["title"] = title or cls.__name__
    out["description"] = ((description or _doc(cls)) + "\n\n" + NOT_EXPRESSED).strip()
    out.update({k: v for k, v in top.items() if k != "description"})
    defs = {name: body for name, body in walker.defs.items() if name != cls.__name__}
    if defs:
        out["$defs"] = dict(sorted(defs.items()))
    return out


def book_schema() -> dict[str, Any]:
    """The JSON Schema of a rate book (``tables/books/*.yaml``)."""
    from .model import RateBook
    return schema_of(RateBook, title="Rate book (rating)",
                     description="A rate book of the `rating` package: one jurisdiction's "
                     "rates, factors and rules for one edition. Format: tables/README.md.")


def national_schema() -> dict[str, Any]:
    """The JSON Schema of the national rules (``tables/national.yaml``)."""
    from .reference import NationalRules
    return schema_of(NationalRules, title="National rules (rating)")


def statistics_schema() -> dict[str, Any]:
    """The JSON Schema of income statistics (``tables/statistics/income.yaml``)."""
    from .reference import IncomeStatistics
    return schema_of(IncomeStatistics, title="Income statistics (rating)")


def scale_schema() -> dict[str, Any]:
    """The JSON Schema of an injury-grade scale (``tables/scales/*.yaml``)."""
    from .reference import InjuryScale
    return schema_of(InjuryScale, title="Injury-grade scale (rating)")


def one_or_list(schema: dict[str, Any], key: str, name: str) -> dict[str, Any]:
    """A schema accepting one document of ``schema``, ``key:`` and a non-empty list of them,
    or a bare list of them (as :func:`rating.scenarios.load_scenarios` reads a file).

    ``schema`` is one from :func:`schema_of`; its top level moves to ``$defs[name]``.
    """
    defs = dict(schema.get("$defs", {}))
    defs[name] = {k: v for k, v in schema.items() if k not in ("$schema", "$defs", "title")}
    ref = {"$ref": f"#/$defs/{name}"}
    many = {"type": "array", "minItems": 1, "items": ref}
    return {"$schema": DRAFT, "title": schema.get("title", name),
            "description": schema.get("description", ""),
            "anyOf": [ref, {"type": "object", "properties": {key: many}, "required": [key],
                            "additionalProperties": False}, many],
            "$defs": dict(sorted(defs.items()))}


PROFILE_NOT_EXPRESSED = (
    "Checked when the profile is quoted (`rating quote --input`, `rating validate`) but not "
    "by this schema: which levels a category takes and which loadings `extensions` may name "
    "(both from the rate book in force), the exposure field the sub-sector needs, the limit "
    "schedule's bounds, the commission cap, and fields that contradict each other.")


def profile_schema() -> dict[str, Any]:
    """The JSON Schema of an enterprise profile: the input of ``rating quote --input`` (a
    mapping of the fields in :data:`rating.book.fields.FIELDS`), one row of a portfolio.

    Each field's kind gives its schema; ``null`` means the field is left out. Numbers may
    also be given as text (the command line passes flags as text, CSV files hold text).
    """
    props = {name: _field_schema(spec) for name, spec in FIELDS.items()}
    return {
        "$schema": DRAFT,
        "title": "Enterprise profile (rating)",
        "description": "An enterprise profile quoted by the `rating` package (rating quote "
                       "--input FILE): profile fields, all optional here; which ones a quote "
                       "needs depends on the rate book.\n\n" + PROFILE_NOT_EXPRESSED,
        "type": "object",
        "properties": props,
        "additionalProperties": False,
    }


# --- the walk -----------------------------------------------------------------------------

_NUMBER_TEXT = r"^\s*[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?\s*$"
_WHOLE_TEXT = r"^\s*[+]?[0-9]+(\.0*)?\s*$"
_MAX_NUMBER = 1e12  # rating.engine.columns.MAX_NUMBER; the rules layer does not import it
_FLAG_WORDS = ["true", "false", "True", "False", "TRUE", "FALSE", "yes", "no", "Yes", "No",
               "YES", "NO", "1", "0", "是", "否"]


def _field_schema(spec: FieldSpec) -> dict[str, Any]:
    label = f"{spec.en} / {spec.zh}" + (f" ({spec.unit})" if spec.unit else "")
    kind = spec.kind
    options: list[dict[str, Any]]
    if kind == "text":
        options = [{"type": "string"}]
    elif kind == "category":
        options = [{"type": "string"}, {"type": "integer"}, {"type": "boolean"}]
    elif kind in ("number", "count"):
        whole = kind == "count"
        options = [{"type": "integer" if whole else "number", "minimum": 0,
                    "maximum": _MAX_NUMBER},
                   {"type": "string", "pattern": _WHOLE_TEXT if whole else _NUMBER_TEXT}]
    elif kind == "flag":
        options = [{"type": "boolean"}, {"enum": [0, 1, *_FLAG_WORDS]}]
    elif kind == "date":
        options = [{"type": "string", "format": "date",
                    "pattern": r"^\s*[0-9]{4}-[0-9]{2}-[0-9]{2}\s*$"}]
    elif kind == "list":
        options = [{"type": "array", "items": {"type": "string"}},
                   {"type": "string", "description": "keys separated by ';'"}]
    else:  # pragma: no cover - a new kind in fields.py needs a schema here
        raise TypeError(f"profile field kind {kind!r} has no schema")
    return {"description": f"{label}; kind {kind}", "anyOf": options + [{"type": "null"}]}


class _Walker:
    """Type hints to schemas; each dataclass once, under ``$defs``."""

    def __init__(self) -> None:
        self.defs: dict[str, dict[str, Any]] = {}

    def of(self, tp: Any) -> dict[str, Any]:
        constraint = None
        if get_origin(tp) is Annotated:
            tp, *extras = get_args(tp)
            constraint = next((e for e in extras if isinstance(e, Constraint)), None)
        origin = get_origin(tp)
        if origin in (Union, types.UnionType):
            args = get_args(tp)
            options = [a for a in args if a is not type(None)]
            if constraint is not None:  # Annotated[X | None, C]: the bound is X's
                options = [Annotated[a, constraint] for a in options]
            schemas = [self.of(a) for a in options]
            if len(options) < len(args):
                schemas.append({"type": "null"})
            return schemas[0] if len(schemas) == 1 else {"anyOf": schemas}
        if isinstance(tp, type) and dataclasses.is_dataclass(tp):
            name = tp.__name__
            if name not in self.defs:
                self.defs[name] = {}  # a placeholder: a recursive type refers to itself
                self.defs[name] = self.dataclass_body(tp)
            return {"$ref": f"#/$defs/{name}"}
        if _is_sequence(tp):
            return {"type": "array", "items": self.of(get_args(tp)[0])}
        if origin is dict:
            key_tp, item_tp = get_args(tp)
            if key_tp is not str:  # pragma: no cover - YAML keys are text
                raise TypeError(f"mapping keys of type {key_tp!r} are not supported")
            return {"type": "object", "additionalProperties": self.of(item_tp)}
        if origin is Literal:
            allowed = list(get_args(tp))
            out: dict[str, Any] = {"enum": allowed}
            kinds = {type(a) for a in allowed}
            if len(kinds) == 1:
                out = {"type": _JSON_TYPES[kinds.pop()], **out}
            return out
        return self.scalar(tp, constraint)

    def scalar(self, tp: Any, constraint: Constraint | None) -> dict[str, Any]:
        if tp is float or tp is int:
            out: dict[str, Any] = {"type": "number" if tp is float else "integer"}
            if constraint is not None:
                out["description"] = constraint.description + (
                    " (yuan, at most 2 decimals)" if constraint.fen else "")
                if constraint.low is not None:
                    out["exclusiveMinimum" if constraint.low_open else "minimum"] = \
                        _num(constraint.low)
                if constraint.high is not None:
                    out["exclusiveMaximum" if constraint.high_open else "maximum"] = \
                        _num(constraint.high)
            return out
        if tp is bool:
            return {"type": "boolean"}
        if tp is str:
            return {"type": "string", "minLength": 1, "pattern": r"\S"}
        if tp is dt.date:
            return {"type": "string", "format": "date", "pattern": DATE_PATTERN,
                    "description": "a date written YYYY-MM-DD"}
        raise TypeError(f"schema type {tp!r} has no JSON Schema")  # a bug in the model

    def dataclass_body(self, cls: type) -> dict[str, Any]:
        hints = typing.get_type_hints(cls, include_extras=True)
        props: dict[str, Any] = {}
        required = []
        for f in dataclasses.fields(cls):
            if not f.init:
                continue
            key = f.metadata.get("key", f.name)
            prop = self.of(hints[f.name])
            if f.default is not dataclasses.MISSING and f.default is not None:
                prop = _with_default(prop, f.default)
            props[key] = prop
            if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
                required.append(key)
        out: dict[str, Any] = {"type": "object"}
        doc = _doc(cls)
        if doc:
            out["description"] = doc
        out["properties"] = props
        if required:
            out["required"] = required
        out["additionalProperties"] = False
        return out


_JSON_TYPES = {str: "string", bool: "boolean", int: "integer", float: "number"}


def _with_default(prop: dict[str, Any], default: Any) -> dict[str, Any]:
    value = _plain(as_data(default))
    if "$ref" in prop:  # siblings of $ref are allowed in 2020-12, but keep it plain
        return {"allOf": [prop], "default": value}
    return {**prop, "default": value}


def _plain(value: Any) -> Any:
    """A default as JSON: dates as YYYY-MM-DD text."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value.isoformat() if isinstance(value, dt.date) else value


def _num(x: float) -> int | float:
    return int(x) if float(x).is_integer() and abs(x) < 2**53 else x


def _doc(cls: type) -> str:
    """A class's own docstring, as one paragraph per blank-line-separated block."""
    doc = cls.__dict__.get("__doc__")
    if not doc or (dataclasses.is_dataclass(cls) and doc.startswith(cls.__name__ + "(")):
        return ""  # the dataclass-generated signature is no description
    blocks = inspect.cleandoc(doc).split("\n\n")
    for i, block in enumerate(blocks):  # numpydoc sections are not prose
        if block.split("\n")[1:2] and set(block.split("\n")[1].strip()) == {"-"}:
            blocks = blocks[:i]
            break
    return "\n\n".join(" ".join(b.split()) for b in blocks)
