"""Bad input that used to get through (issue 10 §5, and §3's calibrate warnings): each gets a
clear error naming the field, row or file, or follows a stated rule."""

from __future__ import annotations

import os
import subprocess
import sys
import warnings
from pathlib import Path

import pandas as pd
import pytest

import rating
from rating import cli
from rating.book import income_statistics
from rating.book.yamlsafe import MAX_BYTES, load_yaml_file
from rating.cli import main
from rating.errors import BookError
from rating.settlement import load_claims, settle_year

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE_CLAIMS = (ROOT / "examples" / "accident.yaml").read_text("utf-8")
PORTFOLIO = ROOT / "examples" / "portfolio.csv"


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


# --- limits: the per-person limit option -------------------------------------------------

@pytest.mark.parametrize("value", ["nan", "inf", "1e300", "-5", "abc"])
def test_per_person_limit_not_an_amount_is_a_usage_error(capsys, value):
    code, out, err = run(capsys, "limits", "--jurisdiction", "CN-FJ-XM", "--date",
                         "2026-01-01", "--per-person-limit", value)
    assert code == 2 and out == ""
    assert "--per-person-limit" in err and f"{value!r}" in err and "1e+12" in err
    assert "internal error" not in err and len(err.strip().splitlines()) == 1


def test_per_person_limit_below_the_floor_names_it(capsys):
    # 2026 floor: 10 × Xiamen 2023 income 72,880 = 728,800 -> 730,000
    code, _, err = run(capsys, "limits", "--jurisdiction", "CN-FJ-XM", "--date", "2026-01-01",
                       "--per-person-limit", "700000")
    assert code == 2 and "below the floor 730,000" in err


# --- co-insurance -------------------------------------------------------------------------

def test_insurer_and_coinsurance_together_are_refused(capsys):
    code, out, err = run(capsys, "quote", "--example", "--coinsurance", "A:0.5;B:0.5",
                         "--insurer", "C")
    assert code == 2 and out == ""
    assert err.startswith("rating: error: coinsurance: is given together with insurer")


def test_coinsurance_alone_still_splits(capsys):
    code, out, _ = run(capsys, "quote", "--example", "--coinsurance", "A:0.5;B:0.5", "--json")
    assert code == 0 and '"insurer": "B"' in out


def test_comma_between_insurers_names_the_separator(capsys):
    code, _, err = run(capsys, "quote", "--example", "--coinsurance", "PICC:0.6,CPIC:0.4")
    assert code == 2
    assert "separate the insurers with ';'" in err and "not ','" in err
    assert "add up to 0.4" not in err


def test_coinsurance_in_a_portfolio_row():
    profile = dict(cli.EXAMPLE_PROFILE, insurer="C", coinsurance="A:0.5;B:0.5")
    frame = pd.DataFrame([cli.EXAMPLE_PROFILE, profile])
    with pytest.raises(rating.ProfileError, match=r"row 1: coinsurance: is given together"):
        rating.rate_portfolio(frame)


# --- shares, deaths, exposures ----------------------------------------------------------

def test_prevention_share_above_one_names_prevention_share(capsys):
    code, _, err = run(capsys, "quote", "--example", "--prevention-share", "1.5")
    assert code == 2
    assert err.startswith("rating: error: prevention_share: is not a share")
    assert "commission_rate" not in err


def test_commission_rate_above_one_is_not_a_share(capsys):
    code, _, err = run(capsys, "quote", "--example", "--commission-rate", "3")
    assert code == 2 and err.startswith("rating: error: commission_rate: is not a share")


def test_deaths_beyond_headcount_and_accident_grades_are_refused(capsys):
    # the example: 120 employees, 1 general accident (at most 2 deaths)
    code, _, err = run(capsys, "quote", "--example", "--deaths", "1e9")
    assert code == 2
    assert "deaths: is more than the headcount 120 and more than the accidents counted can " \
           "hold (2:" in err


