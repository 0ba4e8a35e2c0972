"""Every rate-book validation error names the file, line and key path, and says what is valid.

Each case starts from the shipped Xiamen book and breaks one thing, either by editing its text
(the expected line is found by searching the edited text, never hard-coded) or by editing the
parsed document and dumping it back (the expected line is then found in the dumped text).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

import rating
from rating.book import load_book_text
from rating.errors import BookError

BOOK = Path(__file__).resolve().parents[1] / "tables" / "books" / "cn-fj-xm-2022.yaml"

# Unique anchors into the shipped book's text.
UNDERGROUND = "      underground:\n"
SCALE_TIER = "\n  scale:\n"
FLEET_TIER = "\n  fleet_size:\n"
SUB = "sectors.non_coal_mines.subsectors.underground"


# --------------------------------------------------------------------------------------------
# helpers


def locate(text: str, needle: str, after: str | None = None) -> int:
    """Offset of ``needle``: unique in ``text``, or the first one after the unique ``after``."""
    if after is None:
        assert text.count(needle) == 1, f"{needle!r} is not unique in the book"
        return text.index(needle)
    assert text.count(after) == 1, f"anchor {after!r} is not unique in the book"
    pos = text.find(needle, text.index(after))
    assert pos >= 0, f"{needle!r} not found after {after!r}"
    return pos


def line_of(text: str, needle: str, after: str | None = None) -> int:
    """1-based line on which ``needle`` (see :func:`locate`) starts."""
    return text.count("\n", 0, locate(text, needle, after)) + 1


def replace(text: str, old: str, new: str, after: str | None = None) -> tuple[str, int]:
    """Replace one occurrence of ``old`` (see :func:`locate`); return the text and its line."""
    pos = locate(text, old, after)
    return text[:pos] + new + text[pos + len(old):], text.count("\n", 0, pos) + 1


def dump(data: dict) -> str:
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True)


def check(err: BookError, *, line: int, path: str, mentions: tuple[str, ...] = ()) -> None:
    """The error points at ``line`` and ``path`` and its reason mentions every string given."""
    assert (err.line, err.path) == (line, path), err
    for word in mentions:
        assert word in err.reason, f"{word!r} not in reason {err.reason!r}"
    where = f"{err.file}:{line}" + (f": {path}" if path else "")
    assert str(err) == f"{where}: {err.reason}"


@pytest.fixture
def text() -> str:
    """The shipped book's text."""
    return BOOK.read_text(encoding="utf-8")


@pytest.fixture
def data(text) -> dict:
    """The shipped book, parsed (a fresh copy per test)."""
    return yaml.safe_load(text)


@pytest.fixture
def reject(tmp_path):
    """Write text to a file, load it with ``rating.load_book`` and return the BookError."""
    def _reject(bad: str) -> BookError:
        path = tmp_path / "bad-book.yaml"
        path.write_text(bad, encoding="utf-8")
        with pytest.raises(BookError) as info:
            rating.load_book(path)
        assert info.value.file == str(path)
        return info.value
    return _reject


def reject_text(bad: str) -> BookError:
    """Load text with ``load_book_text`` under the name ``bad.yaml``; return the BookError."""
    with pytest.raises(BookError) as info:
        load_book_text(bad, "bad.yaml")
    assert info.value.file == "bad.yaml"
    return info.value


# --------------------------------------------------------------------------------------------
# the valid book


def test_shipped_book_loads_with_stable_hash(text):
    """The shipped book loads; its sha256 is stable and follows content, not formatting."""
    first, second = rating.load_book(BOOK), rating.load_book(BOOK)
    assert first.id == "CN-FJ-XM-2022" and first.jurisdiction == "CN-FJ-XM"
    assert re.fullmatch(r"[0-9a-f]{64}", first.sha256)
    assert first.sha256 == second.sha256 == load_book_text(text, "x.yaml").sha256
    assert load_book_text("# a new comment\n" + text, "x.yaml").sha256 == first.sha256
    changed, _ = replace(text, "factor: 1.15}", "factor: 1.16}", after=SCALE_TIER)
    assert load_book_text(changed, "x.yaml").sha256 != first.sha256


# --------------------------------------------------------------------------------------------
# YAML level: syntax, tags, empty documents, keys


