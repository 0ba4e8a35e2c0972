"""Renewals: next year's profile from the year's events, and its quote, hand-worked.

Every expected premium is worked from the shipped Xiamen book's printed (illustrative)
factors:

- ``other`` sector: one sub-sector, 150 yuan per person; scale micro 1.15, small 1.05,
  medium 1.00, large 0.90.
- ``hazardous_chemicals`` / ``production``: 600 yuan per person; product toxic 1.10;
  enterprise type default general 1.00.
- Per-person limit: the statutory floor, 730,000 for 2024 and 2025 inceptions (10 × Xiamen
  2023 income 72,880, rounded up to 10,000), in the 600,000-800,000 band: limit factor 1.08.
- Floating groups (product of groups, bounded to [0.70, 1.30]): accidents = highest of worst
  grade (none 1.00, general 1.10, larger 1.20, major 1.30) and deaths band ([0,1) 1.00,
  [1,3) 1.10, [3,10) 1.20, 10+ 1.30); hazards: unrectified major hazards [0,1) 1.00, [1,2)
  1.15, 2+ 1.30; management = lowest of standardisation (none 1.00, grade_3 0.97, grade_2
  0.92, grade_1 0.90) and honour (none 1.00, city 0.95, provincial 0.90); claim-free years
  [0,1) 1.00, [1,2) 0.95, [2,3) 0.92, 3+ 0.90; blacklisted 1.20.
"""

import datetime as dt

import pandas as pd
import pytest

from rating import ProfileError
from rating.renewal import EventError, next_profiles, renew, renew_portfolio

OTHER = {"jurisdiction": "CN-FJ-XM", "sector": "other", "inception_date": "2024-03-01"}
CHEM = {"jurisdiction": "CN-FJ-XM", "sector": "hazardous_chemicals",
        "subsector": "production", "product": "toxic", "inception_date": "2024-03-01"}

LARGER_ACCIDENT = {"date": "2024-05-10", "kind": "accident", "grade": "larger", "deaths": 2}
OPEN_HAZARD = {"date": "2024-08-01", "kind": "hazard", "major": True, "rectified": False}


def _factors(worksheet: pd.DataFrame) -> dict[str, tuple[float, float]]:
    return {t: (b, a) for t, b, a in
            worksheet[["table", "factor_before", "factor_after"]].itertuples(index=False)}


# --- one enterprise, hand-worked ----------------------------------------------------------


def test_larger_accident_and_open_hazard_raise_the_rate():
    """20 persons, small, toxic, standardisation grade_2, 1 claim-free year.

    Before the floating factor: 20 × 600 = 12,000 × 1.08 = 12,960 × 1.05 = 13,608 × 1.10
    = 14,968.80.
    Last year: management 0.92 × claims 0.95 = 0.874 -> 14,968.80 × 0.874 = 13,082.7312
    -> 13,082.73.
    Renewal after one larger accident (2 deaths) and one major hazard left unrectified:
    accidents = highest(grade larger 1.20, deaths 2 in [1,3) 1.10) = 1.20; hazards 1 in
    [1,2) 1.15; management 0.92; claim-free years reset to 0: 1.00.
    1.20 × 1.15 × 0.92 = 1.2696 (inside the band) -> 14,968.80 × 1.2696 = 19,004.38848
    -> 19,004.39.
    """
    profile = {**CHEM, "id": "P1", "headcount": 20, "scale": "small",
               "standardisation_grade": "grade_2", "claim_free_years": 1}
    r = renew(profile, [LARGER_ACCIDENT, OPEN_HAZARD])
    assert r.previous.premium == 13082.73
    assert r.quote.premium == 19004.39
    assert r.quote.premium > r.previous.premium
    p = r.profile
    assert (p["accidents_larger"], p["accidents_general"], p["deaths"]) == (1, 0, 2)
    assert (p["major_hazards_unrectified"], p["claim_free_years"]) == (1, 0)
    assert p["inception_date"] == "2025-03-01"
    assert p["standardisation_grade"] == "grade_2"
    groups = r.quote.floating.drop_duplicates("group").set_index("group").group_factor
    assert groups.to_dict() == {"accidents": 1.2, "hazards": 1.15, "management": 0.92,
                                "claims": 1.0, "credit": 1.0}


