"""`rating limits` and `rating settle`: output checked against hand arithmetic, and one clear
error line for every bad input.

Hand derivations use the printed tables: the Xiamen book (tables/books/cn-fj-xm-2022.yaml:
floor = 10 × Xiamen urban income of the prior year rounded up to 10,000; schedule medical
10%, third party 1 ×, property 100,000, rescue 200,000, medical aid 100,000, appraisal 50,000,
legal 100,000, per accident 10 ×, aggregate 30 ×; quick payment up to 50,000), the
employers_liability scale (100/80/70/60/50/40/30/20/10/5 %), tables/national.yaml and
tables/statistics/income.yaml.
"""

import json
from pathlib import Path

import pytest

from rating.cli import main

EXAMPLE = Path(__file__).parents[1] / "examples" / "accident.yaml"

XM_WARNING = ("rating: warning: rate book CN-FJ-XM-2022 is illustrative: its rates are "
              "examples, not filed rates\n")
"""The one line on stderr of a command that rates on the shipped (illustrative) book."""


def run(capsys, *argv):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def fen(yuan):
    return round(yuan * 100)


# --- rating limits ----------------------------------------------------------------------------

LIMITS_2022 = ["limits", "--jurisdiction", "CN-FJ-XM", "--date", "2022-07-01"]


def test_limits_json(capsys):
    """Policy year 2022: the prior year 2021 has no Xiamen figure; the latest earlier one is
    2018 = 54,401 -> 10 × 54,401 = 544,010, rounded up to 10,000 -> 550,000 (provisional,
    income year 2018). National floor in force (2017 Measures): 300,000. Income wins.
    Schedule on 550,000: medical 10% = 55,000; third party 1 × = 550,000; property 100,000;
    rescue 200,000; medical aid 100,000; appraisal 50,000; legal 100,000;
    per accident 10 × = 5,500,000; aggregate 30 × = 16,500,000.
    Work injury: 20 × national income 2021 (47,412) = 948,240, not provisional."""
    code, out, err = run(capsys, *LIMITS_2022, "--json")
    assert code == 0 and err == XM_WARNING
    doc = json.loads(out)
    floor = doc["floor"]
    assert floor["amount"] == 550_000 and floor["binding"] == "income"
    assert floor["income_year"] == 2018 and floor["provisional"] is True
    comps = {c["name"]: c["amount"] for c in floor["components"]}
    assert comps == {"national": 300_000, "income": 544_010}
    assert doc["schedule"] == {
        "per_person": 550_000, "medical_per_person": 55_000,
        "third_party_per_person": 550_000, "third_party_property": 100_000,
        "rescue": 200_000, "medical_aid": 100_000, "appraisal": 50_000, "legal": 100_000,
        "per_accident": 5_500_000, "aggregate": 16_500_000}
    assert doc["injury_scale"]["id"] == "employers_liability"
    assert doc["injury_scale"]["ratios"] == [1.0, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3, 0.2, 0.1, 0.05]
    wi = doc["work_injury"]
    assert wi["death_subsidy"] == 948_240 and wi["national_income"] == 47_412
    assert wi["income_year"] == 2021 and wi["provisional"] is False
    assert wi["disability_months"] == [27, 25, 23, 21, 18, 16, 13, 11, 9, 7]
    assert doc["rate_book"]["id"] == "CN-FJ-XM-2022"


def test_limits_text(capsys):
    """Text: the floor 550,000 (provisional, income 2018) and the benchmark 948,240."""
    code, out, err = run(capsys, *LIMITS_2022)
    assert code == 0 and err == XM_WARNING
    assert "floor" in out and "550,000" in out and "544,010" in out
    assert "provisional" in out and "2018" in out
    assert "work-injury" in out and "948,240" in out
    assert "5,500,000" in out and "16,500,000" in out


def test_limits_text_zh(capsys):
    code, out, err = run(capsys, *LIMITS_2022, "--lang", "zh")
    assert code == 0 and err == XM_WARNING
    assert "下限" in out and "550,000" in out
    assert "工亡" in out and "948,240" in out