def test_syntax_error(text, reject):
    """A YAML syntax error names its line and the key path around it."""
    bad, line = replace(text, "base_rate: 900", "base_rate: 900: 3", after=UNDERGROUND)
    check(reject(bad), line=line, path="sectors.non_coal_mines.subsectors.underground",
          mentions=("not valid YAML", "after key 'base_rate'"))


@pytest.mark.parametrize("after, old, new", [
    pytest.param(UNDERGROUND, "base_rate: 900",
                 'base_rate: !!python/object/apply:os.system "touch {marker}"', id="scalar"),
    pytest.param(UNDERGROUND, "base_rate: 900",
                 'base_rate: !!python/object/apply:os.system ["touch {marker}"]',
                 id="sequence-on-number"),
    pytest.param(None, "short_term_scale: [",
                 "short_term_scale: !!python/object/apply:os.system [",
                 id="sequence-on-list"),
    pytest.param(None, "    label: {zh: 非煤矿山",
                 "    label: !!python/object:os.PathLike {zh: 非煤矿山",
                 id="mapping"),
])
def test_unsafe_tag_rejected(text, reject, tmp_path, after, old, new):
    """A python/* tag is refused, never constructed, and named in the reason."""
    marker = tmp_path / "executed"
    bad, line = replace(text, old, new.replace("{marker}", str(marker)), after=after)
    err = reject(bad)
    assert not marker.exists()
    assert err.line == line
    assert "python/object" in err.reason


@pytest.mark.parametrize("after, old, new", [
    pytest.param(None, "effective_from: 2022-05-31", "effective_from: 2022-02-30",
                 id="impossible-date"),
    pytest.param(UNDERGROUND, "base_rate: 900", "base_rate: !!int abc", id="bad-int"),
])
def test_constructor_failure_is_a_book_error(text, reject, after, old, new):
    """A value YAML cannot construct is a BookError at its line."""
    bad, line = replace(text, old, new, after=after)
    err = reject(bad)
    assert err.line == line and "cannot be read" in err.reason


@pytest.mark.parametrize("doc", ["", "\n\n", "# only a comment\n"])
def test_empty_document(reject, doc):
    """An empty document is refused at line 1."""
    check(reject(doc), line=1, path="", mentions=("empty",))


@pytest.mark.parametrize("doc", ["hello\n", "[]\n"])
def test_document_not_a_mapping(reject, doc):
    """A document that is not a mapping lists the keys a book has."""
    check(reject(doc), line=1, path="",
          mentions=("expected a mapping", "id", "effective_from", "sectors", "expenses"))


def test_duplicate_key_top_level(text, reject):
    """A repeated top-level key is reported at its second occurrence."""
    bad, _ = replace(text, "currency: CNY\n", "currency: CNY\nstatus: final\n")
    first = line_of(bad, "status: illustrative")
    check(reject(bad), line=line_of(bad, "status: final"), path="status",
          mentions=("duplicate key 'status'", f"first on line {first}"))


def test_duplicate_key_nested(text, reject):
    """Two base_rate keys in one sub-sector: the second one is reported."""
    bad, _ = replace(text, "minimum_premium: 3000\n",
                     "minimum_premium: 3000\n        base_rate: 950\n", after=UNDERGROUND)
    first = line_of(bad, "base_rate: 900", after=UNDERGROUND)
    check(reject(bad), line=line_of(bad, "base_rate: 950"), path=f"{SUB}.base_rate",
          mentions=("duplicate key 'base_rate'", f"first on line {first}"))


def test_non_string_key(text, reject):
    """An unquoted numeric level key is refused with advice to quote it."""
    bad, line = replace(text, "micro: {label", "1: {label", after=SCALE_TIER)
    check(reject(bad), line=line, path="tiers.scale.levels",
          mentions=("key 1 must be a string", 'quote it ("1")'))


# --------------------------------------------------------------------------------------------
# schema: keys, types, allowed values


@pytest.mark.parametrize("after, old, new, path, valid", [
    (None, "currency: CNY", "curency: CNY", "curency",
     ("currency", "effective_from", "limit_factors", "expenses")),
    (UNDERGROUND, "base_rate: 900", "base_rat: 900", f"{SUB}.base_rat",
     ("basis", "base_rate", "minimum_premium", "term", "illustrative")),
    (FLEET_TIER, "{lower: 0, upper: 10,", "{lower: 0, uper: 10,", "tiers.fleet_size.bands[0].uper",
     ("lower", "upper", "factor", "label")),
])
def test_unknown_key(text, reject, after, old, new, path, valid):
    """An unknown key is named, with the valid keys listed."""
    bad, line = replace(text, old, new, after=after)
    check(reject(bad), line=line, path=path,
          mentions=(f"unknown key {path.rsplit('.', 1)[-1]!r}", "valid keys:") + valid)


