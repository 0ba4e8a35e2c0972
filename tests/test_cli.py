"""The `rating` command: output, exit codes, and one clear line for every bad input."""

import json
import subprocess
import sys

import pytest

from rating.cli import main

XM_WARNING = ("rating: warning: rate book CN-FJ-XM-2022 is illustrative: its rates are "
              "examples, not filed rates\n")
"""The one line on stderr of a command that rates on the shipped (illustrative) book."""


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_quote_example_text(capsys):
    """The example: 120 persons × 600 = 72,000 × limit 1.08 (2026 floor 730,000) × small 1.05
    × flammable_explosive 1.15 × floating (1.10 × 0.92 = 1.012) = 95,021.9424 -> 95,021.94."""
    code, out, err = run(capsys, "quote", "--example")
    assert code == 0 and err == XM_WARNING
    assert "95,021.94" in out and "per-person limit" in out
    code, out, _ = run(capsys, "quote", "--example", "--lang", "zh")
    assert code == 0 and "保费" in out and "浮动费率系数" in out


def test_quote_example_json(capsys):
    """Split of 95,021.94: fund 20% = 19,004.388 -> 19,004.39; commission 3% = 2,850.6582 ->
    2,850.66; net 95,021.94 − 19,004.39 − 2,850.66 = 73,166.89."""
    code, out, _ = run(capsys, "quote", "--example", "--json")
    assert code == 0
    doc = json.loads(out)
    assert doc["premium"] == 95021.94
    assert doc["rate_book"]["id"] == "CN-FJ-XM-2022" and len(doc["rate_book"]["sha256"]) == 64
    assert doc["per_person_limit"] == 730000
    assert doc["split"]["prevention_fund"] == 19004.39
    assert doc["split"]["commission"] == 2850.66
    assert doc["split"]["net"] == 73166.89
    assert [r["step"] for r in doc["worksheet"]][:2] == ["base", "limit"]


def test_quote_flags_override_input_file(tmp_path, capsys):
    """10 persons × 150 × 1.08 × large 0.90 = 1,458.00; with --headcount 20: 2,916.00."""
    f = tmp_path / "p.yaml"
    f.write_text("jurisdiction: CN-FJ-XM\nsector: other\nheadcount: 10\nscale: large\n"
                 "inception_date: 2024-01-01\n", encoding="utf-8")
    code, out, _ = run(capsys, "quote", "--input", str(f), "--json")
    assert code == 0 and json.loads(out)["premium"] == 1458.00
    code, out, _ = run(capsys, "quote", "--input", str(f), "--headcount", "20", "--json")
    assert json.loads(out)["premium"] == 2916.00
    j = tmp_path / "p.json"
    j.write_text(json.dumps({"jurisdiction": "CN-FJ-XM", "sector": "other", "headcount": 10,
                             "scale": "large", "inception_date": "2024-01-01"}))
    code, out, _ = run(capsys, "quote", "--input", str(j), "--json")
    assert code == 0 and json.loads(out)["premium"] == 1458.00


@pytest.mark.parametrize("args, needle", [
    (["--sector", "mining"], "sector: 'mining' is not valid"),
    (["--headcount", "-5"], "headcount: must not be negative"),
    (["--sector", "construction", "--subsector", "building"], "contract_value: is required"),
    (["--inception-date", "2022-02-30"], "inception_date: '2022-02-30' is not a date"),
    (["--commission-rate", "0.06"], "commission_rate: is above the commission cap of 0.05"),
    (["--jurisdiction", "CN-GD"], "no rate book is in force for jurisdiction 'CN-GD'"),
])
def test_bad_input_one_line(capsys, args, needle):
    code, out, err = run(capsys, "quote", "--example", *args)
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and needle in err and "Traceback" not in err


def test_unknown_field_in_file_names_line(tmp_path, capsys):
    f = tmp_path / "p.yaml"
    f.write_text("sector: other\nheadcount: 10\nhead_count: 3\n", encoding="utf-8")
    code, _, err = run(capsys, "quote", "--input", str(f))
    assert code == 2 and f"{f}:3: head_count" in err and "valid fields" in err


