"""Hand-worked reference quotes on the shipped Xiamen book, one per exposure basis.

Each docstring carries the arithmetic done by hand from the rate book's printed values
(tables/books/cn-fj-xm-2022.yaml) and the statistics files; the test checks the engine against
that figure, not against a previous run.

Limit floors used below (rate book: 10 × Xiamen urban income of the prior year, rounded up to
10,000; national floor 300,000 before 2025-03-29, 400,000 from then on):
- 2022 policies: 2021 income not in the statistics; latest earlier is 2018 = 54,401
  -> 544,010 -> 550,000 (provisional); limit factor band [500k, 600k) = 1.00
- 2023 policies: 2022 income 70,467 -> 704,670 -> 710,000; band [600k, 800k) = 1.08
- 2024 policies: 2023 income 72,880 -> 728,800 -> 730,000; band [600k, 800k) = 1.08
- 2025/2026 policies: 2024/2025 income missing, 2023 used (provisional) -> 730,000
"""

import pytest

import rating

XM = "CN-FJ-XM"


def q(**profile):
    return rating.quote({"jurisdiction": XM, **profile})


def test_persons_basis_hazardous_chemicals():
    """120 persons × 600 yuan = 72,000.00
    × limit 1.00 (floor 550,000) × scale small 1.05 × product toxic 1.10 × enterprise general 1
    × floating: accidents (highest of grade 'general' 1.10, deaths 0 -> 1.00) = 1.10,
      management (lowest of grade_2 0.92, honour none 1.00) = 0.92 -> 1.10 × 0.92 = 1.012
    = 72,000 × 1.05 × 1.10 × 1.012 = 84,157.92; term 12 months 1.00; minimum 3,000 not binding.
    Prevention fund 20% of 84,157.92 = 16,831.584 -> 16,831.58; commission 0;
    net 84,157.92 − 16,831.58 = 67,326.34.
    """
    res = q(sector="hazardous_chemicals", subsector="production", headcount=120,
            scale="small", product="toxic", inception_date="2022-07-01",
            accidents_general=1, standardisation_grade="grade_2")
    assert res.premium == 84157.92
    assert res.per_person_limit == 550000
    assert res.floor.provisional and res.floor.income_year == 2018
    assert (res.split.prevention_fund, res.split.commission, res.split.net) == (
        16831.58, 0.0, 67326.34)


def test_contract_value_basis_construction_project_term():
    """12,345,678.90 yuan × 0.9‰ = 11,111.11101
    × limit 1.08 (2023 floor 710,000) × project_type subway 1.5 × band (5m, 30m] 1.07
    = 19,259.999824734 -> 19,260.00; project term: factor 1 whatever the length.
    """
    res = q(sector="construction", subsector="building", contract_value=12345678.90,
            project_type="subway", inception_date="2023-03-01", expiry_date="2025-08-31")
    assert res.premium == 19260.00
    assert res.per_person_limit == 710000


def test_vehicles_basis_with_deaths():
    """25 vehicles × 900 = 22,500 × limit 1.08 (2025 floor 730,000: max(400,000,
    10 × 72,880 = 728,800) rounded up) × fleet band [10, 50) 1.00 × floating: deaths 2 in
    band [1, 3) 1.10 = 26,730.00. Commission 5% (the 2025 cap) = 1,336.50; prevention
    20% = 5,346.00; net 26,730 − 5,346 − 1,336.50 = 20,047.50.
    """
    res = q(sector="road_transport", subsector="freight", vehicles=25,
            inception_date="2025-06-01", deaths=2, commission_rate=0.05)
    assert res.premium == 26730.00
    assert res.floor.amount == 730000 and res.floor.binding == "income"
    assert (res.split.prevention_fund, res.split.commission, res.split.net) == (
        5346.00, 1336.50, 20047.50)


def test_vessels_basis_short_term():
    """3 vessels × 8,000 = 24,000 × limit 1,000,000 in band [1m, 1.5m) 1.35
    × term 2024-05-01..2024-09-30 = 5 months -> short-term scale 0.50 = 16,200.00.
    """
    res = q(sector="water_transport", subsector="passenger", vessels=3,
            per_person_limit=1000000, inception_date="2024-05-01", expiry_date="2024-09-30")
    assert res.premium == 16200.00
    row = res.worksheet.set_index("step").loc["term"]
    assert row["factor"] == 0.5 and row["input"] == "5 months"