def test_missing_required_key_nested(text, reject):
    """A sub-sector without 'basis' is reported at the sub-sector, naming the allowed bases."""
    bad, _ = replace(text, "        basis: persons\n", "", after=UNDERGROUND)
    check(reject(bad), line=line_of(bad, UNDERGROUND), path=SUB,
          mentions=("missing required key 'basis'", "persons", "contract_value", "revenue"))


def test_missing_required_key_top_level(data):
    """A book without 'expenses' is reported at the document root."""
    del data["expenses"]
    bad = dump(data)
    check(reject_text(bad), line=line_of(bad, "id: CN-FJ-XM-2022"), path="",
          mentions=("missing required key 'expenses'", "prevention_share_min"))


@pytest.mark.parametrize("after, old, new, path, mentions", [
    pytest.param(UNDERGROUND, "base_rate: 900", "base_rate: abc", f"{SUB}.base_rate",
                 ("expected a number", "'abc'"), id="text-for-number"),
    pytest.param(UNDERGROUND, "label: {zh: 地下矿山, en: underground mine}",
                 "label: [地下矿山, underground mine]", f"{SUB}.label",
                 ("expected a mapping with keys zh, en",), id="list-for-mapping"),
    pytest.param(None, "effective_from: 2022-05-31", "effective_from: 31/05/2022",
                 "effective_from", ("YYYY-MM-DD", "'31/05/2022'"), id="date-text"),
    pytest.param(None, "effective_from: 2022-05-31", "effective_from: 2022-5-31",
                 "effective_from", ("YYYY-MM-DD", "'2022-5-31'"), id="date-unpadded"),
    pytest.param(None, "effective_from: 2022-05-31", "effective_from: 2022-05-31 08:00:00",
                 "effective_from", ("YYYY-MM-DD",), id="datetime-for-date"),
    pytest.param("\n  non_coal_mines:\n", "mandatory: true", 'mandatory: "yes"',
                 "sectors.non_coal_mines.mandatory", ("expected true or false",),
                 id="text-for-bool"),
    pytest.param(None, "max_months: 12", "max_months: 12.5", "term.max_months",
                 ("expected a whole number", "12.5"), id="float-for-int"),
    pytest.param(None, "    title: 厦门市", "    title: ''\n    note: 厦门市",
                 "sources.xm2022.title", ("expected non-empty text",), id="empty-text"),
])
def test_wrong_type(text, reject, after, old, new, path, mentions):
    """A value of the wrong type says what type is expected."""
    bad, line = replace(text, old, new, after=after)
    check(reject(bad), line=line, path=path, mentions=mentions)


@pytest.mark.parametrize("after, old, new, path, allowed", [
    (UNDERGROUND, "basis: persons", "basis: widgets", f"{SUB}.basis",
     ("persons", "contract_value", "vehicles", "vessels", "capacity_tonnes", "payroll", "revenue")),
    (None, "status: illustrative", "status: approved", "status",
     ("final", "draft", "illustrative")),
    (None, "currency: CNY", "currency: USD", "currency", ("CNY",)),
    ("\n    accidents:\n", "rule: highest", "rule: max", "floating.groups.accidents.rule",
     ("product", "additive", "highest", "lowest")),
    ("\n  contract_value:\n", "closed: right", "closed: both", "tiers.contract_value.closed",
     ("left", "right")),
    (UNDERGROUND, "minimum_premium: 3000", "minimum_premium: 3000\n        term: yearly",
     f"{SUB}.term", ("annual", "project")),
])
def test_literal_not_allowed(text, reject, after, old, new, path, allowed):
    """A value outside a fixed set is named and the allowed values listed."""
    bad, _ = replace(text, old, new, after=after)
    value = new.rsplit(": ", 1)[-1]
    check(reject(bad), line=line_of(bad, new.rsplit("\n", 1)[-1].strip(), after=after),
          path=path, mentions=(f"{value!r} is not allowed; use one of:",) + allowed)


# --------------------------------------------------------------------------------------------
# numbers out of range


