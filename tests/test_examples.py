"""The README's commands run as written on the shipped examples, and give the right numbers.

The block of commands under ``<!-- shipped-examples -->`` in README.md is read from the README
itself and each line is run with ``python -m rating.cli`` (this checkout's package) in a
temporary directory holding copies of ``examples/`` and ``tables/``, so outputs land there.
The values checked are computed independently: premiums with the Decimal reference of
tests/reference.py, experience totals by hand from the CSV files, limits and shares from
the claim file.
"""

from __future__ import annotations

import csv
import dataclasses
import importlib.util
import os
import re
import shlex
import shutil
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pandas as pd
import pytest
import yaml
from expect import calibration_lists, levels_without_claims
from reference import reference_quote

import rating

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"
BOOK = rating.books()[0]
INTEGER_FIELDS = {"accidents_general", "accidents_larger", "accidents_major",
                  "accidents_especially_major", "deaths", "major_hazards_unrectified",
                  "claim_free_years"}


def readme_commands() -> dict[str, list[str]]:
    """The shipped-examples block of README.md: subcommand -> the command's words."""
    text = (ROOT / "README.md").read_text("utf-8")
    block = re.search(r"<!-- shipped-examples -->\n```sh\n(.*?)```", text, re.S)
    assert block, "README.md has no shipped-examples block"
    words = [shlex.split(line) for line in block.group(1).splitlines() if line.strip()]
    assert all(w[0] == "rating" for w in words), words
    return {w[1]: w for w in words}


COMMANDS = readme_commands()


def test_the_readme_block_names_the_shipped_examples():
    assert sorted(COMMANDS) == ["calibrate", "portfolio", "scenarios", "settle"]
    for words in COMMANDS.values():
        for word in words:
            if word.startswith(("examples/", "tables/")):
                assert (ROOT / word).exists(), word


@pytest.fixture(scope="module")
def workdir(tmp_path_factory) -> Path:
    """A directory laid out like the repository root for the examples' relative paths."""
    path = tmp_path_factory.mktemp("readme")
    shutil.copytree(EXAMPLES, path / "examples")
    shutil.copytree(ROOT / "tables", path / "tables")
    return path


def run(command: str, workdir: Path) -> str:
    """Run the README's ``rating <command> ...`` line in ``workdir``; return its stdout."""
    words = COMMANDS[command]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, "-m", "rating.cli", *words[1:]], cwd=workdir,
                          env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    # the one warning: every example rates on the shipped book, which is illustrative
    assert done.stderr == ("rating: warning: rate book CN-FJ-XM-2022 is illustrative: its rates "
                           "are examples, not filed rates\n"), done.stderr
    return done.stdout


def output_of(command: str, workdir: Path) -> Path:
    words = COMMANDS[command]
    return workdir / words[words.index("-o") + 1]


def portfolio_profiles() -> list[dict]:
    """examples/portfolio.csv as profiles for the reference: blanks left out, numbers as
    numbers, extensions as lists."""
    out = []
    with open(EXAMPLES / "portfolio.csv", encoding="utf-8", newline="") as f:
        for row in csv.DictReader(f):
            p = {}
            for key, value in row.items():
                if value == "" or key in ("id", "coinsurance"):
                    continue
                if key == "extensions":
                    p[key] = value.split(";")
                elif key == "blacklisted":
                    p[key] = {"True": True, "False": False}[value]
                elif key in INTEGER_FIELDS:
                    p[key] = int(float(value))
                else:
                    try:
                        p[key] = float(value)
                    except ValueError:
                        p[key] = value
            out.append(p)
    return out


def fen(x) -> int:
    return int((Decimal(str(x)) * 100).to_integral_value())


def yuan(amount_fen: int) -> str:
    return f"{Decimal(amount_fen) / 100:,.2f}"


# --- rating portfolio ----------------------------------------------------------------------


def test_portfolio_command_rates_every_row_like_the_reference(workdir):
    stdout = run("portfolio", workdir)
    profiles = portfolio_profiles()
    expected = [fen(reference_quote(p, BOOK)["premium"]) for p in profiles]
    rated = pd.read_csv(output_of("portfolio", workdir))
    assert len(rated) == len(profiles) == 12
    assert [fen(x) for x in rated["premium"]] == expected
    assert stdout.startswith(f"12 rows rated, premium {yuan(sum(expected))} CNY")


# --- rating settle -------------------------------------------------------------------------


def test_settle_command_caps_the_first_accident_and_splits_by_share(workdir):
    """The first accident's claims exceed the per-accident limit of the claim file, so it
    pays exactly that limit, split between the insurers by their shares."""
    stdout = run("settle", workdir)
    claim = yaml.safe_load((EXAMPLES / "accident.yaml").read_text("utf-8"))
    policy, first = claim["policy"], claim["accidents"][0]
    cap = fen(policy["limits"]["per_accident"])
    claimed = sum(fen(v.get("owed", 0)) + fen(v.get("medical", 0)) for v in first["victims"])
    assert claimed > cap
    header = f"accident {first['id']} {first['date']} (grade general): {yuan(cap)} CNY"
    assert header in stdout
    section = stdout.split(header, 1)[1].split("\naccident ", 1)[0]
    shares = "  " + ", ".join(f"{c['insurer']} {yuan(round(cap * c['share']))}"
                              for c in policy["coinsurance"])
    assert shares in section.splitlines()
    assert len(re.findall(r"^accident ", stdout, re.M)) == len(claim["accidents"])