@pytest.mark.parametrize("text, needle", [
    ("sector: [unclosed\n", "not valid YAML"),
    ("sector: other\nsector: other\n", "duplicate key 'sector'"),
])
def test_malformed_profile_file(tmp_path, capsys, text, needle):
    f = tmp_path / "p.yaml"
    f.write_text(text, encoding="utf-8")
    code, _, err = run(capsys, "quote", "--input", str(f))
    assert code == 2 and needle in err and str(f) in err


def test_validate_exit_codes(tmp_path, capsys):
    from rating.book import tables_dir
    good = [str(p) for p in sorted(tables_dir().rglob("*.yaml"))]
    code, out, err = run(capsys, "validate", *good)
    assert code == 0 and out.count("OK ") == len(good) >= 3 and err == ""
    assert f"OK book: {tables_dir() / 'books' / 'cn-fj-xm-2022.yaml'}" in out
    bad = tmp_path / "bad.yaml"
    text = (tables_dir() / "books" / "cn-fj-xm-2022.yaml").read_text("utf-8")
    bad.write_text(text.replace("base_rate: 900", "base_rate: -900"), encoding="utf-8")
    line = text.splitlines().index("        base_rate: 900") + 1
    code, out, err = run(capsys, "validate", good[0], str(bad))
    assert code == 2 and out.count("OK ") == 1
    assert f"{bad}:{line}: sectors.non_coal_mines.subsectors.underground.base_rate" in err


def test_books_lists_shipped(capsys):
    code, out, _ = run(capsys, "books")
    assert code == 0 and "CN-FJ-XM-2022" in out and "2022-05-31" in out


def test_console_script_no_traceback():
    proc = subprocess.run([sys.executable, "-m", "rating.cli", "quote", "--example",
                           "--vehicles", "abc"], capture_output=True, text=True)
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr and proc.stderr.startswith("rating: error:")


def test_portfolio_command(tmp_path, capsys):
    """Two rows of other/general, 10 persons, large, 2024: 1,458.00 each, 2,916.00 in all."""
    src = tmp_path / "in.csv"
    src.write_text("id,jurisdiction,sector,headcount,scale,inception_date\n"
                   "a,CN-FJ-XM,other,10,large,2024-01-01\n"
                   "b,CN-FJ-XM,other,10,large,2024-01-01\n", encoding="utf-8")
    dst = tmp_path / "out.csv"
    code, out, err = run(capsys, "portfolio", str(src), "-o", str(dst))
    assert code == 0 and "2 rows rated" in out and "2,916.00" in out
    import pandas as pd
    result = pd.read_csv(dst)
    assert list(result["premium"]) == [1458.0, 1458.0] and list(result["id"]) == ["a", "b"]


def test_portfolio_command_bad_row_leaves_no_output(tmp_path, capsys):
    src = tmp_path / "in.csv"
    src.write_text("jurisdiction,sector,headcount,scale,inception_date\n"
                   "CN-FJ-XM,other,-10,large,2024-01-01\n", encoding="utf-8")
    dst = tmp_path / "out.csv"
    code, out, err = run(capsys, "portfolio", str(src), "-o", str(dst))
    assert code == 2 and "headcount" in err and err.count("\n") == 1
    assert not dst.exists()


def test_dislocation_command(tmp_path, capsys):
    """Same book twice: no policy moves; the total change is 0.00 and the PNG is written."""
    from rating.book import tables_dir
    book = str(tables_dir() / "books" / "cn-fj-xm-2022.yaml")
    src = tmp_path / "in.csv"
    src.write_text("jurisdiction,sector,headcount,scale,inception_date\n"
                   "CN-FJ-XM,other,10,large,2024-01-01\n", encoding="utf-8")
    png = tmp_path / "d.png"
    code, out, err = run(capsys, "dislocation", book, book, str(src), "--plot", str(png))
    assert code == 0 and err == XM_WARNING
    all_line = next(line for line in out.splitlines() if line.startswith("all "))
    assert all_line.split()[1:4] == ["1", "1,458.00", "1,458.00"]
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