SCALE_MICRO = "tiers.scale.levels.micro.factor"


@pytest.mark.parametrize("after, old, new, path, mentions", [
    pytest.param(SCALE_TIER, "factor: 1.15}", "factor: .inf}", SCALE_MICRO,
                 ("inf is not finite",), id="inf-factor"),
    pytest.param(SCALE_TIER, "factor: 1.15}", "factor: -.inf}", SCALE_MICRO,
                 ("-inf is not finite",), id="minus-inf-factor"),
    pytest.param(SCALE_TIER, "factor: 1.15}", "factor: .nan}", SCALE_MICRO,
                 ("nan is not finite",), id="nan-factor"),
    pytest.param(SCALE_TIER, "factor: 1.15}", "factor: 0}", SCALE_MICRO,
                 ("0 is out of range", "> 0"), id="zero-factor"),
    pytest.param(SCALE_TIER, "factor: 1.15}", "factor: -1.15}", SCALE_MICRO,
                 ("-1.15 is out of range", "> 0"), id="negative-factor"),
    pytest.param(None, "factor: 1.1\n", "factor: 0\n", "loadings.occupational_disease.factor",
                 ("0 is out of range", "> 0"), id="zero-loading"),
    pytest.param(UNDERGROUND, "base_rate: 900", "base_rate: 0", f"{SUB}.base_rate",
                 ("0 is out of range", "> 0"), id="zero-base-rate"),
    pytest.param(UNDERGROUND, "minimum_premium: 3000", "minimum_premium: -1",
                 f"{SUB}.minimum_premium", ("-1 is out of range", ">= 0"),
                 id="negative-minimum-premium"),
    pytest.param(None, "prevention_share_min: 0.2", "prevention_share_min: 1.2",
                 "expenses.prevention_share_min", ("1.2 is out of range", "between 0 and 1"),
                 id="share-above-1"),
    pytest.param(None, "prevention_share_min: 0.2", "prevention_share_min: -0.1",
                 "expenses.prevention_share_min", ("-0.1 is out of range", "between 0 and 1"),
                 id="share-below-0"),
    pytest.param(FLEET_TIER, "{lower: 0,", "{lower: -5,", "tiers.fleet_size.bands[0].lower",
                 ("-5 is out of range", ">= 0"), id="negative-band-lower"),
    pytest.param(None, "max_months: 12", "max_months: 0", "term.max_months",
                 ("0 is out of range", "> 0"), id="zero-months"),
])
def test_number_out_of_range(text, reject, after, old, new, path, mentions):
    """Non-finite, zero, negative or too-large numbers name the valid range."""
    bad, line = replace(text, old, new, after=after)
    check(reject(bad), line=line, path=path, mentions=mentions)


# --------------------------------------------------------------------------------------------
# bands


FLEET_BANDS = "tiers.fleet_size.bands"


@pytest.mark.parametrize("old, new, index, path, mentions", [
    pytest.param("{lower: 10, upper: 50,", "{lower: 8, upper: 50,", 1, "[1].lower",
                 ("overlaps the band before it", "lower 8 < previous upper 10"), id="overlap"),
    pytest.param("{lower: 10, upper: 50,", "{lower: 12, upper: 50,", 1, "[1].lower",
                 ("gap after the band before it", "lower 12 > previous upper 10",
                  "contiguous"), id="gap"),
    pytest.param("{lower: 10, upper: 50,", "{lower: 10, upper: 10,", 1, "[1].upper",
                 ("upper 10 must be greater than lower 10",), id="upper-equals-lower"),
    pytest.param("{lower: 10, upper: 50,", "{lower: 10, upper: 5,", 1, "[1].upper",
                 ("upper 5 must be greater than lower 10",), id="upper-below-lower"),
    pytest.param("{lower: 10, upper: 50,", "{lower: 10,", 1, "[1].upper",
                 ("only the last band may leave 'upper' open",), id="open-not-last"),
])
def test_bad_bands(text, reject, old, new, index, path, mentions):
    """Bands must be contiguous and increasing, open only at the end."""
    bad, _ = replace(text, old, new, after=FLEET_TIER)
    line = line_of(bad, "- " + new, after=FLEET_TIER)
    check(reject(bad), line=line, path=FLEET_BANDS + path, mentions=mentions)