def test_deaths_a_larger_accident_can_hold_are_accepted(capsys):
    # 121 deaths > 120 employees, but 1 general (2) + 14 larger (14 × 9 = 126) hold 128
    code, _, _ = run(capsys, "quote", "--example", "--deaths", "121",
                     "--accidents-larger", "14")
    assert code == 0
    # within the headcount: accepted whatever the accidents
    assert run(capsys, "quote", "--example", "--deaths", "120")[0] == 0


def test_deaths_one_more_than_both_bounds(capsys):
    # headcount 120; 1 general (2) + 13 larger (117) = 119 < 121 deaths: refused
    code, _, err = run(capsys, "quote", "--example", "--deaths", "121",
                       "--accidents-larger", "13")
    assert code == 2 and "can hold (119:" in err


def test_exposure_the_basis_does_not_use_is_refused(capsys):
    code, _, err = run(capsys, "quote", "--example", "--vehicles", "3")
    assert code == 2
    assert err.startswith("rating: error: vehicles: is not used: hazardous_chemicals/production "
                          "is rated on persons (headcount)")


def test_exposure_the_basis_uses_is_accepted_with_headcount(capsys):
    code, _, _ = run(capsys, "quote", "--jurisdiction", "CN-FJ-XM", "--sector",
                     "road_transport", "--subsector", "freight", "--vehicles", "25",
                     "--headcount", "40", "--inception-date", "2025-06-01")
    assert code == 0


# --- dates beyond the statistics --------------------------------------------------------

def test_inception_centuries_ahead_is_refused_naming_date_and_limit(capsys):
    code, _, err = run(capsys, "quote", "--example", "--inception-date", "2426-01-01")
    assert code == 2
    assert "inception_date: the date 2426-01-01 is too far ahead" in err
    assert "latest figure is for 2023" in err and "at most 3 years" in err
    assert "dates up to 2027-12-31" in err


def test_projection_limit_edge():
    """Xiamen's latest figure is 2023; limit 3: a 2027 date needs 2026 (2026 - 2023 = 3, kept,
    provisional), a 2028 date needs 2027 (4 > 3, refused)."""
    edge = rating.quote(dict(cli.EXAMPLE_PROFILE, inception_date="2027-12-31"))
    assert edge.floor.provisional and edge.floor.income_year == 2023
    with pytest.raises(rating.ProfileError, match="2028-01-01 is too far ahead"):
        rating.quote(dict(cli.EXAMPLE_PROFILE, inception_date="2028-01-01"))


def test_projection_limit_is_data():
    limit = income_statistics().projection_limit
    assert limit.years == 3 and limit.illustrative


def test_limits_command_far_ahead_is_bad_input(capsys):
    code, _, err = run(capsys, "limits", "--jurisdiction", "CN-FJ-XM", "--date", "2300-01-01")
    assert code == 2 and "too far ahead" in err and "internal error" not in err


def test_scenario_years_forward_200_is_refused(tmp_path, capsys):
    spec = tmp_path / "far.yaml"
    spec.write_text("name: far\nportfolio: {years_forward: 200}\n", encoding="utf-8")
    out = tmp_path / "s.csv"
    code, _, err = run(capsys, "scenarios", str(PORTFOLIO), str(spec), "-o", str(out))
    assert code == 2 and "scenario 'far'" in err and "too far ahead" in err
    assert not out.exists()


# --- settling ---------------------------------------------------------------------------

def test_settle_refuses_a_three_year_annual_policy(tmp_path, capsys):
    f = tmp_path / "long.yaml"
    f.write_text(EXAMPLE_CLAIMS.replace("expiry_date: 2024-12-31", "expiry_date: 2026-12-31"),
                 encoding="utf-8")
    code, out, err = run(capsys, "settle", str(f))
    assert code == 2 and out == ""
    assert f"{f}:7: policy.expiry_date: 2024-01-01 to 2026-12-31 is 36 months" in err
    assert "at most 12 months" in err