def test_limits_2024_with_per_person_limit(capsys):
    """2024: 10 × 2023 income 72,880 = 728,800 -> 730,000, not provisional. With
    --per-person-limit 800,000: medical 80,000, per accident 8,000,000, aggregate 24,000,000.
    Work injury 2024: 20 × 2023 national income 51,821 = 1,036,420."""
    code, out, _ = run(capsys, "limits", "--jurisdiction", "CN-FJ-XM", "--date", "2024-03-01",
                       "--per-person-limit", "800000", "--json")
    assert code == 0
    doc = json.loads(out)
    assert doc["floor"]["amount"] == 730_000 and doc["floor"]["provisional"] is False
    assert doc["floor"]["income_year"] == 2023
    s = doc["schedule"]
    assert (s["per_person"], s["medical_per_person"], s["per_accident"], s["aggregate"]) == (
        800_000, 80_000, 8_000_000, 24_000_000)
    assert doc["work_injury"]["death_subsidy"] == 1_036_420


# --- rating settle ----------------------------------------------------------------------------

def test_settle_example_json(capsys):
    """Example policy: per person 800,000 (2024 floor 730,000); medical sub-limit 80,000;
per accident overridden to 1,200,000; aggregate 30 × 800,000 = 24,000,000; co-insurance
lead 0.6 / second 0.4.

Accident A-0417 lines (yuan), each after its own limit:
  W1 death, owed 1,500,000 -> 800,000;     W1 medical 20,000
  W2 dispatched grade 5 (50%), owed not given -> 400,000;  W2 medical 60,000
  W3 grade 9 (10% = 80,000), owed 50,000 -> 50,000;      W3 medical 12,000
  T1 third party, injury only: medical 3,500
  property 40,000; rescue 30,000; medical aid 8,000; appraisal 15,000; legal 20,000
sum 1,458,500 > 1,200,000: pro rata, factor 120,000,000 / 145,850,000 = 2400/2917 (fen):
  line         fen × 2400 / 2917 = floor  remainder
  W1 death     80,000,000 -> 65,821,049   67
  W1 medical    2,000,000 ->  1,645,526  658
  W2 disab.    40,000,000 -> 32,910,524 1492
  W2 medical    6,000,000 ->  4,936,578 1974
  W3 disab.     5,000,000 ->  4,113,815 1645
  W3 medical    1,200,000 ->    987,315 2145
  T1 medical      350,000 ->    287,967  261
  property      4,000,000 ->  3,291,052 1316
  rescue        3,000,000 ->  2,468,289  987
  medical aid     800,000 ->    658,210 1430
  appraisal     1,500,000 ->  1,234,144 1952
  legal         2,000,000 ->  1,645,526  658
floors add up to 119,999,995: 5 fen short, to the 5 largest remainders (2145 W3 medical,
1974 W2 medical, 1952 appraisal, 1645 W3 disability, 1492 W2 disability):
  W1 death 658,210.49; W2 disability 329,105.25; W3 disability 41,138.16;
  W2 medical 49,365.79; W3 medical 9,873.16; appraisal 12,341.45; total 1,200,000.00.
Grade: 1 death, 2 serious injuries, direct loss 1,800,000 -> general; total > 50,000:
standard. Emergency = medical 16,455.26 + 49,365.79 + 9,873.16 + 2,879.67 + rescue
24,682.89 + medical aid 6,582.10 = 109,838.87; balance 1,200,000 - 109,838.87 =
1,090,161.13. Aggregate left 24,000,000 - 1,200,000 = 22,800,000.
Co-insurance, second = half-up(line × 0.4), fen: 26,328,419.6 -> 420; 658,210.4 -> 210;
13,164,210; 1,974,631.6 -> 632; 1,645,526.4 -> 526; 394,926.4 -> 926; 115,186.8 -> 187;
1,316,420.8 -> 421; 987,315.6 -> 316; 263,284; 493,658; 658,210.4 -> 210. Rounding
differences +.4 -.4 0 +.4 -.4 -.4 +.2 +.2 +.4 0 0 -.4 cancel: second 480,000.00 = 40% of
1,200,000; lead 720,000.00 = 60%.

Accident A-0902: W4 temporary, injury, medical 4,200 -> 4,200; general, clear, 4,200 <=
50,000: quick 4,200. Aggregate left 22,800,000 - 4,200 = 22,795,800. Co-insurance:
second 420,000 × 0.4 = 168,000 fen = 1,680.00; lead 2,520.00.
    """
    code, out, err = run(capsys, "settle", EXAMPLE, "--json")
    assert code == 0 and err == XM_WARNING
    first, second = json.loads(out)

    assert (first["policy"], first["accident"], first["date"]) == (
        "XM-2024-0001", "A-0417", "2024-04-17")
    assert (first["grade"], first["deaths"], first["serious_injuries"]) == ("general", 1, 2)
    assert first["direct_loss"] == 1_800_000
    assert first["total"] == 1_200_000 and first["track"] == "standard"
    assert first["payments"] == {"emergency_advance": 109_838.87, "advance": 0.0,
                                 "balance": 1_090_161.13}
    assert (first["aggregate_before"], first["aggregate_after"]) == (24_000_000, 22_800_000)
    lines = {(r["victim"], r["coverage"]): r for r in first["lines"]}
    assert len(first["lines"]) == 12
    w1 = lines[("W1", "death")]
    assert (w1["claimed"], w1["limit"], w1["payable"], w1["payout"]) == (
        1_500_000, 800_000, 800_000, 658_210.49)
    w2 = lines[("W2", "disability")]
    assert w2["claimed"] is None and (w2["limit"], w2["payable"], w2["payout"]) == (
        400_000, 400_000, 329_105.25)
    w3 = lines[("W3", "disability")]
    assert (w3["claimed"], w3["limit"], w3["payable"], w3["payout"]) == (
        50_000, 80_000, 50_000, 41_138.16)
    assert lines[("W2", "medical")]["payout"] == 49_365.79
    assert lines[("W3", "medical")]["payout"] == 9_873.16
    assert lines[("", "appraisal")]["payout"] == 12_341.45
    assert lines[("", "third_party_property")]["payout"] == 32_910.52
    assert ("T1", "injury") not in lines and lines[("T1", "medical")]["payout"] == 2_879.67
    assert sum(fen(r["payout"]) for r in first["lines"]) == 120_000_000

    co = first["coinsurance"]
    assert len(co) == 12
    for row, ln in zip(co, first["lines"]):
        assert fen(row["lead_insurer"]) + fen(row["second_insurer"]) == fen(ln["payout"])
    assert sum(fen(r["second_insurer"]) for r in co) == 48_000_000
    assert sum(fen(r["lead_insurer"]) for r in co) == 72_000_000
    assert fen(co[0]["second_insurer"]) == 26_328_420  # 26,328,419.6 half-up

    assert second["accident"] == "A-0902" and second["grade"] == "general"
    assert second["total"] == 4_200 and second["track"] == "quick"
    assert second["payments"] == {"quick": 4_200.0}
    assert (second["aggregate_before"], second["aggregate_after"]) == (22_800_000, 22_795_800)
    assert [(r["lead_insurer"], r["second_insurer"]) for r in second["coinsurance"]] == [
        (2_520.0, 1_680.0)]