@pytest.mark.parametrize("keys, marker", [
    (("tiers", "fleet_size"), "\n  fleet_size:\n"),
    (("limit_factors",), "\nlimit_factors:\n"),
])
def test_empty_bands(data, keys, marker):
    """An empty band list is refused at its 'bands' key."""
    obj = data
    for key in keys:
        obj = obj[key]
    obj["bands"] = []
    bad = dump(data)
    check(reject_text(bad), line=line_of(bad, "bands: []", after=marker),
          path=".".join(keys) + ".bands", mentions=("at least one band is required",))


def test_empty_levels(data):
    """An empty level mapping is refused at its 'levels' key."""
    data["tiers"]["product"]["levels"] = {}
    bad = dump(data)
    check(reject_text(bad), line=line_of(bad, "levels: {}", after="\n  product:\n"),
          path="tiers.product.levels", mentions=("at least one level is required",))


# --------------------------------------------------------------------------------------------
# inverted bounds


def test_floor_above_cap(text, reject):
    """A floating floor above the cap is reported at the floor."""
    bad, line = replace(text, "floor: 0.7", "floor: 1.4")
    check(reject(bad), line=line, path="floating.floor", mentions=("floor 1.4 is above cap 1.3",))


@pytest.mark.parametrize("old, new", [("floor: 0.7", "floor: 1.1"), ("cap: 1.3", "cap: 0.9")])
def test_bounds_exclude_one(text, reject, old, new):
    """Floating bounds that leave out 1 are refused."""
    bad, _ = replace(text, old, new)
    check(reject(bad), line=line_of(bad, "\nfloating:\n") + 1, path="floating",
          mentions=("must include 1",))


def test_effective_to_before_effective_from(text, reject):
    """An edition cannot end before it starts."""
    bad, _ = replace(text, "status: illustrative\n",
                     "effective_to: 2021-12-31\nstatus: illustrative\n")
    check(reject(bad), line=line_of(bad, "effective_to:"), path="effective_to",
          mentions=("2021-12-31 is before effective_from 2022-05-31",))


# --------------------------------------------------------------------------------------------
# references and table structure


@pytest.mark.parametrize("after, old, new, path, mentions", [
    pytest.param(SCALE_TIER, "hazardous_chemicals, fireworks,", "hazardous_chemicals, firework,",
                 "tiers.scale.sectors[2]",
                 ("unknown sector 'firework'", "use one of:", "fireworks", "non_coal_mines",
                  "other"), id="tier-sector"),
    pytest.param("\n  third_party_higher_limit:\n", "factor: 1.08\n",
                 "factor: 1.08\n    sectors: [construction, mining]\n",
                 "loadings.third_party_higher_limit.sectors[1]",
                 ("unknown sector 'mining'", "non_coal_mines"), id="loading-sector"),
    pytest.param("\n  enterprise_type:\n", "default: general", "default: generic",
                 "tiers.enterprise_type.default",
                 ("'generic' is not a level", "general", "major_hazard_installation"),
                 id="default-level"),
    pytest.param(None, "source: xm2022", "source: xm2023", "expenses.source",
                 ("unknown source 'xm2023'", "sources", "xm2022"), id="source"),
    pytest.param(SCALE_TIER, "variable: scale", "variable: size", "tiers.scale.variable",
                 ("a table cannot key on 'size'",), id="unknown-variable"),
])
def test_dangling_reference(text, reject, after, old, new, path, mentions):
    """A name that refers to nothing is reported with the names that exist."""
    bad, _ = replace(text, old, new, after=after)
    line = line_of(bad, new.strip().rsplit("\n", 1)[-1].strip(), after=after)
    check(reject(bad), line=line, path=path, mentions=mentions)


@pytest.mark.parametrize("after, variable, key, mentions", [
    (SCALE_TIER, ("scale", "headcount"), "levels", ("'headcount' is numeric", "use 'bands'")),
    (FLEET_TIER, ("vehicles", "scale"), "bands", ("'scale' is categorical", "use 'levels'")),
])
def test_table_kind_mismatch(text, reject, after, variable, key, mentions):
    """levels on a numeric variable and bands on a categorical one are refused."""
    bad, _ = replace(text, f"variable: {variable[0]}", f"variable: {variable[1]}", after=after)
    name = after.strip().rstrip(":")
    check(reject(bad), line=line_of(bad, f"    {key}:", after=after), path=f"tiers.{name}.{key}",
          mentions=mentions)