# --- rating calibrate ----------------------------------------------------------------------


def test_calibrate_command_writes_a_valid_book_from_the_shipped_experience(workdir):
    stdout = run("calibrate", workdir)
    out = output_of("calibrate", workdir)
    config = yaml.safe_load((EXAMPLES / "calibration-small.yaml").read_text("utf-8"))
    new = rating.load_book(out)
    assert new.id == config["id"] == "CN-FJ-XM-2027-EXAMPLE"
    assert new.effective_from == config["effective_from"]
    assert list(new.sectors) == list(BOOK.sectors)
    changed = [line for line in out.read_text("utf-8").splitlines()
               if line.startswith("#   ")]
    assert changed and re.match(
        rf"{re.escape(str(out.name))}: {new.id}, {len(changed)} values changed, "
        rf"sha256 {new.sha256[:12]}; pure risk loss rates -> ", stdout)
    # only base rates and the two refitted tables move
    paths = [line.split(":")[0].strip("# ") for line in changed]
    assert all(p.endswith(".base_rate") or p.startswith(
        ("tiers.scale.", "floating.groups.management.factors.standardisation.")) for p in paths)

    # the indication's exposure, claims and losses per rating unit, summed by hand
    policy_years = pd.read_csv(workdir / "examples/experience/policy_years.csv")
    claims = pd.read_csv(workdir / "examples/experience/claims.csv")
    unit = policy_years.set_index(["policy_id", "year"])["rating_unit"]
    claims["unit"] = unit.reindex(pd.MultiIndex.from_frame(claims[["policy_id", "year"]])).values
    incurred = claims[[c for c in claims if c.startswith("paid_")] + ["reserved"]].sum(axis=1)
    indication = pd.read_csv(out.with_suffix(".indication.csv"), index_col="rating_unit")
    exposure = policy_years.groupby("rating_unit")["exposure"].sum()
    assert sorted(indication.index) == sorted(exposure.index)
    assert indication["exposure"].to_numpy() == pytest.approx(
        exposure.reindex(indication.index).to_numpy(), rel=1e-12)
    counts = claims.groupby("unit").size().reindex(indication.index, fill_value=0)
    assert indication["claims"].tolist() == counts.tolist()
    assert indication["claims"].sum() == len(claims) > 0
    losses = incurred.groupby(claims["unit"]).sum().reindex(indication.index, fill_value=0)
    assert indication["losses"].to_numpy() == pytest.approx(losses.to_numpy(), rel=1e-12)
    loads = config["loads"]
    margin = 1 - (loads["prevention_share"] + loads["commission"] + loads["variable_expense"]
                  + loads["profit_load"])
    assert indication["gross_rate"].to_numpy() == pytest.approx(
        (indication["pure_rate"] / margin).to_numpy(), rel=1e-12)


def test_calibrate_command_leaves_levels_without_claims_out_of_the_tier_fit(workdir):
    """The shipped experience has rating units and tier levels without a claim, and a scale
    level whose only claim is a unit's only claim (nested in it). The rule of
    rating.calibrate.rebook leaves the first out of the GLMs and keeps the second's factor,
    so the command warns of none of them (stderr empty, as ``run`` asserts; no warning is
    expected from this data), and the provenance lists exactly the levels found here by
    hand. Levels with fewer than min_claims claims keep their factors."""
    run("calibrate", workdir)
    out = output_of("calibrate", workdir)
    config = yaml.safe_load((EXAMPLES / "calibration-small.yaml").read_text("utf-8"))
    new = rating.load_book(out)
    policy_years = pd.read_csv(EXAMPLES / "experience/policy_years.csv")
    claims = pd.read_csv(EXAMPLES / "experience/claims.csv")
    scale, grade = BOOK.tiers["scale"], BOOK.floating.groups["management"].factors[
        "standardisation"]
    expected = levels_without_claims(policy_years, claims, {
        "rating_unit": None, "scale": scale.sectors, "standardisation_grade": grade.sectors})
    assert expected["rating_unit"] and expected["standardisation_grade"]  # the rule applies
    listed = calibration_lists(new.sources["calibration"].note)
    assert listed["without claims"] == {k: v for k, v in expected.items() if v}
    # nested by hand: a tier level whose claims are exactly one unit's claims
    rows = claims.merge(policy_years, on=["policy_id", "year"])
    nested = {}
    for column in ("scale", "standardisation_grade"):
        for level, part in rows[rows[column].notna()].groupby(column):
            for unit in set(part["rating_unit"]):
                if set(part["claim_id"]) == set(rows.loc[rows["rating_unit"] == unit,
                                                           "claim_id"]):
                    nested.setdefault(column, set()).add(level)
    assert nested == listed["aliased"] == {"scale": {"micro"}}
    # claims per level by hand (in the table's sectors): below min_claims, the factor stays
    sector = rows["rating_unit"].str.split(".").str[0]
    moved = 0
    for column, old, now in (("scale", scale, new.tiers["scale"]),
                             ("standardisation_grade", grade, new.floating.groups[
                                 "management"].factors["standardisation"])):
        inside = rows[column].notna() & (sector.isin(old.sectors) if old.sectors else True)
        counts = rows.loc[inside, column].value_counts()
        for level, spec in old.levels.items():
            if counts.get(level, 0) < config["min_claims"] or level in listed["aliased"].get(
                    column, ()):
                assert now.levels[level].factor == spec.factor, (column, level)
            moved += now.levels[level].factor != spec.factor
    assert moved  # the example still refits something


