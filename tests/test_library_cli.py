"""The command line with an insurer's library (issue 11 §2): --books on every command that rates,
RATING_BOOKS, the status warning and --final-only, --any-date, `rating books`, `rating diff`."""

import json
from pathlib import Path

import pandas as pd
import pytest
from test_library import PROFILE, XM, edited, write_book

import rating
from rating.cli import main

# the repository's examples: tables_dir() is inside site-packages once installed
EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
WARNING = ("rating: warning: rate book CN-FJ-XM-2022 is illustrative: its rates are examples, "
           "not filed rates\n")


def run(capsys, *argv):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def lib(tmp_path):
    folder = tmp_path / "books"
    write_book(folder, "acme-xm-2024.yaml", id="ACME-XM-2024", status="final",
               effective_from="2024-01-01", other_rate=300)
    return folder


@pytest.fixture
def portfolio(tmp_path):
    src = tmp_path / "in.csv"
    pd.DataFrame([dict(PROFILE, id="a"), dict(PROFILE, id="b")]).to_csv(src, index=False)
    return src


FLAGS = ["--jurisdiction", "CN-FJ-XM", "--sector", "other", "--headcount", "10", "--scale",
         "large", "--inception-date", "2024-01-01"]


def test_quote_books_and_the_status_warning(lib, capsys):
    code, out, err = run(capsys, "quote", *FLAGS)
    assert code == 0 and "premium: 1,458.00" in out and err == WARNING
    code, out, err = run(capsys, "quote", *FLAGS, "--books", lib, "--json")
    doc = json.loads(out)
    assert code == 0 and err == "" and doc["premium"] == 2916.0
    assert doc["rate_book"]["id"] == "ACME-XM-2024" and doc["rate_book"]["status"] == "final"
    code, out, err = run(capsys, "quote", *FLAGS, "--books", lib, "--final-only")
    assert code == 0 and "premium: 2,916.00" in out


def test_rating_books_environment_variable(lib, capsys, monkeypatch):
    monkeypatch.setenv("RATING_BOOKS", str(lib))
    code, out, _ = run(capsys, "quote", *FLAGS)
    assert code == 0 and "ACME-XM-2024" in out and "premium: 2,916.00" in out
    code, out, _ = run(capsys, "books", "--json")
    assert [b["id"] for b in json.loads(out) if b["jurisdiction"] == "CN-FJ-XM"] == [
        "CN-FJ-XM-2022", "ACME-XM-2024"]


def test_final_only_refuses_the_illustrative_example(capsys):
    code, out, err = run(capsys, "quote", "--example", "--final-only")
    assert code == 2 and out == ""
    assert err == ("rating: error: rate book CN-FJ-XM-2022 is illustrative, not final; "
                   "final_only (--final-only) refuses it\n")


def test_explicit_book_out_of_its_dates_exits_2_and_any_date_prices_it(capsys):
    old = ["quote", "--example", "--book", XM, "--inception-date", "2021-03-01"]
    code, out, err = run(capsys, *old)
    assert code == 2 and out == ""
    assert err == ("rating: error: rate book CN-FJ-XM-2022 is in force 2022-05-31..open; the "
                   "rating date 2021-03-01 is outside it (any_date=True or --any-date prices on "
                   "it anyway)\n")
    code, out, err = run(capsys, *old, "--any-date")
    assert code == 0 and "premium:" in out and err == WARNING
    code, _, err = run(capsys, "limits", "--jurisdiction", "CN-FJ-XM", "--date", "2021-03-01",
                       "--book", XM)
    assert code == 2 and "2022-05-31..open" in err


def test_portfolio_books_and_out_of_dates(lib, portfolio, tmp_path, capsys):
    dst = tmp_path / "out.csv"
    code, out, err = run(capsys, "portfolio", portfolio, "-o", dst, "--books", lib)
    assert code == 0 and "5,832.00" in out and err == ""
    assert list(pd.read_csv(dst)["rate_book"]) == ["ACME-XM-2024"] * 2
    code, out, err = run(capsys, "portfolio", portfolio, "-o", dst)
    assert code == 0 and "2,916.00" in out and err == WARNING
    code, _, err = run(capsys, "portfolio", portfolio, "-o", dst, "--final-only")
    assert code == 2 and "CN-FJ-XM-2022 is illustrative" in err
    code, _, err = run(capsys, "portfolio", portfolio, "-o", dst, "--book", XM,
                       "--date", "2021-03-01")
    assert code == 2 and "rating date 2021-03-01 is outside it" in err
    code, out, _ = run(capsys, "portfolio", portfolio, "-o", dst, "--book", XM,
                       "--date", "2021-03-01", "--any-date")
    assert code == 0 and "2 rows rated" in out


def test_limits_books(lib, capsys):
    args = ["limits", "--jurisdiction", "CN-FJ-XM", "--date", "2024-06-01", "--json"]
    code, out, err = run(capsys, *args, "--books", lib)
    assert code == 0 and json.loads(out)["rate_book"]["id"] == "ACME-XM-2024" and err == ""
    code, out, err = run(capsys, *args)
    assert code == 0 and json.loads(out)["rate_book"]["id"] == "CN-FJ-XM-2022"
    assert err == WARNING