@pytest.mark.parametrize("change", ["both", "neither"])
def test_levels_xor_bands(data, change):
    """A factor table has exactly one of 'levels' and 'bands'."""
    table = data["tiers"]["scale"]
    if change == "both":
        table["bands"] = [{"lower": 0, "factor": 1.0}]
    else:
        del table["levels"]
    bad = dump(data)
    check(reject_text(bad), line=line_of(bad, "\n  scale:\n") + 1, path="tiers.scale",
          mentions=("give either 'levels' (categorical) or 'bands' (numeric)",))


@pytest.mark.parametrize("after, levels, path, mentions", [
    ("\n        blacklist:\n", ('"false":', '"no":'), "floating.groups.credit.factors.blacklist",
     ("true/false", "'true' and 'false'")),
    ("\n        accident_grade:\n", ("especially_major:", "catastrophic:"),
     "floating.groups.accidents.factors.accident_grade",
     ("needs exactly the levels", "none, general, larger, major, especially_major")),
])
def test_required_level_set(text, reject, after, levels, path, mentions):
    """Flag tables need levels true/false; the accident-grade table needs every grade."""
    bad, _ = replace(text, *levels, after=after)
    check(reject(bad), line=line_of(bad, "levels:", after=after), path=path + ".levels",
          mentions=mentions)


def test_two_tables_for_one_variable_and_sector(text, reject):
    """Two tiers keyed on production_mode for the same sector are refused."""
    bad, _ = replace(text, "sectors: [fishery]", "sectors: [non_coal_mines]")
    check(reject(bad), line=line_of(bad, "\n  production_mode_fishery:\n") + 1,
          path="tiers.production_mode_fishery",
          mentions=("variable 'production_mode' already has a table for sector 'non_coal_mines'",
                    "tiers.production_mode_mines", "one table per variable and sector"))


def test_unscoped_table_clashes_with_tier(data):
    """A floating table with no 'sectors' clashes with a tier on the same variable."""
    data["floating"]["groups"]["management"]["factors"]["size"] = {
        "label": {"zh": "规模", "en": "size"}, "variable": "scale", "illustrative": True,
        "levels": {"small": {"label": {"zh": "小", "en": "small"}, "factor": 1.0}}}
    bad = dump(data)
    check(reject_text(bad), line=line_of(bad, "\n        size:\n") + 1,
          path="floating.groups.management.factors.size",
          mentions=("variable 'scale' already has a table for sector 'non_coal_mines'",
                    "tiers.scale"))


# --------------------------------------------------------------------------------------------
# provenance


def test_provenance_neither(text, reject):
    """An object with neither 'source' nor 'illustrative: true' is refused."""
    bad, _ = replace(text, "        illustrative: true\n", "", after=UNDERGROUND)
    check(reject(bad), line=line_of(bad, UNDERGROUND), path=SUB,
          mentions=("give either 'source'", "'illustrative: true'", "not neither"))


@pytest.mark.parametrize("after, old, new, path", [
    (UNDERGROUND, "illustrative: true\n", "illustrative: true\n        source: xm2022\n", SUB),
    (None, "article: 二(七)", "article: 二(七)\n  illustrative: true", "expenses"),
])
def test_provenance_both(text, reject, after, old, new, path):
    """An object with both 'source' and 'illustrative: true' is refused."""
    bad, _ = replace(text, old, new, after=after)
    key = after or "\nexpenses:\n"
    check(reject(bad), line=line_of(bad, key.strip("\n")), path=path,
          mentions=("give either 'source'", "not both"))


def test_article_without_source(text, reject):
    """'article' cites a source, so it needs one."""
    bad, line = replace(text, "round_up_to: 10000\n", "round_up_to: 10000\n  article: 二(三)\n")
    check(reject(bad), line=line + 1, path="limits.article",
          mentions=("'article' needs a 'source'",))


# --------------------------------------------------------------------------------------------
# monotonicity


