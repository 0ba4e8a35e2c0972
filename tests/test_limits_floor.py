"""The per-person floor: max(national floor, multiple × prior-year income, fixed), rounded up."""

import copy
import datetime as dt

import pytest
import yaml

import rating
from rating.book import tables_dir

D = dt.date


@pytest.fixture(scope="module")
def xm():
    return rating.books()[0]


@pytest.fixture(scope="module")
def raw():
    return yaml.safe_load((tables_dir() / "books" / "cn-fj-xm-2022.yaml").read_text("utf-8"))


def _variant(raw, **limits):
    doc = copy.deepcopy(raw)
    kept = {k: doc["limits"][k] for k in ("injury_scale", "schedule")}
    doc["limits"] = {**kept, **limits, "illustrative": True}
    return rating.load_book(doc)


def test_prior_year_income_used(xm):
    """2024 policy: Xiamen 2023 income 72,880 × 10 = 728,800 -> rounded up 730,000; not
    provisional; the income component binds over the national 300,000."""
    f = rating.per_person_floor(xm, D(2024, 7, 1))
    assert (f.amount, f.binding, f.income_year, f.provisional) == (730000, "income", 2023, False)
    assert {c.name: c.amount for c in f.components} == {"national": 300000, "income": 728800}


def test_missing_prior_year_is_provisional(xm):
    """2022 policy: 2021 income is not in the statistics; the latest earlier year, 2018
    (54,401), is used: 544,010 -> 550,000, flagged provisional with the year used."""
    f = rating.per_person_floor(xm, D(2022, 7, 1))
    assert (f.amount, f.income_year, f.provisional) == (550000, 2018, True)
    assert "provisional" in next(c.basis for c in f.components if c.name == "income")


def test_national_floor_by_date(raw):
    """A book with no local rule gets the national floor: 300,000 on 2025-03-28,
    400,000 from 2025-03-29 (应急〔2025〕27号 第十五条)."""
    book = _variant(raw, round_up_to=1)
    assert rating.per_person_floor(book, D(2025, 3, 28)).amount == 300000
    f = rating.per_person_floor(book, D(2025, 3, 29))
    assert (f.amount, f.binding, f.income_year) == (400000, "national", None)


def test_fixed_local_floor_wins_when_highest(raw):
    book = _variant(raw, fixed_floor=800000, round_up_to=10000)
    f = rating.per_person_floor(book, D(2025, 6, 1))
    assert (f.amount, f.binding) == (800000, "fixed")


def test_quote_defaults_to_floor_and_rejects_lower_limit(xm):
    profile = {"jurisdiction": "CN-FJ-XM", "sector": "other", "headcount": 10,
               "scale": "large", "inception_date": "2024-01-01"}
    assert rating.quote(profile).per_person_limit == 730000
    with pytest.raises(rating.ProfileError, match="730,000") as err:
        rating.quote(dict(profile, per_person_limit=729999))
    assert err.value.field == "per_person_limit"


def test_quote_schedule_defaults_and_overrides(xm):
    """2024 floor 730,000: medical 10% = 73,000; third party per person 730,000; per accident
    10 × = 7,300,000; aggregate 30 × = 21,900,000; property 100,000, rescue 200,000,
    medical aid 100,000, appraisal 50,000, legal 100,000 (book amounts)."""
    profile = {"jurisdiction": "CN-FJ-XM", "sector": "other", "headcount": 10,
               "scale": "large", "inception_date": "2024-01-01"}
    s = rating.quote(profile).schedule
    assert s.as_dict() == {
        "per_person": 730000, "medical_per_person": 73000, "third_party_per_person": 730000,
        "third_party_property": 100000, "rescue": 200000, "medical_aid": 100000,
        "appraisal": 50000, "legal": 100000, "per_accident": 7300000, "aggregate": 21900000}
    s = rating.quote(dict(profile, per_person_limit=1000000, limit_per_accident=3000000,
                          limit_legal=150000)).schedule
    assert (s.medical_per_person, s.per_accident, s.legal, s.aggregate) == (
        100000, 3000000, 150000, 30000000)


@pytest.mark.parametrize("override, field", [
    ({"limit_medical_per_person": 730001}, "limit_medical_per_person"),
    ({"limit_per_accident": 700000}, "per_person_limit"),
    ({"limit_aggregate": 7000000}, "limit_per_accident"),
    ({"limit_rescue": 8000000}, "limit_rescue"),
])
def test_schedule_bounds(override, field):
    profile = {"jurisdiction": "CN-FJ-XM", "sector": "other", "headcount": 10,
               "scale": "large", "inception_date": "2024-01-01", **override}
    with pytest.raises(rating.ProfileError, match="exceeds the") as err:
        rating.quote(profile)
    assert err.value.field == field


def test_shipped_scales():
    from rating.book import injury_scales
    scales = injury_scales()
    assert scales["employers_liability"].ratios == (1.0, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3, 0.2,
                                                     0.1, 0.05)
    assert scales["tort_coefficient"].ratios == (1.0, 0.9, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3, 0.2,
                                                  0.1)


@pytest.mark.parametrize("ratios, needle", [
    ("[1.0, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3, 0.2, 0.1]", "needs 10 ratios"),
    ("[1.0, 0.8, 0.9, 0.6, 0.5, 0.4, 0.3, 0.2, 0.1, 0.05]", "must not increase"),
    ("[1.2, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3, 0.2, 0.1, 0.05]", "ratio in (0, 1]"),
    ("[1.0, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3, 0.2, 0.1, 0]", "ratio in (0, 1]"),
])
def test_scale_validation(tmp_path, ratios, needle):
    text = (tables_dir() / "scales" / "employers-liability.yaml").read_text("utf-8")
    text = text.replace("ratios: [1.0, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3, 0.2, 0.1, 0.05]",
                        f"ratios: {ratios}")
    path = tmp_path / "scale.yaml"
    path.write_text(text, encoding="utf-8")
    line = text.splitlines().index(f"ratios: {ratios}") + 1
    with pytest.raises(rating.BookError) as err:
        rating.book.load_any(path)
    assert needle in err.value.reason and err.value.line == line