def test_settle_books(lib, capsys):
    claims = EXAMPLES / "accident.yaml"
    code, out, err = run(capsys, "settle", claims, "--final-only")
    assert code == 2 and "CN-FJ-XM-2022 is illustrative" in err
    code, out, err = run(capsys, "settle", claims, "--books", lib, "--final-only")
    assert code == 0 and out.startswith("policy ") and err == ""


def test_scenarios_books(lib, portfolio, tmp_path, capsys):
    spec = tmp_path / "s.yaml"
    spec.write_text("name: up\nbook:\n  base_rate:\n    all: 1.1\n", encoding="utf-8")
    dst = tmp_path / "summary.csv"
    code, out, err = run(capsys, "scenarios", portfolio, spec, "-o", dst, "--by", "",
                         "--books", lib)
    assert code == 0 and "baseline: premium 5,832.00" in out and err == ""
    code, out, err = run(capsys, "scenarios", portfolio, spec, "-o", dst, "--by", "")
    assert code == 0 and "baseline: premium 2,916.00" in out and err == WARNING


def test_dislocation_with_book_ids_from_a_library(lib, portfolio, capsys):
    code, out, err = run(capsys, "dislocation", "CN-FJ-XM-2022", "ACME-XM-2024", portfolio,
                         "--books", lib)
    assert code == 0 and err == WARNING
    assert "CN-FJ-XM-2022 -> ACME-XM-2024" in out
    all_line = next(line for line in out.splitlines() if line.startswith("all "))
    assert all_line.split()[1:4] == ["2", "2,916.00", "5,832.00"]
    code, _, err = run(capsys, "dislocation", "CN-FJ-XM-2022", "ACME-XM-2024", portfolio)
    assert code == 2 and "'ACME-XM-2024' is neither a rate book file nor the id" in err


def test_calibrate_base_from_a_library(lib, tmp_path, capsys):
    examples = EXAMPLES
    out_book = tmp_path / "new.yaml"
    code, out, err = run(capsys, "calibrate", examples / "experience", "--base", "ACME-XM-2024",
                         "--books", lib, "--config", examples / "calibration-small.yaml",
                         "-o", out_book, "--final-only")
    assert code == 0 and out_book.exists(), err
    assert "rate book ACME" not in err


def test_books_lists_origin(lib, capsys):
    code, out, _ = run(capsys, "books", "--books", lib, "--json")
    listed = {b["id"]: b["origin"] for b in json.loads(out)}
    shipped = {b.id for b in rating.books()}
    assert code == 0
    assert listed == {**{i: "shipped" for i in shipped},
                      "ACME-XM-2024": str((lib / "acme-xm-2024.yaml").resolve())}
    code, out, _ = run(capsys, "books", "--books", lib)
    assert code == 0 and "[shipped]" in out and "acme-xm-2024.yaml]" in out
    code, out, _ = run(capsys, "books", "--json")
    assert {b["origin"] for b in json.loads(out)} == {"shipped"}


def test_diff_lists_exactly_the_changed_values(tmp_path, capsys):
    text = XM.read_text(encoding="utf-8")
    new = tmp_path / "new.yaml"
    # two values: other/general's base rate and its minimum premium
    changed = edited(text, other_rate=165)
    head, tail = changed.split("\n  other:\n", 1)
    new.write_text(head + "\n  other:\n" + tail.replace("minimum_premium: 500",
                                                        "minimum_premium: 600", 1),
                   encoding="utf-8")
    code, out, err = run(capsys, "diff", XM, new)
    assert code == 1 and err == ""
    assert out.splitlines() == [
        "CN-FJ-XM-2022 -> CN-FJ-XM-2022: 2 differences",
        "  sectors.other.subsectors.general.base_rate: 150 -> 165",
        "  sectors.other.subsectors.general.minimum_premium: 500 -> 600",
    ]
    code, out, _ = run(capsys, "diff", "CN-FJ-XM-2022", new, "--json")
    doc = json.loads(out)
    assert code == 1 and doc["old"]["origin"] == "shipped"
    assert doc["changes"] == [
        {"path": "sectors.other.subsectors.general.base_rate", "change": "changed",
         "old": 150, "new": 165},
        {"path": "sectors.other.subsectors.general.minimum_premium", "change": "changed",
         "old": 500, "new": 600},
    ]
    code, out, _ = run(capsys, "diff", XM, "CN-FJ-XM-2022")
    assert code == 0 and out == "CN-FJ-XM-2022 -> CN-FJ-XM-2022: no differences\n"
    code, _, err = run(capsys, "diff", XM, tmp_path / "missing.yaml")
    assert code == 2 and "missing.yaml" in err


def test_diff_added_and_removed_keys():
    from rating.book.diff import diff_data

    changes = diff_data({"a": {"b": 1, "c": [1, 2]}, "gone": True},
                        {"a": {"b": 1.0, "c": [1, 3, 4]}, "new": {"x": 1}})
    assert [str(c) for c in changes] == [
        "a.c[1]: 2 -> 3", "a.c[2]: added 4", "gone: removed true", 'new: added {"x": 1}']