def test_renewal_worksheet_shows_which_experience_moved_which_factor():
    """Same renewal: the worksheet lists the four tables whose factor moved (grade 1.00 ->
    1.20, deaths 1.00 -> 1.10, unrectified 1.00 -> 1.15, claim-free 0.95 -> 1.00), each with
    the event behind it; standardisation (0.92 both years) is not listed."""
    profile = {**CHEM, "id": "P1", "headcount": 20, "scale": "small",
               "standardisation_grade": "grade_2", "claim_free_years": 1}
    ws = renew(profile, [LARGER_ACCIDENT, OPEN_HAZARD]).worksheet
    assert _factors(ws) == {"accident_grade": (1.0, 1.2), "deaths": (1.0, 1.1),
                            "unrectified": (1.0, 1.15), "claim_free": (0.95, 1.0)}
    experience = ws.set_index("table").experience
    assert "accidents_larger 0 → 1" in experience["accident_grade"]
    assert "accident 2024-05-10: larger, 2 deaths" in experience["accident_grade"]
    assert "deaths 0 → 2" in experience["deaths"]
    assert "hazard 2024-08-01: major, not rectified" in experience["unrectified"]
    assert "claim_free_years 1 → 0: accident 2024-05-10" in experience["claim_free"]
    row = ws.set_index("table").loc["accident_grade"]
    assert (row.value_before, row.value_after) == ("none", "larger")
    assert (row.group_factor_before, row.group_factor_after) == (1.0, 1.2)


def test_changes_name_field_before_after_and_reason():
    profile = {**CHEM, "id": "P1", "headcount": 20, "scale": "small",
               "standardisation_grade": "grade_2", "claim_free_years": 1}
    ch = renew(profile, [LARGER_ACCIDENT, OPEN_HAZARD]).changes
    assert list(ch.columns) == ["policy", "field", "before", "after", "reason"]
    assert set(ch.policy) == {"P1"}
    got = {f: (b, a) for f, b, a in ch[["field", "before", "after"]].itertuples(index=False)}
    assert got == {"inception_date": ("2024-03-01", "2025-03-01"),
                   "accidents_larger": (0, 1), "deaths": (0, 2),
                   "major_hazards_unrectified": (0, 1), "claim_free_years": (1, 0)}
    reason = ch.set_index("field").reason
    assert reason["inception_date"] == "the day after expiry 2025-02-28"
    assert reason["major_hazards_unrectified"] == "hazard 2024-08-01: major, not rectified"


def test_float_cap_binds_after_a_bad_year():
    """``other``, 100 persons, medium: 100 × 150 = 15,000 × 1.08 × 1.00 = 16,200.
    Last year 1 claim-free year: × 0.95 = 15,390.00.
    After the larger accident and the open hazard: 1.20 × 1.15 = 1.38 > cap 1.30
    -> 16,200 × 1.30 = 21,060.00."""
    profile = {**OTHER, "headcount": 100, "scale": "medium", "claim_free_years": 1}
    r = renew(profile, [LARGER_ACCIDENT, OPEN_HAZARD])
    assert (r.previous.premium, r.quote.premium) == (15390.00, 21060.00)
    assert r.premium_change == pytest.approx(21060 / 15390)


def test_clean_year_counts_claim_free_years_up():
    """``other``, 100 persons, medium: 16,200 before floating (see above).
    Claim-free years 1 -> 2: 0.95 -> 0.92, so 15,390.00 -> 16,200 × 0.92 = 14,904.00."""
    profile = {**OTHER, "id": "C1", "headcount": 100, "scale": "medium",
               "claim_free_years": 1}
    for events in (None, []):
        r = renew(profile, events)
        assert (r.previous.premium, r.quote.premium) == (15390.00, 14904.00)
        assert r.profile["claim_free_years"] == 2
        assert _factors(r.worksheet) == {"claim_free": (0.95, 0.92)}
        assert "no claim and no accident" in r.worksheet.experience[0]


