"""The JSON Schemas generated from the dataclasses (rating.book.jsonschema) accept every file
the loader accepts, and refuse what the loader refuses for the type rules they can express.

Files are read for the schema with dates kept as text (as an editor's YAML 1.2 reader and JSON
see them); the loader reads the same files as it always does.
"""

from __future__ import annotations

import copy
import dataclasses
import datetime as dt
import json
import re
from pathlib import Path
from typing import Annotated, Literal

import jsonschema
import pytest
import yaml

import rating
from rating.book import load_book, load_book_text, tables_dir
from rating.book.jsonschema import (
    NOT_EXPRESSED,
    book_schema,
    national_schema,
    profile_schema,
    scale_schema,
    schema_of,
    statistics_schema,
)
from rating.book.model import RateBook
from rating.book.schema import MONEY, POSITIVE, Reader, as_data
from rating.cli import EXAMPLE_PROFILE, file_schema, main
from rating.errors import BookError, ProfileError

ROOT = Path(__file__).resolve().parents[1]
BOOKS = sorted((tables_dir() / "books").glob("*.yaml"))
FORMATS = jsonschema.Draft202012Validator.FORMAT_CHECKER


class _TextDates(yaml.SafeLoader):
    """YAML as JSON sees it: ``2022-05-31`` stays text."""


_TextDates.yaml_implicit_resolvers = {
    first: [r for r in resolvers if r[0] != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()}


def text_dates(text: str):
    return yaml.load(text, Loader=_TextDates)  # noqa: S506 - a SafeLoader subclass


def as_json(data):
    """A loaded document with dates written YYYY-MM-DD (for documents built in code)."""
    return json.loads(json.dumps(data, default=lambda d: d.isoformat()))


def validator(schema: dict) -> jsonschema.Draft202012Validator:
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema, format_checker=FORMATS)


def errors(schema: dict, data) -> list[str]:
    return [e.message for e in validator(schema).iter_errors(data)]


@pytest.fixture(scope="module")
def book_validator():
    return validator(book_schema())


# --------------------------------------------------------------------------------------------
# every file the loader accepts, the schema accepts


def test_at_least_one_shipped_book():
    assert BOOKS, "no shipped books found"


@pytest.mark.parametrize("path", BOOKS, ids=lambda p: p.name)
def test_every_shipped_book_validates(path, book_validator):
    load_book(path)  # the loader accepts it
    data = text_dates(path.read_text("utf-8"))
    assert isinstance(data["effective_from"], str)  # dates really are text here
    assert [e.message for e in book_validator.iter_errors(data)] == []


@pytest.mark.parametrize("schema, pattern", [
    (national_schema, "national.yaml"),
    (statistics_schema, "statistics/*.yaml"),
    (scale_schema, "scales/*.yaml"),
], ids=["national", "statistics", "scales"])
def test_every_shipped_reference_file_validates(schema, pattern):
    paths = sorted(tables_dir().glob(pattern))
    assert paths
    for path in paths:
        assert errors(schema(), text_dates(path.read_text("utf-8"))) == [], path


@pytest.mark.parametrize("kind, path", [
    ("claims", "examples/accident.yaml"),
    ("scenarios", "examples/scenarios.yaml"),
    ("calibration", "examples/calibration.yaml"),
    ("calibration", "examples/calibration-small.yaml"),
])
def test_example_files_validate(kind, path):
    assert errors(file_schema(kind), text_dates((ROOT / path).read_text("utf-8"))) == []


def readme_minimal_book() -> str:
    text = (ROOT / "tables" / "README.md").read_text("utf-8")
    match = re.search(r"```yaml\n(# Minimal rate book.*?)```", text, re.S)
    assert match, "tables/README.md lost its minimal rate book"
    return match.group(1)


def test_readme_minimal_book_validates(book_validator):
    text = readme_minimal_book()
    load_book_text(text, "minimal.yaml")
    assert [e.message for e in book_validator.iter_errors(text_dates(text))] == []


def chain_variants() -> list[RateBook]:
    """The books tests build in code (tests/test_chain.py: other floating rules)."""
    book = rating.books()[0]
    out = []
    for rule, combine in [("additive", "additive"), ("lowest", "product"),
                          ("highest", "additive")]:
        groups = {g: dataclasses.replace(grp, rule=rule)
                  for g, grp in book.floating.groups.items()}
        floating = dataclasses.replace(book.floating, groups=groups, combine=combine)
        out.append(dataclasses.replace(book, floating=floating))
    return out


def test_books_built_in_tests_validate(book_validator):
    for book in chain_variants():
        data = as_json(as_data(book))
        load_book(copy.deepcopy(data))  # the loader reads dates as text too
        assert [e.message for e in book_validator.iter_errors(data)] == []


# --------------------------------------------------------------------------------------------
# the schema and the loader refuse the same broken books


@pytest.fixture(scope="module")
def shipped():
    return text_dates(BOOKS[0].read_text("utf-8"))


def _sub(doc):
    sector = next(iter(doc["sectors"].values()))
    return next(iter(sector["subsectors"].values()))


