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