def test_claim_breaks_the_claim_free_run():
    """Any claim resets claim-free years: 3 (0.90) -> 0 (1.00):
    16,200 × 0.90 = 14,580.00 -> 16,200.00."""
    profile = {**OTHER, "headcount": 100, "scale": "medium", "claim_free_years": 3}
    r = renew(profile, [{"date": "2024-12-01", "kind": "claim", "amount": 8000}])
    assert (r.previous.premium, r.quote.premium) == (14580.00, 16200.00)
    assert r.profile["claim_free_years"] == 0
    assert r.changes.set_index("field").reason["claim_free_years"] == \
        "claim 2024-12-01: 8000.00 yuan paid"
    # 0.29 yuan is whole fen although 0.29 × 100 is not exactly 29 in float
    small = renew(profile, [{"date": "2024-12-01", "kind": "claim", "amount": 0.29, "id": "C-7"}])
    assert small.changes.set_index("field").reason["claim_free_years"] == \
        "claim 2024-12-01 (C-7): 0.29 yuan paid"


def test_rectified_major_hazard_does_not_raise_the_rate():
    """``other``, 40 persons, small, no claim-free years:
    40 × 150 = 6,000 × 1.08 = 6,480 × 1.05 = 6,804.00 (floating 1.00).
    A major hazard found and rectified, and a minor one left open, count for nothing: hazards
    stay 1.00; the year had no claim, so claim-free 0 -> 1 (0.95): 6,804 × 0.95 = 6,463.80.
    Had the major hazard been left open: 6,804 × 1.15 × 0.95 = 6,804 × 1.0925 = 7,433.37."""
    profile = {**OTHER, "headcount": 40, "scale": "small"}
    rectified = [{"date": "2024-04-01", "kind": "hazard", "major": True, "rectified": True},
                 {"date": "2024-06-01", "kind": "hazard", "major": False}]
    r = renew(profile, rectified)
    assert (r.previous.premium, r.quote.premium) == (6804.00, 6463.80)
    assert r.profile["major_hazards_unrectified"] == 0
    assert "unrectified" not in set(r.worksheet.table)
    left_open = [{**rectified[0], "rectified": False}, rectified[1]]
    assert renew(profile, left_open).quote.premium == 7433.37


def test_standardisation_upgrade_lowers_the_rate():
    """``other``, 100 persons, small, grade_3, 3 claim-free years:
    100 × 150 = 15,000 × 1.08 = 16,200 × 1.05 = 17,010.
    Last year 0.97 × 0.90 = 0.873 -> 14,849.73. Upgraded to grade_2 in the year:
    0.92 × 0.90 (4 claim-free years, still 3+) = 0.828 -> 14,084.28."""
    profile = {**OTHER, "headcount": 100, "scale": "small", "standardisation_grade": "grade_3",
               "claim_free_years": 3}
    r = renew(profile, [{"date": "2024-09-01", "kind": "standardisation", "grade": "grade_2"}])
    assert (r.previous.premium, r.quote.premium) == (14849.73, 14084.28)
    assert r.profile["standardisation_grade"] == "grade_2"
    assert _factors(r.worksheet) == {"standardisation": (0.97, 0.92)}
    assert "standardisation 2024-09-01: grade_2" in r.worksheet.experience[0]


def test_latest_event_wins_not_the_last_row():
    """grade_1 dated 2024-11-01 is listed before grade_2 dated 2024-06-01: grade_1 holds.
    17,010 × 0.90 × 0.90 = 17,010 × 0.81 = 13,778.10. A city honour (0.95) does not add to it:
    management is the lowest of its tables."""
    profile = {**OTHER, "headcount": 100, "scale": "small", "standardisation_grade": "grade_3",
               "claim_free_years": 3}
    events = [{"date": "2024-11-01", "kind": "standardisation", "grade": "grade_1"},
              {"date": "2024-06-01", "kind": "standardisation", "grade": "grade_2"},
              {"date": "2024-06-01", "kind": "honour", "level": "city"}]
    r = renew(profile, events)
    assert (r.profile["standardisation_grade"], r.profile["honour"]) == ("grade_1", "city")
    assert r.quote.premium == 13778.10