def _tier(doc):
    return next(iter(doc["tiers"].values()))


MUTATIONS = {
    # name: (change the document in place, key path the loader names)
    "unknown top-level key": (lambda d: d.update(colour="blue"), ("colour",)),
    "unknown nested key": (lambda d: _sub(d).update(base_rates=1), ("base_rates",)),
    "wrong type: text for a number": (lambda d: _sub(d).update(base_rate="900"), ("base_rate",)),
    "wrong type: number for a mapping": (lambda d: d.update(title=3), ("title",)),
    "wrong type: mapping for a list": (lambda d: d["term"].update(short_term_scale={"a": 1}),
                                       ("term", "short_term_scale")),
    "wrong type: number for a boolean": (
        lambda d: next(iter(d["sectors"].values())).update(mandatory=1), ("mandatory",)),
    "out of a Literal: status": (lambda d: d.update(status="approved"), ("status",)),
    "out of a Literal: basis": (lambda d: _sub(d).update(basis="hectares"), ("basis",)),
    "out of a Literal: currency": (lambda d: d.update(currency="USD"), ("currency",)),
    "negative money": (lambda d: _sub(d).update(minimum_premium=-1), ("minimum_premium",)),
    "negative money in a sub-limit": (
        lambda d: d["limits"]["schedule"]["rescue"].update(amount=-5), ("amount",)),
    "factor of 0": (lambda d: next(iter(_tier(d)["levels"].values())).update(factor=0),
                    ("factor",)),
    "factor above 1000": (lambda d: d["floating"].update(cap=1001), ("cap",)),
    "share above 1": (lambda d: d["expenses"].update(prevention_share_min=1.5),
                      ("prevention_share_min",)),
    "missing required key": (lambda d: d.pop("expenses"), ()),
    "blank text": (lambda d: d.update(id="  "), ("id",)),
    "date not YYYY-MM-DD": (lambda d: d.update(effective_from="2022-5-31"), ("effective_from",)),
    "a day that does not exist": (lambda d: d.update(effective_from="2022-02-30"),
                                  ("effective_from",)),
    "whole number with a fraction": (lambda d: d["term"].update(max_months=12.5),
                                     ("max_months",)),
}


@pytest.mark.parametrize("name", list(MUTATIONS))
def test_schema_and_loader_refuse_the_same_mutations(name, shipped, book_validator):
    change, tail = MUTATIONS[name]
    doc = copy.deepcopy(shipped)
    change(doc)
    found = list(book_validator.iter_errors(doc))
    assert found, f"the schema accepts a book with {name}"
    with pytest.raises(BookError) as info:
        load_book(copy.deepcopy(doc))
    # both name the same place: the loader's key path ends where a schema error points
    loader_path = info.value.path
    assert loader_path.endswith(".".join(tail)) if tail else loader_path == ""
    schema_paths = {(".".join(map(str, e.absolute_path)), e.message) for e in _leaves(found)}
    parent = loader_path.rpartition(".")[0]
    assert any(p == loader_path or p.startswith(loader_path + ".")
               or (p == parent and "was unexpected" in msg)
               for p, msg in schema_paths), (loader_path, schema_paths)


def _leaves(errs):
    """Errors and, for anyOf, the errors of their branches."""
    for e in errs:
        yield e
        yield from _leaves(e.context or [])


def test_schema_paths_name_the_loaders_key(shipped, book_validator):
    """One mutation checked by hand: the schema's error points at the same key as the loader's."""
    doc = copy.deepcopy(shipped)
    _sub(doc)["basis"] = "hectares"
    (err,) = book_validator.iter_errors(doc)
    with pytest.raises(BookError) as info:
        load_book(copy.deepcopy(doc))
    assert ".".join(map(str, err.absolute_path)) == info.value.path
    assert "hectares" in err.message and "hectares" in info.value.reason


def test_cross_field_rules_are_the_loaders_alone(shipped, book_validator):
    """What the schema says it cannot express: both source and illustrative passes the schema
    and fails the loader, and the schema's description says so."""
    doc = copy.deepcopy(shipped)
    _sub(doc).update(illustrative=True, source=next(iter(doc["sources"]), "x"))
    assert list(book_validator.iter_errors(doc)) == []
    with pytest.raises(BookError, match="either 'source'"):
        load_book(doc)
    assert NOT_EXPRESSED in book_schema()["description"]
    assert "_check" in book_schema()["description"]


# --------------------------------------------------------------------------------------------
# generated from the type hints


def test_every_field_of_the_model_is_in_the_schema():
    schema = book_schema()
    top = {f.name for f in dataclasses.fields(RateBook) if f.init}
    assert set(schema["properties"]) == top
    assert schema["additionalProperties"] is False
    required = {f.name for f in dataclasses.fields(RateBook) if f.init
                and f.default is dataclasses.MISSING
                and f.default_factory is dataclasses.MISSING}
    assert set(schema["required"]) == required
    sub = schema["$defs"]["Subsector"]
    rate, absent = sub["properties"]["base_rate"]["anyOf"]  # base_rate or rate_grid
    assert absent == {"type": "null"}
    assert rate["exclusiveMinimum"] == 0
    assert rate["maximum"] == 1_000_000
    assert sub["properties"]["minimum_premium"]["minimum"] == 0
    assert sub["properties"]["minimum_premium"]["default"] == 0
    assert set(sub["properties"]["basis"]["enum"]) >= {"persons", "contract_value"}


