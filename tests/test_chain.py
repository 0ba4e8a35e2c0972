"""The premium chain's three evaluations agree: float within float error of exact decimal,
exact decimal equal to the scalar decimal reference, and the count of decimal places equal
to one made by hand from the decimal literals of the rows' factors (and never below the
places of the exact premium). A step added to the chain is in all three."""

import dataclasses
from decimal import Decimal, localcontext
from functools import reduce

import numpy as np
import pandas as pd
import pytest
from reference import random_profiles, reference_quote

import rating
from rating.engine.premium import rate_frame

BOOK = rating.books()[0]
RULES = [None, ("additive", "additive"), ("lowest", "product"), ("product", "additive")]
"""Floating rules (each group's rule, how groups combine) besides the book's own (None)."""


def _book(rules):
    if rules is None:
        return BOOK
    rule, combine = rules
    groups = {g: dataclasses.replace(grp, rule=rule) for g, grp in BOOK.floating.groups.items()}
    floating = dataclasses.replace(BOOK.floating, groups=groups, combine=combine)
    return dataclasses.replace(BOOK, floating=floating)


def _rated(book, n=1500, seed=11):
    profiles = random_profiles(book, n, seed=seed)
    frame = pd.DataFrame([{k: (";".join(v) if isinstance(v, list) else v) for k, v in p.items()}
                          for p in profiles])
    return profiles, rate_frame(frame, book)


def _literal(x: float) -> Decimal:
    """The decimal literal of a float with exactly its decimal places as exponent (120.0 has
    none, 0.350 two), so that decimal products add places and sums keep the most."""
    d = Decimal(repr(float(x))).normalize()
    return d.quantize(Decimal(1)) if d.as_tuple().exponent > 0 else d


def _places(d: Decimal) -> int:
    return max(-d.as_tuple().exponent, 0)


def _places_by_hand(book, rated, i: int) -> int:
    """Decimal places of row ``i``'s premium, carried through the manual by hand with
    unnormalised decimals: a product adds places, a sum keeps the most; where a row picks one
    of several candidates (highest, lowest, floor or cap), count the most among them."""
    fl = book.floating
    groups = []
    for g, grp in fl.groups.items():
        members = [_literal(m.step.factor[i]) for m in rated.members if m.group == g]
        if grp.rule == "product":
            groups.append(_places(reduce(lambda a, b: a * b, members)))
        elif grp.rule == "additive":
            groups.append(_places(1 + sum(f - 1 for f in members)))
        else:
            groups.append(max(map(_places, members)))
    if fl.combine == "product":
        raw = sum(groups)
    else:
        raw = max(groups)
    floating = max(raw, _places(_literal(fl.floor)), _places(_literal(fl.cap)))
    product = _literal(rated.exposure[i]) * _literal(rated.base_rate[i])
    product *= _literal(1 / rated.per_unit[i])  # 1 or 0.001
    for step in rated.steps:
        if step.key != "floating":
            product *= _literal(step.factor[i])
    return max(_places(product) + floating, _places(_literal(rated.minimum[i])))


@pytest.mark.parametrize("rules", RULES)
def test_exact_evaluation_equals_the_decimal_reference(rules):
    book = _book(rules)
    profiles, rated = _rated(book)
    with localcontext() as ctx:
        ctx.prec = 60  # as rating.money.to_fen evaluates it: no rounding
        got = rated.chain.exact(np.arange(len(profiles)))
    assert [Decimal(v) for v in got] == [reference_quote(p, book)["unrounded"] for p in profiles]


@pytest.mark.parametrize("rules", RULES)
def test_float_evaluation_is_within_float_error_of_exact(rules):
    book = _book(rules)
    profiles, rated = _rated(book)
    before_minimum, final, floating = rated.chain.in_float()
    assert np.array_equal(before_minimum, rated.before_minimum)
    assert np.array_equal(floating.raw, rated.floating_raw)
    want = np.array([float(reference_quote(p, book)["unrounded"]) for p in profiles])
    assert np.all(np.abs(final - want) <= 1e-13 * want)


@pytest.mark.parametrize("rules", RULES)
def test_places_equal_the_count_by_hand_and_bound_the_exact_premium(rules):
    book = _book(rules)
    profiles, rated = _rated(book, seed=12)
    rows = np.random.default_rng(3).permutation(len(profiles))[:600]
    got = rated.chain.places(rows)
    assert list(got) == [_places_by_hand(book, rated, i) for i in rows]
    for i, p in zip(rows, got):
        exact = reference_quote(profiles[i], book)["unrounded"]
        assert exact.scaleb(int(p)) == exact.scaleb(int(p)).to_integral_value()


def test_a_step_added_to_the_chain_is_in_all_three_evaluations():
    profiles, rated = _rated(BOOK, n=400, seed=13)
    chain = rated.chain
    extra = np.random.default_rng(4).choice([1.0, 1.05, 1.125, 1.2345], len(profiles))
    longer = dataclasses.replace(chain, after=(*chain.after, extra))
    rows = np.arange(len(profiles))
    with localcontext() as ctx:
        ctx.prec = 60
        old, new = chain.exact(rows), longer.exact(rows)
    # rows above the minimum premium either way (every extra factor is at least 1)
    above = np.array([v > _literal(m) for v, m in zip(old, chain.minimum)])
    assert np.count_nonzero(above) > len(rows) // 2
    assert np.array_equal(longer.in_float()[0], chain.in_float()[0] * extra)
    assert all(n == o * _literal(e) for n, o, e in zip(new[above], old[above], extra[above]))
    extra_places = np.array([_places(_literal(e)) for e in extra])
    assert np.array_equal(longer.places(rows)[above], (chain.places(rows) + extra_places)[above])