def test_blacklisting_loads_and_delisting_removes():
    """``other``, 100 persons, medium, 3 claim-free years: 16,200 × 0.90 = 14,580.00.
    Listed during the year: × 1.20 -> 16,200 × 1.08 = 17,496.00. Listed, then removed later
    in the year: back to 14,580.00."""
    profile = {**OTHER, "headcount": 100, "scale": "medium", "claim_free_years": 3}
    listed = {"date": "2024-05-01", "kind": "blacklist", "status": True}
    assert renew(profile, [listed]).quote.premium == 17496.00
    removed = {"date": "2024-10-01", "kind": "blacklist", "status": "false"}
    r = renew(profile, [removed, listed])
    assert r.profile["blacklisted"] is False
    assert r.quote.premium == 14580.00


def test_accident_grade_derived_from_deaths_and_loss():
    """No grade given: 3 deaths (>= 3) or a direct loss of 12,000,000 yuan (>= 10 million)
    make a larger accident (国务院令第493号 第三条); 1 death, a general one.
    ``other`` 100 medium (16,200), 3 deaths: highest(larger 1.20, deaths [3,10) 1.20) = 1.20
    -> 19,440.00."""
    profile = {**OTHER, "headcount": 100, "scale": "medium"}
    r = renew(profile, [{"date": "2024-07-01", "kind": "accident", "deaths": 3}])
    assert r.profile["accidents_larger"] == 1
    assert r.quote.premium == 19440.00
    r = renew(profile, [{"date": "2024-07-01", "kind": "accident", "direct_loss": 12_000_000},
                        {"date": "2024-08-01", "kind": "accident", "deaths": 1}])
    p = r.profile
    assert (p["accidents_larger"], p["accidents_general"], p["deaths"]) == (1, 1, 1)


def test_last_years_record_is_replaced_not_added():
    """The floating inputs describe the year just ended: last year's general accident and open
    hazard drop out after a clean year."""
    profile = {**OTHER, "id": "R", "headcount": 100, "scale": "medium", "accidents_general": 1,
               "deaths": 1, "major_hazards_unrectified": 1}
    r = renew(profile)
    p = r.profile
    assert (p["accidents_general"], p["deaths"], p["major_hazards_unrectified"]) == (0, 0, 0)
    reasons = r.changes.set_index("field").reason
    assert reasons["accidents_general"] == "no general accident in the policy year"
    assert reasons["major_hazards_unrectified"].startswith("no major hazard left unrectified")
    # 16,200 × highest(1.10, 1.10) × 1.15 = 20,493.00 -> 16,200 × 0.95 = 15,390.00
    assert (r.previous.premium, r.quote.premium) == (20493.00, 15390.00)


# --- policy periods ------------------------------------------------------------------------


def test_policy_periods_roll_forward():
    """Inception = last expiry + 1 day. An annual term stays annual across a leap day
    (2023-03-01..2024-02-29 -> 2024-03-01..2025-02-28); a 6-month term keeps 6 months
    (2024-01-31..2024-07-30 -> 2024-07-31..2025-01-30); no expiry: one year by default, and
    still none written."""
    policies = pd.DataFrame({
        "id": ["leap", "half", "default"],
        "inception_date": ["2023-03-01", "2024-01-31", "2024-03-01"],
        "expiry_date": ["2024-02-29", "2024-07-30", None],
    })
    new, changes = next_profiles(policies, None)
    assert new.inception_date.tolist() == ["2024-03-01", "2024-07-31", "2025-03-01"]
    assert new.expiry_date.tolist()[:2] == ["2025-02-28", "2025-01-30"]
    assert pd.isna(new.expiry_date.iloc[2])
    assert changes[changes.field == "expiry_date"].policy.tolist() == ["leap", "half"]
    # events on the last day of the policy year are inside it
    next_profiles(policies, pd.DataFrame([{"policy": "leap", "date": "2024-02-29",
                                           "kind": "claim"}]))