def test_settle_example_text(capsys):
    """The numbers are derived in test_settle_example_json."""
    code, out, err = run(capsys, "settle", EXAMPLE)
    assert code == 0 and err == XM_WARNING
    assert "XM-2024-0001" in out and "1,200,000" in out and "24,000,000" in out
    first, second = out.split("A-0902")
    assert "A-0417" in first and "general" in first and "standard" in first
    assert "1,200,000.00" in first and "658,210.49" in first
    assert "109,838.87" in first and "1,090,161.13" in first and "22,800,000.00" in first
    assert "720,000.00" in first and "480,000.00" in first
    assert "quick" in second and "4,200.00" in second and "22,795,800.00" in second
    assert "2,520.00" in second and "1,680.00" in second


def test_settle_text_zh(capsys):
    code, out, err = run(capsys, "settle", EXAMPLE, "--lang", "zh")
    assert code == 0 and err == XM_WARNING
    assert "事故" in out and "死亡" in out and "1,200,000.00" in out


def test_settle_json_file(tmp_path, capsys):
    """A claim file in JSON (rating settle and load_claims promise YAML or JSON): 2024, per
    person default = floor 730,000; one grade-4 disability, 60% × 730,000 = 438,000 ->
    general, > 50,000 so standard, no emergency costs."""
    f = tmp_path / "c.json"
    f.write_text(json.dumps({
        "policy": {"id": "J", "jurisdiction": "CN-FJ-XM", "inception_date": "2024-01-01",
                   "expiry_date": "2024-12-31"},
        "accidents": [{"id": "A", "date": "2024-02-02", "victims": [
            {"id": "W", "type": "employee", "outcome": "disability", "grade": 4}]}]}))
    code, out, err = run(capsys, "settle", f, "--json")
    assert code == 0, err
    (r,) = json.loads(out)
    assert r["total"] == 438_000 and r["track"] == "standard"