@pytest.mark.parametrize("table, after, old, new, variable", [
    ("deaths", "\n        deaths:\n", "{lower: 3, upper: 10, factor: 1.2}",
     "{lower: 3, upper: 10, factor: 1.05}", "deaths"),
    ("accident_grade", "\n        accident_grade:\n", "factor: 1.2}", "factor: 1.05}",
     "worst_accident_grade"),
    ("unrectified", "\n        unrectified:\n", "{lower: 2, factor: 1.3}",
     "{lower: 2, factor: 1.1}", "major_hazards_unrectified"),
])
def test_adverse_factor_decreasing(text, reject, table, after, old, new, variable):
    """A worse record must never lower the factor."""
    bad, _ = replace(text, old, new, after=after)
    group = "hazards" if table == "unrectified" else "accidents"
    check(reject(bad), line=line_of(bad, after.strip("\n")),
          path=f"floating.groups.{group}.factors.{table}",
          mentions=(f"factors for {variable!r} must not decrease as the record worsens",))


def test_limit_factors_decreasing(text, reject):
    """Limit factors must not fall as the limit rises."""
    bad, line = replace(text, "{lower: 600000, upper: 800000, factor: 1.08}",
                        "{lower: 600000, upper: 800000, factor: 0.9}")
    check(reject(bad), line=line, path="limit_factors.bands[3].factor",
          mentions=("must not decrease as the limit rises",))


# --------------------------------------------------------------------------------------------
# term


@pytest.mark.parametrize("scale, mentions", [
    pytest.param("[0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 1.0]",
                 ("needs 12 entries", "got 11"), id="too-few"),
    pytest.param("[0.1, 0.2, 0.3, 0.5, 0.4, 0.6, 0.7, 0.8, 0.85, 0.9, 0.95, 1.0]",
                 ("must not decrease",), id="decreasing"),
    pytest.param("[0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.85, 0.9, 0.95, 0.99]",
                 ("must end at 1",), id="not-ending-at-1"),
    pytest.param("[0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.85, 0.9, 0.95, 1.1]",
                 ("must end at 1",), id="ending-above-1"),
])
def test_short_term_scale(text, reject, scale, mentions):
    """The short-term scale has one entry per month, rises and ends at 1."""
    bad, line = replace(text, "short_term_scale: [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.85, "
                              "0.9, 0.95, 1.0]", f"short_term_scale: {scale}")
    check(reject(bad), line=line, path="term.short_term_scale", mentions=mentions)


# --------------------------------------------------------------------------------------------
# book-level rules


@pytest.mark.parametrize("code", ["Xiamen", "cn-fj-xm", "CN-FJ-XIAMEN", "CN-FJ-"])
def test_bad_jurisdiction(text, reject, code):
    """A jurisdiction must be CN, CN-XX or CN-XX-YY."""
    bad, line = replace(text, "jurisdiction: CN-FJ-XM", f"jurisdiction: {code}")
    check(reject(bad), line=line, path="jurisdiction",
          mentions=(f"{code!r} is not a jurisdiction code", "CN-FJ-XM"))


def test_sector_without_subsectors(data):
    """A sector needs at least one sub-sector."""
    data["sectors"]["other"]["subsectors"] = {}
    bad = dump(data)
    check(reject_text(bad), line=line_of(bad, "subsectors: {}", after="\n  other:\n"),
          path="sectors.other.subsectors", mentions=("at least one sub-sector is required",))


def test_no_sectors(data):
    """A book needs at least one sector."""
    data["sectors"] = {}
    del data["tiers"]  # tiers name sectors; without them the empty sectors rule is reached
    for group in data["floating"]["groups"].values():
        for table in group["factors"].values():
            table.pop("sectors", None)
    bad = dump(data)
    check(reject_text(bad), line=line_of(bad, "sectors: {}"), path="sectors",
          mentions=("at least one sector is required",))


def test_project_term_on_persons_basis(text, reject):
    """A project term needs a money basis."""
    bad, _ = replace(text, "minimum_premium: 3000\n",
                     "minimum_premium: 3000\n        term: project\n", after=UNDERGROUND)
    check(reject(bad), line=line_of(bad, "term: project", after=UNDERGROUND), path=f"{SUB}.term",
          mentions=("a project term needs a money basis", "contract_value"))


# --------------------------------------------------------------------------------------------
# checks added after review: empty groups and sector lists, fields no table may key on,
# national-rules references and shares


def test_floating_needs_a_group(text, reject):
    """An empty 'groups' mapping is refused at its line."""
    start = locate(text, "  groups:\n", after="\nfloating:\n")
    end = text.index("\nlimit_factors:")
    bad = text[:start] + "  groups: {}\n" + text[end:]
    check(reject(bad), line=text.count("\n", 0, start) + 1, path="floating.groups",
          mentions=("at least one group",))