def test_date_types_are_kept():
    policies = pd.DataFrame({"id": ["a"], "inception_date": pd.to_datetime(["2024-03-01"])})
    new, _ = next_profiles(policies, None)
    assert new.inception_date.dtype == policies.inception_date.dtype
    assert new.inception_date.iloc[0] == pd.Timestamp("2025-03-01")
    r = renew({**OTHER, "headcount": 10, "scale": "medium",
               "inception_date": dt.date(2024, 3, 1)})
    assert r.profile["inception_date"] == dt.date(2025, 3, 1)


# --- a portfolio ----------------------------------------------------------------------------


def _book_of_policies() -> tuple[pd.DataFrame, pd.DataFrame]:
    policies = pd.DataFrame([
        {**CHEM, "id": "P1", "headcount": 20, "scale": "small",
         "standardisation_grade": "grade_2", "claim_free_years": 1},
        {**OTHER, "id": "P2", "headcount": 100, "scale": "medium", "claim_free_years": 1},
        {**OTHER, "id": "P3", "headcount": 40, "scale": "small"},
        {**OTHER, "id": "P4", "headcount": 100, "scale": "small",
         "standardisation_grade": "grade_3", "claim_free_years": 3,
         "inception_date": "2023-03-01", "expiry_date": "2024-02-29", "blacklisted": "false"},
        {**OTHER, "id": "P5", "headcount": 7, "scale": "micro", "accidents_general": 1,
         "deaths": 1, "inception_date": "2024-07-01"},
    ], index=[40, 10, 30, 20, 50])  # a non-default index, not in order: kept as given
    events = pd.DataFrame([
        {"policy": "P4", "date": "2023-09-01", "kind": "standardisation", "grade": "grade_2"},
        {"policy": "P1", **OPEN_HAZARD},
        {"policy": "P3", "date": "2024-04-01", "kind": "hazard", "major": True,
         "rectified": True},
        {"policy": "P1", **LARGER_ACCIDENT},
        {"policy": "P4", "date": "2023-05-01", "kind": "blacklist", "status": True},
        {"policy": "P5", "date": "2025-01-15", "kind": "claim", "amount": 1200.5},
        {"policy": "P5", "date": "2024-12-01", "kind": "honour", "level": "provincial"},
    ])
    return policies, events


def test_portfolio_renewal_equals_single_renewals_row_by_row():
    policies, events = _book_of_policies()
    out = renew_portfolio(policies, events)
    assert out.index.tolist() == policies.index.tolist()
    assert list(out.columns[:3]) == ["premium", "premium_before", "premium_change"]
    new, changes = next_profiles(policies, events)
    singles = []
    for label, row in policies.iterrows():
        profile = {k: v for k, v in row.items() if not pd.isna(v)}
        mine = events[events.policy == profile["id"]].dropna(axis=1, how="all")
        r = renew(profile, mine.to_dict("records"))
        singles.append(r.changes)
        assert out.premium[label] == r.quote.premium
        assert out.premium_before[label] == r.previous.premium
        assert out.premium_change[label] == pytest.approx(r.premium_change)
        got = {k: v for k, v in new.loc[label].items() if not pd.isna(v)}
        assert got == r.profile
    pd.testing.assert_frame_equal(changes, pd.concat(singles, ignore_index=True))
    # the first three are the hand-worked renewals above
    assert out.premium[[40, 10, 30]].tolist() == [19004.39, 14904.00, 6463.80]


def test_portfolio_rows_without_events_change_only_their_dates_and_run():
    policies, events = _book_of_policies()
    new, _ = next_profiles(policies, events)
    # no standardisation or blacklist event: left out as before (the book's default applies)
    assert pd.isna(new.loc[10, "standardisation_grade"]) and pd.isna(new.loc[10, "blacklisted"])
    assert new.loc[20, "blacklisted"] is True
    assert new.loc[20, "standardisation_grade"] == "grade_2"
    assert new.headcount.tolist() == policies.headcount.tolist()


