"""Profiles: every bad value gets a ProfileError naming the field; good values of every shape
(CSV text, Python objects, dates with time zones) are read as a person means them."""

import copy
import datetime as dt
import io
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
import pytest
import yaml

import rating
from rating.book import tables_dir
from rating.engine.premium import rate_frame

BASE = {"jurisdiction": "CN-FJ-XM", "sector": "other", "headcount": 3, "scale": "micro",
        "inception_date": "2024-07-01"}


@pytest.mark.parametrize("field, value, needle", [
    ("sector", ["hazardous_chemicals"], "expected a single value"),
    ("scale", {"a": 1}, "expected a single value"),
    ("headcount", 1 + 2j, "expected a single value"),
    ("commission_rate", float("nan"), "finite"),
    ("per_person_limit", float("inf"), "finite"),
    ("per_person_limit", {"employee": 800000, "dispatched": 730000}, "one amount for every"),
    ("headcount", 10**13, "at most 1e+12"),
    ("headcount", True, "expected a number"),
    ("loss_ratio", "garbage", "not a number"),
    ("blacklisted", "maybe", "not true or false"),
    ("scale", "gigantic", "'gigantic' is not a level of table tiers.scale"),
    ("extensions", [1, 2], "list of extension keys"),
])
def test_bad_values_name_the_field(field, value, needle):
    with pytest.raises(rating.ProfileError) as err:
        rating.quote(dict(BASE, **{field: value}))
    assert err.value.field == field and needle in err.value.reason


def test_split_never_exceeds_premium():
    """3 persons × 150 × 1.08 × micro 1.15 = 558.90; fund 25% = 139.725 -> 139.73 and
    commission 75% = 419.175 -> 419.18 would add up to 558.91: the commission gives way,
    419.17, and the net is 0.00 (2024: no national commission cap yet)."""
    q = rating.quote(dict(BASE, prevention_share=0.25, commission_rate=0.75))
    assert q.premium == 558.90
    assert (q.split.prevention_fund, q.split.commission, q.split.net) == (139.73, 419.17, 0.0)


def test_timezone_aware_dates_keep_their_calendar_day():
    """2025-03-29 00:00 in Shanghai is 2025-03-28 in UTC; the policy date is the 29th, so the
    5% commission cap of 应急〔2025〕27号 applies."""
    when = dt.datetime(2025, 3, 29, tzinfo=ZoneInfo("Asia/Shanghai"))
    with pytest.raises(rating.ProfileError, match="commission cap of 0.05"):
        rating.quote(dict(BASE, inception_date=when, commission_rate=0.3))
    frame = pd.DataFrame([dict(BASE, commission_rate=0.3)])
    frame["inception_date"] = pd.Series([when])
    with pytest.raises(rating.ProfileError, match="commission cap"):
        rate_frame(frame, rating.books()[0])


def test_csv_flag_column_with_blank_cell():
    """read_csv turns a 0/1 column with a blank into floats 1.0, 0.0, NaN: read as true,
    false, and missing (the table's default, false). other/general, 10 persons, large:
    10 × 150 × 1.08 × 0.90 = 1,458.00; blacklisted × 1.2 = 1,749.60."""
    csv = ("jurisdiction,sector,headcount,scale,inception_date,blacklisted\n"
           "CN-FJ-XM,other,10,large,2024-01-01,1\n"
           "CN-FJ-XM,other,10,large,2024-01-01,0\n"
           "CN-FJ-XM,other,10,large,2024-01-01,\n")
    rated = rate_frame(pd.read_csv(io.StringIO(csv)), rating.books()[0])
    assert list(rated.premium_fen) == [174960, 145800, 145800]


def test_jurisdiction_must_match_whole_segments():
    book = rating.books()[0]
    with pytest.raises(rating.ProfileError, match="outside the rate book's jurisdiction"):
        rating.quote(dict(BASE, jurisdiction="CN-FJ-XMX"), book=book)
    assert rating.quote(dict(BASE, jurisdiction="CN-FJ-XM-SM"), book=book).premium == 558.90


def test_date_strings_and_book_paths_are_accepted():
    path = tables_dir() / "books" / "cn-fj-xm-2022.yaml"
    q = rating.quote(BASE, book=str(path), date="2024-07-01")
    assert q.premium == 558.90
    with pytest.raises(rating.ProfileError, match="not a date"):
        rating.quote(BASE, date="20240701")


def test_worksheet_floating_factor_is_the_exact_decimal():
    """grade 'general' 1.10 × grade_2 0.92 = 1.012 exactly (float gives 1.0120000000000002)."""
    q = rating.quote(dict(BASE, accidents_general=1, standardisation_grade="grade_2"))
    assert q.worksheet.set_index("step").loc["floating", "factor"] == 1.012


def test_highest_group_ignores_tables_that_do_not_apply():
    """Book variant: claims group rule 'highest' holding claim_free (all sectors) and a
    construction-only honour table. For sector other with 3 claim-free years the group is
    0.90, not max(0.90, 1.00): 100 × 150 × 1.08 × medium 1.00 × 0.90 = 14,580.00."""
    doc = yaml.safe_load((tables_dir() / "books" / "cn-fj-xm-2022.yaml").read_text("utf-8"))
    groups = doc["floating"]["groups"]
    honour = groups["management"]["factors"].pop("honour")
    groups["claims"]["rule"] = "highest"
    groups["claims"]["factors"]["honour"] = dict(honour, sectors=["construction"])
    book = rating.load_book(copy.deepcopy(doc))
    q = rating.quote(dict(BASE, headcount=100, scale="medium", claim_free_years=3), book=book)
    assert q.premium == 14580.00


def test_premium_overflow_is_refused():
    with pytest.raises(rating.ProfileError, match="at most"):
        rating.quote(dict(BASE, sector="construction", subsector="building",
                          contract_value=1e300))


def test_numeric_level_keys_match_numbers():
    """A level keyed "1" matches the number 1 from a CSV column."""
    levels = pd.Series([1, 2, np.nan])
    from rating.engine.columns import Problems, categories
    problems = Problems(levels.index)
    assert list(categories(levels, "x", ["1", "2"], problems, n=3)) == [0, 1, -1]
    assert not problems.items