@pytest.mark.parametrize("old, new, path", [
    ("sectors: [non_coal_mines, hazardous_chemicals, fireworks, civil_explosives, "
     "metal_smelting, other]", "sectors: []", "tiers.scale.sectors"),
])
def test_empty_sector_list(text, reject, old, new, path):
    """``sectors: []`` would silently apply a table nowhere: refused."""
    bad, line = replace(text, old, new, after=SCALE_TIER)
    check(reject(bad), line=line, path=path, mentions=("at least one sector",))


@pytest.mark.parametrize("variable", ["subsector", "per_person_limit", "inception_date", "id"])
def test_table_cannot_key_on_selection_fields(text, reject, variable):
    bad, line = replace(text, "variable: scale", f"variable: {variable}", after=SCALE_TIER)
    check(reject(bad), line=line, path="tiers.scale.variable",
          mentions=(f"a table cannot key on {variable!r}",))


def _national_text() -> str:
    return (BOOK.parents[1] / "national.yaml").read_text(encoding="utf-8")


def test_national_commission_cap_must_be_a_share(tmp_path):
    text = _national_text()
    bad, line = replace(text, "value: 0.05", "value: 5")
    path = tmp_path / "national.yaml"
    path.write_text(bad, encoding="utf-8")
    with pytest.raises(BookError) as info:
        rating.book.load_any(path)
    check(info.value, line=line, path="commission_cap[0].value", mentions=("share",))


def test_national_work_injury_source_must_exist(tmp_path):
    text = _national_text()
    bad, line = replace(text, "  source: gsbx\n", "  source: gsbx9\n")
    path = tmp_path / "national.yaml"
    path.write_text(bad, encoding="utf-8")
    with pytest.raises(BookError) as info:
        rating.book.load_any(path)
    check(info.value, line=line, path="work_injury.source", mentions=("unknown source 'gsbx9'",))


# --------------------------------------------------------------------------------------------
# documents that expand without end


def test_self_referencing_alias_is_refused():
    with pytest.raises(BookError, match="an alias refers to a value that contains it"):
        load_book_text("id: &x [*x]\n", "loop.yaml")


def test_alias_bomb_is_refused_quickly():
    """Eight levels of ten aliases each would expand to 10^8 values."""
    text = "a: &a [1, 1, 1, 1, 1, 1, 1, 1, 1, 1]\n" + "".join(
        f"{c}: &{c} [{', '.join(['*' + p] * 10)}]\n" for p, c in zip("abcdefg", "bcdefgh"))
    with pytest.raises(BookError, match="expands to more than"):
        load_book_text(text, "bomb.yaml")


def test_level_keys_must_be_matchable(text, reject):
    bad, line = replace(text, "      micro: {label", "      micro small: {label", after=SCALE_TIER)
    check(reject(bad), line=line, path="tiers.scale.levels.micro small",
          mentions=("cannot be matched",))


def test_clean_record_bands_start_at_zero(text, reject):
    """A profile without claim_free_years counts 0, which must fall in a band."""
    anchor = "          variable: claim_free_years\n"
    bad, line = replace(text, "            - {lower: 0, upper: 1, factor: 1.0}\n"
                        "            - {lower: 1, upper: 2, factor: 0.95}",
                        "            - {lower: 0.5, upper: 2, factor: 0.95}", after=anchor)
    check(reject(bad), line=line, path=(
        "floating.groups.claims.factors.claim_free.bands[0].lower"), mentions=("start at 0",))


def test_schedule_amounts_checked_against_each_other(text, reject):
    bad, line = replace(text, "rescue: {amount: 200000}", "rescue: {ratio: 20}")
    check(reject(bad), line=line, path="limits.schedule.rescue.ratio",
          mentions=("would exceed per_accident",))


def test_claim_free_ladder_must_not_rise():
    """More claim-free years never cost more: a ladder 1.00 / 0.95 / 1.02 is refused."""
    import copy
    import datetime as dt

    from rating.book import find_book, load_book
    from rating.book.schema import as_data

    doc = as_data(find_book("CN-FJ-XM", dt.date(2024, 1, 1)))
    doc = copy.deepcopy(doc)
    bands = doc["floating"]["groups"]["claims"]["factors"]["claim_free"]["bands"]
    bands[2]["factor"] = bands[0]["factor"] + 0.02
    with pytest.raises(BookError, match="must not increase as the record improves"):
        load_book(doc)