def test_settle_month_count_as_in_a_quote(tmp_path, capsys):
    f = tmp_path / "p.yaml"
    # 2024-01-01 to 2025-01-01 is 13 months (a started month counts whole): refused
    f.write_text(EXAMPLE_CLAIMS.replace("expiry_date: 2024-12-31", "expiry_date: 2025-01-01"),
                 encoding="utf-8")
    assert run(capsys, "settle", str(f))[0] == 2
    # a project policy may run longer
    f.write_text(EXAMPLE_CLAIMS.replace("expiry_date: 2024-12-31",
                                        "expiry_date: 2026-12-31\n  term: project"),
                 encoding="utf-8")
    assert run(capsys, "settle", str(f))[0] == 0


def test_owed_on_an_injury_is_refused_with_its_path(tmp_path, capsys):
    f = tmp_path / "owed.yaml"
    f.write_text(EXAMPLE_CLAIMS.replace("outcome: injury, medical: 3500}",
                                        "outcome: injury, medical: 3500, owed: 9000}"),
                 encoding="utf-8")
    code, _, err = run(capsys, "settle", str(f))
    assert code == 2
    assert f"{f}:22: accidents[0].victims[3].owed: an 'injury' without disability" in err


ADVANCE = """\
policy: {id: P, jurisdiction: CN-FJ-XM, inception_date: 2024-01-01, expiry_date: 2024-12-31}
accidents:
  - id: A
    date: 2024-03-01
    victims:
      - {id: W1, type: employee, outcome: death, determined: false}
      - {id: W2, type: employee, outcome: death, determined: false}
      - {id: W3, type: employee, outcome: death, determined: false}
"""


def test_advance_grade_with_nothing_determined_is_on_the_advance_track(tmp_path, capsys):
    """3 deaths: grade larger (an advance grade). Floor 2024: 10 × 72,880 = 728,800 ->
    730,000; 3 × 730,000 = 2,190,000 payable; nothing determined: advance 0."""
    f = tmp_path / "adv.yaml"
    f.write_text(ADVANCE, encoding="utf-8")
    policy, accidents = load_claims(f)
    (s,) = settle_year(policy, accidents)
    assert (s.grade, s.track, s.total) == ("larger", "advance", 2_190_000.0)
    assert s.payments == {"emergency_advance": 0.0, "advance": 0.0, "balance": 2_190_000.0}
    code, out, _ = run(capsys, "settle", str(f))
    assert code == 0 and "track advance (no loss determined yet: nothing advanced so far)" in out


def test_advance_of_determined_costs_rounds_half_up(tmp_path):
    """Appraisal and legal costs count as determined: (0.01 + 0.02) yuan = 3 fen × 0.5 =
    1.5 fen -> 2 fen half-up; the death is not determined."""
    f = tmp_path / "adv.yaml"
    f.write_text(ADVANCE + "    costs: {appraisal: 0.01, legal: 0.02}\n", encoding="utf-8")
    policy, accidents = load_claims(f)
    (s,) = settle_year(policy, accidents)
    assert s.track == "advance" and s.payments["advance"] == 0.02


# --- messages naming the right thing ------------------------------------------------------

def test_duplicated_column_is_named(tmp_path, capsys):
    lines = PORTFOLIO.read_text("utf-8").splitlines()
    dup = tmp_path / "dup.csv"
    dup.write_text(lines[0] + ",headcount\n" + lines[1] + ",5\n", encoding="utf-8")
    out = tmp_path / "out.csv"
    code, _, err = run(capsys, "portfolio", str(dup), "-o", str(out))
    assert code == 2
    assert f"{dup}: the column 'headcount' appears twice in the header" in err
    assert "headcount.1" not in err and not out.exists()


def test_output_path_errors_name_the_users_path(tmp_path, capsys):
    folder = tmp_path / "out.csv"
    folder.mkdir()
    code, _, err = run(capsys, "portfolio", str(PORTFOLIO), "-o", str(folder))
    assert code == 2 and f"{folder}: is a folder" in err and ".tmp" not in err
    missing = tmp_path / "no" / "out.csv"
    code, _, err = run(capsys, "portfolio", str(PORTFOLIO), "-o", str(missing))
    assert code == 2 and f"{missing}: the folder" in err and ".tmp" not in err
    assert not any(p.name.endswith(".tmp") for p in tmp_path.iterdir())