def test_ids_match_across_number_and_text():
    """A CSV may read one file's ids as numbers and the other's as text."""
    policies = pd.DataFrame({"id": [101, 102], "inception_date": ["2024-03-01"] * 2})
    events = pd.DataFrame({"policy": ["101"], "date": ["2024-04-01"], "kind": ["claim"]})
    new, _ = next_profiles(policies.assign(claim_free_years=[2, 2]), events)
    assert new.claim_free_years.tolist() == [0, 3]


# --- validation ----------------------------------------------------------------------------


POLICIES = pd.DataFrame([{**OTHER, "id": "A", "headcount": 10, "scale": "medium"}])


@pytest.mark.parametrize("event, field, words", [
    ({"kind": "acident"}, "kind", "'acident' is not an event kind"),
    ({"date": "2024-13-01", "kind": "claim"}, "date", "not a date written YYYY-MM-DD"),
    ({"date": None, "kind": "claim"}, "date", "is required"),
    ({"date": "2025-03-01", "kind": "claim"}, "date",
     "outside the policy year of policy 'A' (2024-03-01 to 2025-02-28)"),
    ({"date": "2024-02-29", "kind": "claim"}, "date", "outside the policy year"),
    ({"policy": "Z", "kind": "claim"}, "policy", "'Z' is not the id of any policy"),
    ({"kind": "accident", "deaths": -1}, "deaths", "must not be negative"),
    ({"kind": "accident", "deaths": 1.5}, "deaths", "whole number"),
    ({"kind": "accident", "grade": "big"}, "grade", "'big' is not an accident grade"),
    ({"kind": "accident", "grade": "general", "deaths": 3}, "grade", "is below 'larger'"),
    ({"kind": "claim", "amount": -5}, "amount", "must not be negative"),
    ({"kind": "claim", "amount": 1.234}, "amount", "fractions of a fen"),
    ({"kind": "claim", "deaths": 1}, "deaths", "does not go with a claim event"),
    ({"kind": "hazard"}, "major", "is required"),
    ({"kind": "hazard", "major": True}, "rectified", "is required"),
    ({"kind": "hazard", "major": "maybe", "rectified": True}, "major", "not true or false"),
    ({"kind": "standardisation", "grade": "grade_9"}, "grade",
     "'grade_9' is not a standardisation grade"),
    ({"kind": "honour", "level": "national"}, "level", "'national' is not an honour level"),
    ({"kind": "blacklist"}, "status", "is required"),
])
def test_bad_events_name_row_and_field(event, field, words):
    good = {"policy": "A", "date": "2024-04-01", "kind": "claim"}
    events = pd.DataFrame([good, {"policy": "A", "date": "2024-04-01", **event}],
                          index=["e1", "e2"])
    with pytest.raises(EventError) as err:
        next_profiles(POLICIES, events)
    assert (err.value.row, err.value.field) == ("e2", field)
    assert words in str(err.value)
    assert str(err.value).startswith(f"events: row 'e2': {field}: ")
    assert isinstance(err.value, ProfileError)


def test_bad_event_frames():
    with pytest.raises(EventError, match="rectifed: unknown event column"):
        next_profiles(POLICIES, pd.DataFrame([{"policy": "A", "date": "2024-04-01",
                                               "kind": "hazard", "rectifed": True}]))
    with pytest.raises(EventError, match="policy: is required for every event"):
        next_profiles(POLICIES, pd.DataFrame([{"date": "2024-04-01", "kind": "claim"}]))
    with pytest.raises(ProfileError, match="list of events"):
        renew(POLICIES.iloc[0].to_dict(), {"kind": "claim"})


def test_single_renewal_errors_name_the_event_position():
    profile = POLICIES.iloc[0].to_dict()
    with pytest.raises(EventError) as err:
        renew(profile, [{"date": "2024-04-01", "kind": "claim"},
                        {"date": "2025-04-01", "kind": "claim"}])
    assert (err.value.row, err.value.field) == (1, "date")
    with pytest.raises(EventError, match="'B' is not the id of any policy"):
        renew(profile, [{"policy": "B", "date": "2024-04-01", "kind": "claim"}])


