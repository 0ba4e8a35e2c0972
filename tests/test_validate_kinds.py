"""`rating validate` knows every kind of file the package reads by its content, and a YAML
syntax error names the line of the mistake and the key path around it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from rating.book import tables_dir
from rating.book.yamlsafe import load_yaml
from rating.cli import EXAMPLE_PROFILE, file_kind, main
from rating.errors import BookError

ROOT = Path(__file__).resolve().parents[1]
BOOK = tables_dir() / "books" / "cn-fj-xm-2022.yaml"

GOOD = {
    # kind: (file, a unique text in it, its replacement that breaks it, key path named)
    "book": (BOOK, "prevention_share_min: 0.2", "prevention_share_min: 1.2",
             "expenses.prevention_share_min"),
    "national": (tables_dir() / "national.yaml", "per_person_floor:  ", "per_person_flor:  ",
                 "per_person_flor"),
    "statistics": (tables_dir() / "statistics" / "income.yaml", "  years: 3", "  years: -1",
                   "projection_limit.years"),
    "scale": (tables_dir() / "scales" / "employers-liability.yaml", "ratios:", "ratio:",
              "ratio"),
    "claims": (ROOT / "examples" / "accident.yaml", "grade: 5", "grade: 11",
               "accidents[0].victims[1].grade"),
    "scenarios": (ROOT / "examples" / "scenarios.yaml", "float_cap: 1.1", "float_cap: -1.1",
                  "scenarios[1].book.float_cap"),
    "calibration": (ROOT / "examples" / "calibration.yaml", "min_claims:", "min_claim:",
                    "min_claim"),
}


def run(capsys, *argv):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def profile_text(**changes) -> str:
    return json.dumps({**EXAMPLE_PROFILE, **changes}, indent=1, ensure_ascii=False)


@pytest.mark.parametrize("kind", list(GOOD))
def test_each_kind_valid_and_invalid(kind, tmp_path, capsys):
    path, old, new, key = GOOD[kind]
    text = path.read_text("utf-8")
    # named so that the name cannot tell the kind: the content does
    good = tmp_path / "a.yaml"
    good.write_text(text, encoding="utf-8")
    code, out, err = run(capsys, "validate", good)
    assert (code, err) == (0, "") and out.startswith(f"OK {kind}: {good}")
    assert text.count(old) == 1
    broken = text.replace(old, new)
    bad = tmp_path / "b.yaml"
    bad.write_text(broken, encoding="utf-8")
    code, out, err = run(capsys, "validate", bad)
    assert code == 2 and out == ""
    line = broken[:broken.index(new) + len(new.split(":")[0])].count("\n") + 1
    assert err.startswith(f"INVALID {kind}: {bad}:")
    assert f"{bad}:" in err and f": {key}: " in err, err
    assert err.count("\n") == 1
    # the line printed is the line of the key (or of the mapping that misses one)
    printed = int(err.split(f"{bad}:")[1].split(":")[0])
    assert abs(printed - line) <= 1, (printed, line, err)


def test_profile_valid_and_invalid(tmp_path, capsys):
    good = tmp_path / "enterprise.json"
    good.write_text(profile_text(), encoding="utf-8")
    code, out, err = run(capsys, "validate", good)
    assert code == 0 and out.startswith(f"OK profile: {good}") and "95,021.94" in out
    bad = tmp_path / "enterprise2.json"
    text = profile_text(scale="tiny")
    bad.write_text(text, encoding="utf-8")
    line = text[:text.index('"scale"')].count("\n") + 1
    code, out, err = run(capsys, "validate", bad)
    assert code == 2
    assert err.startswith(f"INVALID profile: {bad}:{line}: scale: 'tiny' is not a level")
    yaml_profile = tmp_path / "p.yaml"
    text = "\n".join(f"{k}: {v}" for k, v in {**EXAMPLE_PROFILE, "headcount": -3}.items())
    yaml_profile.write_text(text, encoding="utf-8")
    line = text[:text.index("headcount")].count("\n") + 1
    code, out, err = run(capsys, "validate", yaml_profile)
    assert code == 2 and f"{yaml_profile}:{line}: headcount: must not be negative" in err


def test_one_line_per_file_in_order_and_exit_2(tmp_path, capsys):
    bad = tmp_path / "broken.yaml"
    bad.write_text("id: X\nsectors: [unclosed\n", encoding="utf-8")
    files = [BOOK, bad, ROOT / "examples" / "accident.yaml"]
    code, out, err = run(capsys, "validate", *files)
    assert code == 2
    assert out.splitlines() == [
        f"OK book: {BOOK} (CN-FJ-XM-2022, sha256 {out.split('sha256 ')[1][:12]})",
        f"OK claims: {ROOT / 'examples' / 'accident.yaml'} (policy XM-2024-0001, 2 accidents)"]
    assert err.startswith(f"INVALID: {bad}:2: sectors: not valid YAML")


def test_kind_from_content_survives_a_typo_and_unknown_files_are_refused(tmp_path, capsys):
    text = (tables_dir() / "national.yaml").read_text("utf-8").replace(
        "per_person_floor:", "per_person_flor:")
    typo = tmp_path / "book.yaml"  # the name says book; the content says national rules
    typo.write_text(text, encoding="utf-8")
    code, _, err = run(capsys, "validate", typo)
    assert code == 2 and err.startswith(f"INVALID national: {typo}:")
    assert "unknown key 'per_person_flor'" in err
    other = tmp_path / "other.yaml"
    other.write_text("colour: red\nsize: 3\n", encoding="utf-8")
    code, _, err = run(capsys, "validate", other)
    assert code == 2 and f"{other}:1: cannot tell what kind of file this is" in err
    code, out, _ = run(capsys, "validate", "--kind", "book", other)
    assert code == 2 and out == ""
    missing = tmp_path / "nope.yaml"
    code, _, err = run(capsys, "validate", missing)
    assert code == 2 and f"{missing}: cannot read the file" in err


@pytest.mark.parametrize("data, kind", [
    ({"per_person_floor": []}, "national"), ({"series": {}}, "statistics"),
    ({"ratios": []}, "scale"), ({"policy": {}, "accidents": []}, "claims"),
    ({"name": "x"}, "scenarios"), ([{"name": "x"}], "scenarios"),
    ({"scenarios": []}, "scenarios"), ({"id": "x", "loads": {}}, "calibration"),
    ({"id": "x", "sectors": {}}, "book"), ({"headcount": 3, "sector": "x"}, "profile"),
    ({"id": "x", "jurisdiction": "CN", "tiers": {}, "floating": {}}, "book"),
])
def test_file_kind(data, kind):
    assert file_kind(data) == kind


def test_file_kind_refuses_scalars():
    with pytest.raises(BookError, match="cannot tell"):
        file_kind("just text", "f.yaml")


# --------------------------------------------------------------------------------------------
# YAML syntax errors: the line of the mistake and the key path around it


def syntax(text: str) -> BookError:
    with pytest.raises(BookError) as info:
        load_yaml(text, file="f.yaml")
    assert info.value.reason.startswith("not valid YAML")
    return info.value


def test_broken_indentation_names_its_line_and_the_mapping_around_it():
    err = syntax("limits:\n  schedule:\n    rescue: {amount: 1}\n     legal: {amount: 2}\n")
    assert (err.line, err.path) == (4, "limits.schedule")
    assert "line 4 is not indented like the keys of the mapping that starts on line 3" in \
        err.reason
    assert "after key 'rescue'" in err.reason
    assert str(err).startswith("f.yaml:4: limits.schedule: not valid YAML")


def test_dedented_key_names_the_enclosing_mapping():
    err = syntax("sectors:\n  mines:\n    label: x\n   mandatory: true\n")
    assert (err.line, err.path) == (4, "sectors")
    assert "indent" in err.reason and "after key 'mines'" in err.reason


def test_unclosed_bracket_names_the_line_that_opened_it():
    text = "id: X\nsectors:\n  mines:\n    sectors: [mines, quarries\n  roads: 1\n"
    err = syntax(text)
    assert (err.line, err.path) == (4, "sectors.mines.sectors")
    assert "'[' opened on line 4 is not closed" in err.reason


def test_unclosed_brace_and_quote():
    err = syntax("a:\n  b: {x: 1, y: 2\n  c: 3\n")
    assert (err.line, err.path) == (2, "a.b") and "'{' opened on line 2" in err.reason
    err = syntax("a:\n  b: 'open\n  c: 1\n")
    assert (err.line, err.path) == (2, "a.b") and "quote opened on line 2" in err.reason


def test_tab_indentation_is_named():
    err = syntax("a:\n  b: 1\n\tc: 2\n")
    assert err.line == 3 and "indent with spaces" in err.reason


def test_list_items_in_the_path():
    err = syntax("bands:\n  - {lower: 0, factor: 1}\n  - lower: 1\n    factor: [1\n")
    assert (err.line, err.path) == (4, "bands[1].factor")