def test_make_experience_regenerates_the_shipped_folder_byte_for_byte(tmp_path):
    spec = importlib.util.spec_from_file_location("make_experience",
                                                  EXAMPLES / "make_experience.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    written = module.write(tmp_path)
    assert [p.name for p in written] == ["policy_years.csv", "claims.csv"]
    assert sorted(p.name for p in (EXAMPLES / "experience").iterdir()) == sorted(
        p.name for p in written)
    for path in written:
        assert path.read_bytes() == (EXAMPLES / "experience" / path.name).read_bytes(), path.name
    # small, as the README and the config say: 637 policy-years, 62 claims
    assert len(pd.read_csv(written[0])) == 637 and len(pd.read_csv(written[1])) == 62
    assert sum(p.stat().st_size for p in written) < 300_000


# --- rating scenarios ----------------------------------------------------------------------


def _with(book, *, floating=None, base_rate=None):
    """The book with a float band or a sector's base rates scaled, for the reference."""
    if floating is not None:
        book = dataclasses.replace(book, floating=dataclasses.replace(book.floating, **floating))
    if base_rate is not None:
        sectors = dict(book.sectors)
        for sector, scale in base_rate.items():
            sec = sectors[sector]
            subs = {k: dataclasses.replace(s, base_rate=s.base_rate * scale)
                    for k, s in sec.subsectors.items()}
            sectors[sector] = dataclasses.replace(sec, subsectors=subs)
        book = dataclasses.replace(book, sectors=sectors)
    return book


def test_scenarios_command_summarises_each_scenario_like_the_reference(workdir):
    stdout = run("scenarios", workdir)
    spec = yaml.safe_load((EXAMPLES / "scenarios.yaml").read_text("utf-8"))["scenarios"]
    names = ["baseline", *[s["name"] for s in spec]]
    assert names == ["baseline", "road_transport_up", "band", "next_year"]
    summary = pd.read_csv(output_of("scenarios", workdir))
    profiles = portfolio_profiles()
    sectors = sorted({p["sector"] for p in profiles})
    # one row per scenario and sector (the default --by), policies counted per sector
    assert summary["scenario"].unique().tolist() == names
    for name in names:
        rows = summary[summary["scenario"] == name].set_index("sector")
        assert sorted(rows.index) == sectors
        assert rows["policies"].sum() == len(profiles)
    totals = {name: sum(fen(x) for x in summary.loc[summary["scenario"] == name, "premium"])
              for name in names}

    def reference_total(book):
        return sum(fen(reference_quote(p, book)["premium"]) for p in profiles)

    assert totals["baseline"] == reference_total(BOOK)
    books = {s["name"]: s["book"] for s in spec if "book" in s}
    road = _with(BOOK, base_rate=books["road_transport_up"]["base_rate"])
    assert totals["road_transport_up"] == reference_total(road) > totals["baseline"]
    band = _with(BOOK, floating={"floor": books["band"]["float_floor"],
                                 "cap": books["band"]["float_cap"]})
    assert totals["band"] == reference_total(band) != totals["baseline"]
    # the stdout line of each scenario: its total and change against the baseline
    for name in names:
        change = totals[name] / totals["baseline"] - 1
        assert f"{name}: premium {yuan(totals[name])} CNY ({change:+.2%})," in stdout
    # next year: the floors follow income up, so the average per-person limit rises
    limits = summary.groupby("scenario", sort=False).apply(
        lambda g: (g["avg_per_person_limit"] * g["policies"]).sum() / g["policies"].sum(),
        include_groups=False)
    assert limits["next_year"] > limits["baseline"] == limits["band"]
    # the band's 25% minimum prevention share raises the policies that state less
    stated_below = sum(p.get("prevention_share", 0.2) < books["band"]["prevention_share"]
                       for p in profiles)
    raised = summary.loc[summary["scenario"] == "band", "prevention_shares_raised"].sum()
    assert raised == stated_below > 0
