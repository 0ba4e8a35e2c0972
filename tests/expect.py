"""Warnings the tests expect, asserted precisely rather than silenced.

``pytest`` runs with every warning as an error (pyproject's ``filterwarnings``); a test that
triggers a warning on purpose says which, with these helpers or ``pytest.warns``.
"""

from __future__ import annotations

import re
from contextlib import contextmanager

import pandas as pd
import pytest

NO_CLAIMS = re.compile(r"FrequencyGLM: rating_unit='([^']+)' has no claims")


def units_without_claims(policy_years: pd.DataFrame, claims: pd.DataFrame) -> set[str]:
    """Rating units with exposure in the experience and not one claim, found by hand."""
    exposed = policy_years.loc[policy_years["exposure"] > 0]
    key = exposed.set_index(["policy_id", "year"])["rating_unit"].astype(str)
    claimed = pd.MultiIndex.from_arrays([claims["policy_id"], claims["year"]])
    with_claims = set(key.reindex(claimed).dropna())
    return set(key) - with_claims


@contextmanager
def warns_units_without_claims(policy_years: pd.DataFrame, claims: pd.DataFrame):
    """The frequency GLM warns, once per fit, for each rating unit of this experience that has
    no claim (its relativity is not estimable), and only for those: small synthetic
    experience leaves a few rare units without claims, which the GLM rightly reports."""
    expected = units_without_claims(policy_years, claims)
    assert expected, "the experience has a claim in every unit: the test lost its point"
    with pytest.warns(RuntimeWarning, match="has no claims") as record:
        yield
    messages = [str(w.message) for w in record]
    warned = {m.group(1) for m in map(NO_CLAIMS.search, messages) if m}
    assert warned == expected, messages


def levels_without_claims(policy_years: pd.DataFrame, claims: pd.DataFrame,
                          scopes: dict) -> dict[str, set[str]]:
    """Per column, the levels seen on policy-years with exposure > 0 (in the sectors of
    ``scopes[column]``, all when None) without one claim there, counted by hand."""
    rows = policy_years.loc[policy_years["exposure"] > 0]
    per_row = claims.groupby(["policy_id", "year"]).size()
    n = per_row.reindex(pd.MultiIndex.from_frame(rows[["policy_id", "year"]]),
                        fill_value=0).to_numpy()
    sector = rows["rating_unit"].astype(str).str.split(".").str[0]
    out = {}
    for column, sectors in scopes.items():
        inside = rows[column].notna() & (sector.isin(sectors) if sectors else True)
        counts = pd.Series(n[inside.to_numpy()]).groupby(
            rows.loc[inside, column].astype(str).to_numpy()).sum()
        out[column] = {str(lv) for lv, c in counts.items() if c == 0}
    return out


def calibration_lists(note: str) -> dict[str, dict[str, set[str]]]:
    """The calibration source note's lists: ``{"without claims": {factor: levels},
    "aliased": {factor: levels}}`` (empty when the note has none)."""
    out = {}
    for key, head in (("without claims", "a tier level its factor): "),
                      ("aliased", "which keep their factors: ")):
        out[key] = {}
        if head not in note:
            continue
        text = note.split(head, 1)[1].split("; levels the experience", 1)[0]
        text = text.split("; loads:", 1)[0]
        for part in text.split("; "):
            name, _, levels = part.partition(" ")
            if name.startswith("policy-years"):
                continue
            out[key][name] = set(levels.split(", "))
    return out
