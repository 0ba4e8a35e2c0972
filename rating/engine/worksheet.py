"""Worksheets: the steps of one row's premium, as a person would check them by hand."""

from __future__ import annotations

import numpy as np
import pandas as pd

from .premium import Rated, exact_floating

_UNITS = {  # basis -> (zh unit, en unit, en unit of one)
    "persons": ("人", "persons", "person"), "vehicles": ("辆", "vehicles", "vehicle"),
    "vessels": ("艘", "vessels", "vessel"), "capacity_tonnes": ("吨", "tonnes", "tonne"),
    "contract_value": ("元", "yuan", "yuan"), "payroll": ("元", "yuan", "yuan"),
    "revenue": ("元", "yuan", "yuan"),
}

COLUMNS = ["step", "label_zh", "label_en", "table", "input", "factor", "premium"]


def worksheet(rated: Rated, i: int) -> pd.DataFrame:
    """The worksheet of row ``i``.

    Columns: ``step`` (stable key), ``label_zh``, ``label_en``, ``table`` (rate-book key
    path), ``input`` (the value looked up), ``factor`` and ``premium`` (running, yuan).
    The base row's input is the exposure and its factor the base rate per unit of exposure,
    so ``input × factors`` of all rows but the last reproduces the unrounded premium; the last
    row rounds it half-up to the fen.
    """
    book = rated.book
    sector, sub = rated.subsector_keys[rated.subsector_code[i]]
    sub_obj = book.sectors[sector].subsectors[sub]
    unit_zh, unit_en, unit_one = _UNITS[sub_obj.basis]
    money = rated.per_unit[i] != 1
    rate = float(rated.base_rate[i])  # the sub-sector's, or its cell of a rate grid
    rate_en = f"{rate:g}‰" if money else f"{rate:g} yuan/{unit_one}"
    rate_zh = f"{rate:g}‰" if money else f"{rate:g}元/{unit_zh}"
    table = f"sectors.{sector}.subsectors.{sub}." + (
        "base_rate" if sub_obj.rate_grid is None else "rate_grid")
    running = rated.exposure[i] * rated.base_rate[i] / rated.per_unit[i]
    rows = [(
        "base", f"基础保费：{rated.exposure[i]:,.12g}{unit_zh} × {rate_zh}",
        f"base premium: {rated.exposure[i]:,.12g} {unit_en} × {rate_en}",
        table, rated.exposure[i],
        rated.base_rate[i] / rated.per_unit[i], running)]
    for step in rated.steps:
        if not step.applies[i]:
            continue
        factor, shown = step.factor[i], step.shown(i)
        if step.key == "floating":
            factor = float(exact_floating(rated, np.array([i]))[0])
            shown = _floating_summary(rated, i)
        running = running * factor
        rows.append((step.key, step.label.zh, step.label.en, step.table, shown, factor,
                     running))
    final = max(running, rated.minimum[i])
    rows.append(("minimum", "最低保费", "minimum premium",
                 f"sectors.{sector}.subsectors.{sub}.minimum_premium", rated.minimum[i],
                 final / running if running else np.nan, final))
    rows.append(("round", "四舍五入到分", "round half-up to the fen", "", final, np.nan,
                 rated.premium_fen[i] / 100.0))
    return pd.DataFrame(rows, columns=COLUMNS)


def floating_detail(rated: Rated, i: int) -> pd.DataFrame:
    """Each floating-factor table's lookup for row ``i``, with its group's rule and result."""
    book = rated.book
    rows = []
    for m in rated.members:
        group = book.floating_rules.groups[m.group]
        rows.append((m.group, group.rule, m.step.key.rsplit(".", 1)[-1], m.step.label.zh,
                     m.step.label.en, book.floating_rules.groups[m.group].factors[
                         m.step.key.rsplit(".", 1)[-1]].variable, m.step.shown(i),
                     m.step.factor[i], rated.groups[m.group][i]))
    return pd.DataFrame(rows, columns=["group", "rule", "table", "label_zh", "label_en",
                                       "variable", "value", "factor", "group_factor"])


def _floating_summary(rated: Rated, i: int) -> str:
    fl = rated.book.floating_rules
    parts = [f"{g} {rated.groups[g][i]:g}" for g in fl.groups]
    raw = rated.floating_raw[i]
    text = f"{' × '.join(parts) if fl.combine == 'product' else ' + '.join(parts)} = {raw:g}"
    if raw < fl.floor or raw > fl.cap:
        text += f", bounded to [{fl.floor:g}, {fl.cap:g}]"
    return text