@dataclasses.dataclass(frozen=True, kw_only=True)
class Inner:
    """An inner object."""

    amount: Annotated[float, MONEY]


@dataclasses.dataclass(frozen=True, kw_only=True)
class Outer:
    when: dt.date
    count: Annotated[int, POSITIVE] = 1
    mode: Literal["a", "b"] = "a"
    inner: Inner | None = None
    many: tuple[Inner, ...] = ()
    by_key: dict[str, float] = dataclasses.field(default_factory=dict)
    note: str | None = None


def test_a_new_dataclass_is_translated_by_its_hints():
    """A model written today gets its schema without a line of schema code."""
    schema = schema_of(Outer)
    props = schema["properties"]
    assert schema["required"] == ["when"] and schema["additionalProperties"] is False
    assert props["when"]["format"] == "date" and props["when"]["type"] == "string"
    assert props["count"] == {"type": "integer", "description": POSITIVE.description,
                              "exclusiveMinimum": 0, "default": 1}
    assert props["mode"]["enum"] == ["a", "b"]
    assert props["inner"] == {"anyOf": [{"$ref": "#/$defs/Inner"}, {"type": "null"}]}
    assert props["many"]["items"] == {"$ref": "#/$defs/Inner"}
    assert props["by_key"]["additionalProperties"] == {"type": "number"}
    assert schema["$defs"]["Inner"]["properties"]["amount"]["minimum"] == 0
    assert schema["$defs"]["Inner"]["description"] == "An inner object."
    # and the schema agrees with the reader on a document
    good = {"when": "2025-01-01", "inner": {"amount": 3}, "many": [{"amount": 1}]}
    assert errors(schema, good) == []
    Reader({}, None).read(Outer, good, ())
    for bad in ({"when": "2025-01-01", "mode": "c"}, {"when": "2025-01-01", "count": 0},
                {"when": "2025-01-01", "inner": {"amount": -1}}, {"when": "x"}, {}):
        assert errors(schema, bad), bad
        with pytest.raises(BookError):
            Reader({}, None).read(Outer, bad, ())


# --------------------------------------------------------------------------------------------
# the profile


def test_profile_schema_takes_the_example_and_refuses_unknown_fields():
    schema = profile_schema()
    assert errors(schema, EXAMPLE_PROFILE) == []
    rating.quote(EXAMPLE_PROFILE)
    assert set(schema["properties"]) == set(rating.book.fields.FIELDS)
    bad = dict(EXAMPLE_PROFILE, head_count=3)
    assert errors(schema, bad)
    with pytest.raises(ProfileError, match="unknown field"):
        rating.quote(bad)


@pytest.mark.parametrize("field, value", [
    ("headcount", -1), ("headcount", 1.5), ("headcount", "many"), ("inception_date", "1/1/2026"),
    ("blacklisted", "maybe"), ("commission_rate", "3%"), ("extensions", 5),
])
def test_profile_schema_and_quote_refuse_bad_values(field, value):
    bad = dict(EXAMPLE_PROFILE, **{field: value})
    assert errors(profile_schema(), bad), (field, value)
    with pytest.raises(ProfileError) as info:
        rating.quote(bad)
    assert info.value.field == field


def test_profile_schema_takes_what_the_command_line_gives():
    """Flags arrive as text: '120' is a headcount, 'true' a flag."""
    profile = dict(EXAMPLE_PROFILE, headcount="120", blacklisted="false", extensions=[])
    assert errors(profile_schema(), profile) == []
    assert rating.quote(profile).premium == rating.quote(EXAMPLE_PROFILE).premium


# --------------------------------------------------------------------------------------------
# the command


def test_schema_command_prints_and_writes(tmp_path, capsys):
    assert main(["schema", "book"]) == 0
    out, err = capsys.readouterr()
    assert json.loads(out) == book_schema() and err == ""
    target = tmp_path / "book.schema.json"
    assert main(["schema", "book", "-o", str(target)]) == 0
    assert json.loads(target.read_text("utf-8")) == book_schema()
    assert str(target) in capsys.readouterr()[0]
    for kind in ("profile", "national", "statistics", "scale", "claims", "scenarios",
                 "calibration"):
        assert main(["schema", kind]) == 0
        jsonschema.Draft202012Validator.check_schema(json.loads(capsys.readouterr()[0]))
    assert main(["schema", "nonsense"]) == 2


def test_scenario_schema_takes_one_a_list_or_scenarios_key():
    schema = file_schema("scenarios")
    one = {"name": "up", "book": {"base_rate": {"construction": 1.1}}}
    assert errors(schema, one) == []
    assert errors(schema, [one]) == [] and errors(schema, {"scenarios": [one]}) == []
    assert errors(schema, {"scenarios": []}) and errors(schema, {"name": "x", "bok": {}})