def test_capacity_basis_with_hazard_and_discounts():
    """200,000 t × 0.6 = 120,000 × limit 1.08 × scale medium 1.00 × mode mechanised 0.90
    × floating: hazards (1 unrectified) 1.15 × management lowest(grade_1 0.90,
      provincial 0.90) 0.90 × claims (3 claim-free years) 0.90 = 0.9315
    = 120,000 × 1.08 × 0.90 × 0.9315 = 108,650.16.
    """
    res = q(sector="non_coal_mines", subsector="open_pit", capacity_tonnes=200000,
            scale="medium", production_mode="mechanised", inception_date="2023-01-01",
            major_hazards_unrectified=1, standardisation_grade="grade_1",
            honour="provincial", claim_free_years=3)
    assert res.premium == 108650.16


def test_payroll_basis_floating_cap_binds():
    """80,000,000 payroll × 1.5‰ = 120,000 × limit 1.08 = 129,600
    × floating: accidents (larger) 1.20 × credit (blacklisted) 1.20 = 1.44, capped at 1.30
    = 168,480.00.
    """
    res = q(sector="urban_rail", payroll=80_000_000, inception_date="2023-07-01",
            accidents_larger=1, blacklisted=True)
    assert res.premium == 168480.00
    assert res.worksheet.set_index("step").loc["floating", "factor"] == 1.3


def test_revenue_basis_with_extension():
    """5,000,000 revenue × 0.3‰ = 1,500 × limit 1.08 × scale micro 1.15 × product
    flammable_explosive 1.15 × enterprise major_hazard_installation 1.20
    × occupational-disease loading 1.10 = 2,828.034 -> 2,828.03.
    """
    res = q(sector="hazardous_chemicals", subsector="trading", revenue=5_000_000,
            scale="micro", product="flammable_explosive",
            enterprise_type="major_hazard_installation", inception_date="2023-07-01",
            extensions=["occupational_disease"])
    assert res.premium == 2828.03


def test_minimum_premium_binds():
    """1 person × 300 = 300 × limit 1.08 × scale micro 1.15 = 372.60 < minimum 500
    -> 500.00."""
    res = q(sector="fireworks", subsector="retail", headcount=1, scale="micro",
            inception_date="2023-07-01")
    assert res.premium == 500.00
    ws = res.worksheet.set_index("step")
    assert ws.loc["minimum", "premium"] == 500.0
    assert ws.loc["minimum", "factor"] == pytest.approx(500 / 372.6)


def test_single_subsector_sector_needs_no_subsector():
    """Urban rail has one sub-sector; 'other' too: 10 persons × 150 × 1.08 × scale
    large 0.90 = 1,458.00."""
    res = q(sector="other", headcount=10, scale="large", inception_date="2024-01-01")
    assert res.subsector == "general"
    assert res.premium == 1458.00


def test_worksheet_reconciles_with_premium():
    """The base row's input × every factor but the rounding row = the unrounded premium,
    and its half-up rounding = the premium."""
    res = q(sector="hazardous_chemicals", subsector="storage", headcount=37, scale="small",
            product="corrosive", inception_date="2024-03-15", expiry_date="2024-10-14",
            accidents_general=2, honour="city", extensions=["third_party_higher_limit"])
    ws = res.worksheet
    product = ws["input"].iloc[0]
    for f in ws["factor"].iloc[:-1]:
        product *= f
    assert product == pytest.approx(ws["premium"].iloc[-2], rel=1e-12)
    assert round(ws["premium"].iloc[-2] + 1e-9, 2) == res.premium
    assert list(ws["step"].iloc[[0, -2, -1]]) == ["base", "minimum", "round"]


def test_quote_records_book_identity():
    res = q(sector="other", headcount=10, scale="large", inception_date="2024-01-01")
    book = rating.find_book(XM, __import__("datetime").date(2024, 1, 1))
    assert res.rate_book_id == book.id == "CN-FJ-XM-2022"
    assert res.rate_book_sha256 == book.sha256 and len(book.sha256) == 64