def test_write_failure_names_the_output_not_the_temporary(tmp_path, monkeypatch):
    from rating import files

    def fail(src, dst):
        raise PermissionError(13, "Permission denied", str(src), None, str(dst))
    monkeypatch.setattr(files.os, "replace", fail)
    dst = tmp_path / "summary.csv"
    with pytest.raises(rating.RatingError, match=rf"^{dst}: cannot write the output: "
                                                 "Permission denied$"):
        files.write_atomically(dst, "x\n")
    out = tmp_path / "rated.csv"
    with pytest.raises(rating.RatingError, match=rf"^{out}: cannot write the output"):
        files.rate_file(PORTFOLIO, out)
    assert list(tmp_path.iterdir()) == []


# --- oversized YAML -----------------------------------------------------------------------

def test_oversized_yaml_refused_before_parsing(tmp_path):
    big = tmp_path / "big.yaml"
    line = "k: 1\n"
    with open(big, "w", encoding="utf-8") as f:
        f.write("# " + "x" * (MAX_BYTES) + "\n" + line)
    with pytest.raises(BookError, match=f"may be at most {MAX_BYTES:,} bytes"):
        load_yaml_file(big)


def test_oversized_yaml_cli_one_line(tmp_path, capsys):
    big = tmp_path / "big.yaml"
    big.write_text("a: " + "1" * (MAX_BYTES + 1) + "\n", encoding="utf-8")
    code, _, err = run(capsys, "quote", "--input", str(big))
    assert code == 2 and f"{big}: the document is {MAX_BYTES + 5:,} bytes" in err


# --- the command line itself --------------------------------------------------------------

def test_usage_error_is_one_line(capsys):
    code, out, err = run(capsys, "quote", "--lang", "xx")
    assert code == 2 and out == ""
    assert err.strip().splitlines() == [
        "rating quote: error: argument --lang: invalid choice: 'xx' (choose from 'zh', 'en') "
        "(see rating quote --help)"]


def test_unknown_option_is_one_line(capsys):
    code, _, err = run(capsys, "quote", "--bogus")
    assert code == 2 and len(err.strip().splitlines()) == 1 and "--bogus" in err


def test_broken_pipe_exits_quietly():
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    with subprocess.Popen([sys.executable, "-m", "rating.cli", "quote", "--example", "--json"],
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env,
                          cwd=ROOT) as proc:
        proc.stdout.close()  # the reader goes away before anything is written
        code = proc.wait(timeout=60)
        assert proc.stderr.read() == b""
    assert code == 141


def test_key_error_is_an_internal_error(capsys, monkeypatch):
    def broken(args):
        return {}["missing"]
    monkeypatch.setattr(cli, "_cmd_books", broken)
    code, _, err = run(capsys, "books")
    assert code == 70
    assert err.startswith("rating: internal error: KeyError: 'missing'")


def test_package_warnings_are_one_line_on_stderr(capsys, monkeypatch):
    def noisy(args):
        for _ in range(2):  # shown once
            warnings.warn_explicit("FrequencyGLM: IRLS did not converge\n in 100 iterations",
                                   RuntimeWarning, "glm.py", 1, module="rating.calibrate.glm")
        warnings.warn_explicit("library noise", FutureWarning, "x.py", 1, module="pandas.core")
        warnings.warn_explicit("invalid value encountered in multiply", RuntimeWarning,
                               "c.py", 1, module="rating.consistency")
        return 0
    monkeypatch.setattr(cli, "_cmd_books", noisy)
    code, _, err = run(capsys, "books")
    assert code == 0
    assert err == "rating: warning: FrequencyGLM: IRLS did not converge in 100 iterations\n"
