"""The enterprise-profile fields: the names a quote accepts and a portfolio's columns.

One registry serves the profile validator, the rate-book validator (a factor table may only key
on a field listed here, with the right kind) and the documentation.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from ..errors import ProfileError

Kind = Literal["text", "category", "number", "count", "flag", "date", "list"]


@dataclass(frozen=True)
class FieldSpec:
    """One profile field.

    Attributes
    ----------
    kind : str
        ``category`` (a level key), ``number`` (finite, >= 0), ``count`` (whole number >= 0),
        ``flag`` (true/false), ``date`` (YYYY-MM-DD), ``text`` or ``list`` (of keys).
    zh, en : str
        Labels.
    unit : str
        Unit of numeric fields (yuan, persons ...), empty otherwise.
    """

    kind: Kind
    zh: str
    en: str
    unit: str = ""


EXPOSURE_FIELDS: dict[str, str] = {
    # exposure basis -> profile field that carries the exposure
    "persons": "headcount",
    "contract_value": "contract_value",
    "vehicles": "vehicles",
    "vessels": "vessels",
    "capacity_tonnes": "capacity_tonnes",
    "payroll": "payroll",
    "revenue": "revenue",
}

ACCIDENT_GRADES = ("general", "larger", "major", "especially_major")
"""State Council accident grades (一般, 较大, 重大, 特别重大), least to most severe."""

FIELDS: dict[str, FieldSpec] = {
    "id": FieldSpec("text", "编号", "identifier"),
    "jurisdiction": FieldSpec("text", "地区", "jurisdiction"),
    "inception_date": FieldSpec("date", "保险起期", "inception date"),
    "expiry_date": FieldSpec("date", "保险止期", "expiry date"),
    "sector": FieldSpec("category", "行业领域", "sector"),
    "subsector": FieldSpec("category", "细分行业", "sub-sector"),
    # exposures
    "headcount": FieldSpec("count", "从业人员数（含劳务派遣）", "employees incl. dispatched",
                           "persons"),
    "contract_value": FieldSpec("number", "工程合同造价", "contract value", "yuan"),
    "vehicles": FieldSpec("count", "车辆数", "vehicles", "vehicles"),
    "vessels": FieldSpec("count", "船舶数", "vessels", "vessels"),
    "capacity_tonnes": FieldSpec("number", "核定产能", "approved capacity", "tonnes"),
    "payroll": FieldSpec("number", "工资总额", "payroll", "yuan"),
    "revenue": FieldSpec("number", "营业收入", "revenue", "yuan"),
    # tier (分级费率) inputs
    "scale": FieldSpec("category", "生产规模", "scale"),
    "enterprise_type": FieldSpec("category", "企业类型", "enterprise type"),
    "production_mode": FieldSpec("category", "生产方式", "production mode"),
    "product": FieldSpec("category", "产品", "product"),
    "project_type": FieldSpec("category", "工程类别", "project type"),
    # safety record (浮动费率) inputs, for the policy year before the one being rated
    "accidents_general": FieldSpec("count", "一般事故起数", "general accidents", "accidents"),
    "accidents_larger": FieldSpec("count", "较大事故起数", "larger accidents", "accidents"),
    "accidents_major": FieldSpec("count", "重大事故起数", "major accidents", "accidents"),
    "accidents_especially_major": FieldSpec(
        "count", "特别重大事故起数", "especially major accidents", "accidents"),
    "deaths": FieldSpec("count", "事故死亡人数", "accident deaths", "persons"),
    "major_hazards_unrectified": FieldSpec(
        "count", "重大事故隐患拒不整改数", "unrectified major hazards", "hazards"),
    "standardisation_grade": FieldSpec("category", "安全生产标准化等级",
                                       "safety standardisation grade"),
    "honour": FieldSpec("category", "安全生产荣誉", "safety honour"),
    "blacklisted": FieldSpec("flag", "联合惩戒黑名单", "on the joint-sanction blacklist"),
    "claim_free_years": FieldSpec("count", "连续无赔款年数", "claim-free years", "years"),
    "loss_ratio": FieldSpec("number", "上年赔付率", "prior loss ratio"),
    # cover and distribution
    "per_person_limit": FieldSpec("number", "每人死亡伤残责任限额",
                                  "per-person death/disability limit", "yuan"),
    "limit_medical_per_person": FieldSpec("number", "每人医疗费用限额", "medical limit per person",
                                          "yuan"),
    "limit_third_party_per_person": FieldSpec("number", "第三者每人伤亡限额",
                                              "third-party limit per person", "yuan"),
    "limit_third_party_property": FieldSpec("number", "第三者财产损失每次事故限额",
                                            "third-party property limit per accident", "yuan"),
    "limit_rescue": FieldSpec("number", "抢险救援费用限额", "rescue cost limit", "yuan"),
    "limit_medical_aid": FieldSpec("number", "医疗救护费用限额", "medical aid cost limit", "yuan"),
    "limit_appraisal": FieldSpec("number", "事故鉴定费用限额", "accident appraisal cost limit",
                                 "yuan"),
    "limit_legal": FieldSpec("number", "法律诉讼费用限额", "legal cost limit", "yuan"),
    "limit_per_accident": FieldSpec("number", "每次事故责任限额", "per-accident limit", "yuan"),
    "limit_aggregate": FieldSpec("number", "累计责任限额", "annual aggregate limit", "yuan"),
    "extensions": FieldSpec("list", "附加险", "coverage extensions"),
    "commission_rate": FieldSpec("number", "佣金比例", "commission rate"),
    "insurer": FieldSpec("text", "承保机构", "insurer"),
    "coinsurance": FieldSpec("text", "共保体份额", "co-insurance shares (insurer:share;...)"),
    "broker": FieldSpec("text", "保险经纪机构", "broker"),
    "prevention_share": FieldSpec("number", "事故预防费用比例", "prevention fund share"),
    "risk_discount": FieldSpec("number", "风险管理水平调整（折扣比例）",
                               "risk-management discount (share of the premium)"),
}

DERIVED: dict[str, FieldSpec] = {
    "worst_accident_grade": FieldSpec(
        "category", "最严重事故等级", "worst accident grade"),
}
"""Variables computed from the profile that factor tables may key on.