@pytest.mark.parametrize("change, field, words", [
    ({"id": ["A", "A"]}, "id", "'A' is not unique"),
    ({"id": ["A", None]}, "id", "is required"),
    ({"inception_date": ["2024-03-01", None]}, "inception_date", "is required"),
    ({"expiry_date": ["2024-03-01", "2024-01-01"]}, "expiry_date", "before inception_date"),
    ({"claim_free_years": [1, -1]}, "claim_free_years", "must not be negative"),
])
def test_bad_policies_name_row_and_field(change, field, words):
    policies = pd.DataFrame({"id": ["A", "B"], "inception_date": ["2024-03-01"] * 2,
                             **change}, index=[7, 8])
    with pytest.raises(ProfileError) as err:
        next_profiles(policies, None)
    assert err.value.field == field and words in str(err.value)
    assert err.value.row in (7, 8) and "np.int64" not in str(err.value)


def test_policies_need_ids():
    with pytest.raises(ProfileError, match="id: is required"):
        next_profiles(pd.DataFrame({"inception_date": ["2024-03-01"]}), None)


def test_leap_day_policy_renews_for_one_year():
    """2024-02-29..2025-02-28 is one policy year (12 months by the engine's count: a started
    month counts whole); its renewal runs 2025-03-01..2026-02-28, again 12 months, and a
    policy from 2024-02-29 with no expiry covers events up to 2025-02-28."""
    base = {**OTHER, "headcount": 10, "scale": "medium", "id": "leap"}
    r = renew({**base, "inception_date": "2024-02-29", "expiry_date": "2025-02-28"})
    assert (r.profile["inception_date"], r.profile["expiry_date"]) == ("2025-03-01",
                                                                      "2026-02-28")
    r = renew({**base, "inception_date": "2024-02-29"},
              [{"date": "2025-02-28", "kind": "claim", "amount": 100}])
    assert r.profile["inception_date"] == "2025-03-01" and r.profile["claim_free_years"] == 0


# --- a renewal meets the rules of its new date ------------------------------------------------

def _building(pid: str, inception: str, **extra) -> dict:
    return {"id": pid, "jurisdiction": "CN-FJ-XM", "sector": "construction",
            "subsector": "building", "inception_date": inception, "contract_value": 20_000_000,
            "project_type": "general", **extra}


def test_renewal_lowers_a_commission_above_the_new_cap():
    """Written 2024-07-01 at 8% (no cap then), renewed 2025-07-01 under the 5% cap of
    2025-03-29: the renewal pays 5%, and its changes say why."""
    r = renew(_building("B", "2024-07-01", commission_rate=0.08), [])
    assert r.profile["commission_rate"] == 0.05
    assert r.quote.split.commission_rate == 0.05
    row = r.changes[r.changes.field == "commission_rate"].iloc[0]
    assert (row.before, row.after) == (0.08, 0.05)
    assert row.reason == "0.08 is above the commission cap of 0.05 in force on 2025-07-01"


def test_portfolio_renewal_raises_limits_to_the_new_floor():
    """A 2023 policy stating 720,000 (2023 floor: 10 x Xiamen 2022 income 70,467 =
    704,670 -> 710,000) renews in 2024 on 2023 income 72,880 -> 730,000: its limit is raised.
    The 2024 policy at 8% commission renews in 2025 at 5%: commission = 5% of its premium."""
    policies = pd.DataFrame([_building("A", "2023-07-01", per_person_limit=720_000),
                             _building("B", "2024-07-01", commission_rate=0.08)])
    out = renew_portfolio(policies, None)
    assert list(out["per_person_limit"]) == [730_000, 730_000]
    b = out.iloc[1]
    from decimal import ROUND_HALF_UP, Decimal

    want = (Decimal(repr(float(b["premium"]))) * Decimal("0.05")).quantize(Decimal("0.01"),
                                                                     rounding=ROUND_HALF_UP)
    assert b["commission"] == float(want)