# --- bad input --------------------------------------------------------------------------------

GOOD = """\
policy:
  id: P-1
  jurisdiction: CN-FJ-XM
  inception_date: 2024-01-01
  expiry_date: 2024-12-31
accidents:
  - id: A-1
    date: 2024-03-01
    victims:
      - id: W1
        type: employee
        outcome: disability
        grade: 3
        medical: 1000
    costs:
      rescue: 500
"""


def one_error_line(code, out, err):
    assert code == 2, err
    assert out == ""
    assert err.startswith("rating: error:")
    assert err.count("\n") == 1 and err.endswith("\n")
    assert "Traceback" not in err


def test_good_file_settles(tmp_path, capsys):
    """Control for the bad variants: 70% × 730,000 = 511,000 + 1,000 + 500 = 512,500."""
    f = tmp_path / "c.yaml"
    f.write_text(GOOD, encoding="utf-8")
    code, out, _ = run(capsys, "settle", f, "--json")
    assert code == 0 and json.loads(out)[0]["total"] == 512_500


@pytest.mark.parametrize("old, new, needles", [
    ("grade: 3", "grade: 11", ["accidents[0].victims[0].grade", "injury grade"]),
    ("rescue: 500", "rescue: -500", ["accidents[0].costs.rescue", "out of range"]),
    ("medical: 1000", "medical: -1000", ["accidents[0].victims[0].medical"]),
    ("        outcome: disability\n        grade: 3\n", "",
     ["accidents[0].victims[0]", "missing required key 'outcome'"]),
    ("date: 2024-03-01", "date: 2023-12-31", ["accidents[0].date", "outside the policy period"]),
    ("expiry_date: 2024-12-31", "expiry_date: 2024-12-31\n  per_person_limit: 500000",
     ["per_person_limit", "730,000"]),
    ("rescue: 500", "rescue: [unclosed", ["not valid YAML"]),
])
def test_settle_bad_input_one_line(tmp_path, capsys, old, new, needles):
    text = GOOD.replace(old, new)
    assert text != GOOD
    f = tmp_path / "c.yaml"
    f.write_text(text, encoding="utf-8")
    code, out, err = run(capsys, "settle", f)
    one_error_line(code, out, err)
    assert str(f) in err
    for needle in needles:
        assert needle in err


def test_settle_missing_file(tmp_path, capsys):
    missing = tmp_path / "nope.yaml"
    code, out, err = run(capsys, "settle", missing)
    one_error_line(code, out, err)
    assert str(missing) in err


def test_settle_empty_file(tmp_path, capsys):
    f = tmp_path / "c.yaml"
    f.write_text("", encoding="utf-8")
    code, out, err = run(capsys, "settle", f)
    one_error_line(code, out, err)


@pytest.mark.parametrize("args, needle", [
    (["--jurisdiction", "CN-FJ-XM", "--date", "2022-13-01"], "2022-13-01"),
    (["--jurisdiction", "CN-FJ-XM", "--date", "July 2022"], "July 2022"),
    (["--jurisdiction", "CN-GD", "--date", "2022-07-01"], "CN-GD"),
    (["--jurisdiction", "CN-FJ-XM", "--date", "2022-01-01"], "no rate book"),
    (["--jurisdiction", "CN-FJ-XM", "--date", "2022-07-01", "--per-person-limit", "500000"],
     "550,000"),
])
def test_limits_bad_input_one_line(capsys, args, needle):
    code, out, err = run(capsys, "limits", *args)
    one_error_line(code, out, err)
    assert needle in err