``worst_accident_grade`` is ``none`` or the most severe grade with a non-zero count among the
``accidents_*`` fields.
"""

ADVERSE = frozenset({"accidents_general", "accidents_larger", "accidents_major",
                     "accidents_especially_major", "deaths", "major_hazards_unrectified",
                     "worst_accident_grade"})
"""Variables for which a worse record must never lower the premium (validated in books)."""

FAVOURABLE = frozenset({"claim_free_years"})
"""Variables for which a better record must never raise the premium (validated in books)."""

CLEAN_RECORD = frozenset({"accidents_general", "accidents_larger", "accidents_major",
                          "accidents_especially_major", "deaths", "major_hazards_unrectified",
                          "claim_free_years"})
"""Counts of the safety record that are 0 when a profile leaves them out."""

WORST_GRADE_LEVELS = ("none",) + ACCIDENT_GRADES


NOT_KEYABLE = frozenset({"id", "jurisdiction", "inception_date", "expiry_date", "sector",
                         "insurer", "coinsurance", "broker",
                         "subsector", "extensions", "per_person_limit", "commission_rate",
                         "prevention_share", "risk_discount"}
                        | {n for n in FIELDS if n.startswith("limit_")})
"""Fields that select the book, sub-sector, term, limit factor or split: no table keys on them."""


def variable_kind(name: str) -> Kind | None:
    """The kind of a variable a factor table may key on, or None if it may not key on it."""
    spec = FIELDS.get(name) or DERIVED.get(name)
    return spec.kind if spec and name not in NOT_KEYABLE else None


def grid_variable_kind(name: str) -> Kind | None:
    """The kind of a variable a rate grid may key on: what a factor table may, and the limits
    chosen (a published grid prices the per-person and aggregate limits itself)."""
    if name == "per_person_limit" or name.startswith("limit_"):
        return FIELDS[name].kind if name in FIELDS else None
    return variable_kind(name)


def check_known(names: Iterable[object]) -> None:
    """Raise ProfileError for the first name that is not a profile field or comes twice."""
    seen = set()
    for name in names:
        if name not in FIELDS:
            raise ProfileError(str(name), "unknown field; valid fields: " + ", ".join(FIELDS))
        if name in seen:
            raise ProfileError(str(name), "appears twice; give each field once")
        seen.add(name)
