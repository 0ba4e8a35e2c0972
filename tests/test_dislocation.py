"""Dislocation: premium changes of a portfolio from an old rate book to a new one."""

import copy
import sys

import numpy as np
import pandas as pd
import pytest
import yaml

import rating
from rating.book import tables_dir
from rating.calibrate.dislocation import SUMMARY_COLUMNS, Dislocation, dislocation
from rating.synthetic import synthetic_portfolio

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def shipped_doc():
    with open(tables_dir() / "books" / "cn-fj-xm-2022.yaml", encoding="utf-8") as fh:
        return yaml.safe_load(fh)


@pytest.fixture(scope="module")
def old():
    return rating.books()[0]


@pytest.fixture(scope="module")
def new(shipped_doc):
    """The shipped book with construction base rates × 1.10 (building 0.9‰ -> 0.99‰,
    municipal 1.0‰ -> 1.1‰; written as literals, 0.9 × 1.1 in float is 0.9900000000000001)
    and the ``small`` scale factor cut from 1.05 to 0.98."""
    doc = copy.deepcopy(shipped_doc)
    doc["id"] = "CN-FJ-XM-TEST"
    doc["sectors"]["construction"]["subsectors"]["building"]["base_rate"] = 0.99
    doc["sectors"]["construction"]["subsectors"]["municipal"]["base_rate"] = 1.1
    doc["tiers"]["scale"]["levels"]["small"]["factor"] = 0.98
    return rating.load_book(doc)


BASE = {"jurisdiction": "CN-FJ-XM", "inception_date": "2024-03-01"}


@pytest.fixture(scope="module")
def hand():
    """Seven policies rated in 2024: per-person limit 730,000 (the floor), limit factor 1.08.

    A  other, 10 persons, large: 10 × 150 × 1.08 × 0.90 = 1,458.00 on both books.
    B  other, 10 persons, small: old 10 × 150 × 1.08 × 1.05 = 1,701.00;
       new × 0.98 instead = 1,587.60; change −113.40 (−6.67%).
    C  other, 3 persons, small: old 3 × 150 × 1.08 × 1.05 = 510.30; new 476.28 is below the
       minimum premium 500, so 500.00; change −10.30 (−2.02%).
    D  construction building, 12,345,678.90, value band 5m-30m (1.07):
       old 12,345,678.90 × 0.9‰ × 1.08 × 1.07 = 12,839.999883... -> 12,840.00;
       new × 0.99‰ instead = 14,123.99987... -> 14,124.00; change +1,284.00 (+10% exactly).
    E  construction building, 900,000, band up to 5m (1.13): old 900,000 × 0.9‰ × 1.08 ×
       1.13 = 988.524, below the minimum 1,000: 1,000.00; new 900,000 × 0.99‰ × 1.08 × 1.13
       = 1,087.3764 -> 1,087.38; change +87.38 (+8.738%).
    F  construction municipal, 500,000: old 500,000 × 1.0‰ × 1.08 × 1.13 = 610.20, new
       × 1.1‰ = 671.22: the minimum 1,000.00 binds on both; change 0.
    G  road transport freight, 20 vehicles: 20 × 900 × 1.08 × 1.0 (fleet 10-50)
       = 19,440.00 on both.

    Totals: other 3,669.30 -> 3,545.60 (−123.70); construction 14,840.00 -> 16,211.38
    (+1,371.38); road transport 19,440.00 unchanged; all 37,949.30 -> 39,196.98
    (+1,247.68, +3.2878%).
    """
    rows = [dict(BASE, sector="other", headcount=10, scale="large"),
            dict(BASE, sector="other", headcount=10, scale="small"),
            dict(BASE, sector="other", headcount=3, scale="small"),
            dict(BASE, sector="construction", subsector="building", contract_value=12345678.90),
            dict(BASE, sector="construction", subsector="building", contract_value=900000),
            dict(BASE, sector="construction", subsector="municipal", contract_value=500000),
            dict(BASE, sector="road_transport", subsector="freight", vehicles=20)]
    return pd.DataFrame(rows, index=pd.Index(list("ABCDEFG"), name="policy"))


@pytest.fixture(scope="module")
def hand_result(old, new, hand):
    return dislocation(old, new, hand)


def test_rows_by_hand(hand_result, hand):
    rows = hand_result.rows
    assert list(rows.index) == list(hand.index)
    assert list(rows["sector"]) == ["other"] * 3 + ["construction"] * 3 + ["road_transport"]
    assert list(rows["subsector"]) == ["general"] * 3 + ["building"] * 2 + ["municipal",
                                                                             "freight"]
    assert list(rows["old_premium"]) == [1458.00, 1701.00, 510.30, 12840.00, 1000.00, 1000.00,
                                         19440.00]
    assert list(rows["new_premium"]) == [1458.00, 1587.60, 500.00, 14124.00, 1087.38, 1000.00,
                                         19440.00]
    assert list(rows["change"]) == [0, -113.40, -10.30, 1284.00, 87.38, 0, 0]
    expected = [0, 1587.60 / 1701 - 1, 500 / 510.30 - 1, 0.1, 0.08738, 0, 0]
    np.testing.assert_allclose(rows["ratio"], expected, rtol=0, atol=1e-12)


def test_by_sector_and_overall_totals(hand_result):
    by = hand_result.by_sector
    assert list(by.columns) == SUMMARY_COLUMNS
    assert list(by.index) == ["road_transport", "construction", "other"]  # rate-book order
    assert list(by["policies"]) == [1, 3, 3]
    assert list(by["old_premium"]) == [19440.00, 14840.00, 3669.30]
    assert list(by["new_premium"]) == [19440.00, 16211.38, 3545.60]
    assert list(by["change"]) == [0.00, 1371.38, -123.70]
    assert list(by["share_up"]) == [0, 2 / 3, 0]
    assert list(by["share_down"]) == [0, 0, 2 / 3]

    overall = hand_result.overall
    assert list(overall.index) == ["all"] and list(overall.columns) == SUMMARY_COLUMNS
    r = overall.iloc[0]
    assert r.policies == 7
    assert (r.old_premium, r.new_premium, r.change) == (37949.30, 39196.98, 1247.68)
    assert r.change_pct == pytest.approx(124768 / 3794930 * 100, rel=1e-12)
    # % changes sorted: −6.667, −2.018, 0, 0, 0, 8.738, 10
    assert r.median_pct == 0
    assert r.mean_pct == pytest.approx((-11340 / 1701 - 1030 / 510.30 + 10 + 8.738) / 7)
    assert r.p95_pct == pytest.approx(8.738 + 0.7 * (10 - 8.738))  # linear, position 5.7
    assert (r.share_up, r.share_unchanged, r.share_down) == (2 / 7, 3 / 7, 2 / 7)


def test_histogram_bins_exact_at_edges(hand_result):
    """D rises by exactly 10% (14,124.00 / 12,840.00); new/old − 1 in float is
    0.10000000000000009, which would put it in (+10%, +20%]: bins are decided in fen."""
    hist = hand_result.histogram
    assert list(hist.index) == ["≤ -20%", "(-20%, -10%]", "(-10%, -5%]", "(-5%, 0%)", "0%",
                                "(0%, +5%]", "(+5%, +10%]", "(+10%, +20%]", "> +20%"]
    assert list(hist["policies"]) == [0, 0, 1, 1, 3, 0, 2, 0, 0]
    assert hist["policies"].sum() == 7 and hist["share"].sum() == pytest.approx(1)
    assert hist.loc["(+5%, +10%]", ["lower_pct", "upper_pct"]].tolist() == [5, 10]


def test_custom_bins_and_bad_bins(old, new, hand):
    hist = dislocation(old, new, hand, bins=[0, 10]).histogram
    assert list(hist.index) == ["< 0%", "0%", "(0%, +10%]", "> +10%"]
    assert list(hist["policies"]) == [2, 3, 2, 0]
    for bad in ([5, 10], [0, -5], [], [0, float("nan")]):
        with pytest.raises(rating.RatingError, match="bins"):
            dislocation(old, new, hand, bins=bad)


def test_identical_books_give_zero_change(old):
    portfolio = synthetic_portfolio(1500, seed=5)
    d = dislocation(old, old, portfolio)
    assert len(d.rows) == 1500 and (d.rows["change"] == 0).all() and (d.rows["ratio"] == 0).all()
    assert (d.by_sector["change"] == 0).all() and (d.by_sector["share_unchanged"] == 1).all()
    r = d.overall.iloc[0]
    assert r.change == 0 and r.change_pct == 0 and r.median_pct == 0 and r.p95_pct == 0
    assert d.histogram.loc["0%", "policies"] == 1500 == d.histogram["policies"].sum()


def test_synthetic_sums_exact_in_fen(old, new):
    """Sector totals add up to the overall total to the fen, and both equal the sums of the
    rows' fen; histogram counts sum to the policy count."""
    portfolio = synthetic_portfolio(3000, seed=11)
    d = dislocation(old, new, portfolio)
    fen = {c: np.rint(d.rows[c] * 100).astype(np.int64)
           for c in ("old_premium", "new_premium", "change")}
    overall = d.overall.iloc[0]
    for c, values in fen.items():
        assert round(overall[c] * 100) == values.sum()
        assert np.rint(d.by_sector[c] * 100).astype(np.int64).sum() == values.sum()
    assert (fen["new_premium"] - fen["old_premium"] == fen["change"]).all()
    assert d.by_sector["policies"].sum() == overall.policies == 3000
    assert d.histogram["policies"].sum() == 3000
    # construction moved up by about 10% (fen rounding either side), small scale down
    assert d.by_sector.loc["construction", "change_pct"] == pytest.approx(10, abs=0.01)
    assert d.by_sector.loc["road_transport", "change"] == 0


def test_collect_drops_rows_bad_under_either_book(shipped_doc, old, hand):
    """A ``tiny`` scale only the new book has, ``micro`` only the old one has, and a negative
    headcount bad under both: those three rows are left out and reported."""
    doc = copy.deepcopy(shipped_doc)
    levels = doc["tiers"]["scale"]["levels"]
    levels["tiny"] = {"label": {"zh": "极小", "en": "tiny"}, "factor": 1.2}
    del levels["micro"]
    other = rating.load_book(doc)
    extra = pd.DataFrame([dict(BASE, sector="other", headcount=5, scale="tiny"),
                          dict(BASE, sector="other", headcount=5, scale="micro"),
                          dict(BASE, sector="other", headcount=-5, scale="large")],
                         index=pd.Index(["X", "A", "Z"], name="policy"))  # "A" twice
    frame = pd.concat([hand, extra])
    d = dislocation(old, other, frame, errors="collect")
    assert list(d.rows.index) == list("ABCDEFG")
    assert d.overall.iloc[0].policies == 7 == d.histogram["policies"].sum()
    problems = d.problems
    assert list(problems.columns) == ["row", "field", "reason", "book"]
    assert list(problems["row"]) == ["X", "A", "Z"]
    assert list(problems["field"]) == ["scale", "scale", "headcount"]
    assert list(problems["book"]) == ["old", "new", "both"]
    assert "left out" in d.to_text()

    with pytest.raises(rating.ProfileError, match="under the old book CN-FJ-XM-2022") as info:
        dislocation(old, other, frame)
    assert info.value.row == "X" and info.value.field == "scale"
    with pytest.raises(rating.ProfileError, match="under the new book"):
        dislocation(old, other, frame.drop(index=["X", "Z"]))


def test_explicit_books_and_rating_date(old, new, hand):
    """Books may be given as files; ``date`` rates every row on 2022-07-01, when the floor
    was 550,000 (limit factor 1.00): row A is 10 × 150 × 0.90 = 1,350.00 on both."""
    d = dislocation(old.origin, new, hand, date="2022-07-01")
    assert d.old_book == "CN-FJ-XM-2022" and d.new_book == "CN-FJ-XM-TEST"
    assert d.date.isoformat() == "2022-07-01"
    assert d.rows.loc["A", ["old_premium", "new_premium"]].tolist() == [1350.00, 1350.00]


def test_to_text(hand_result):
    en = hand_result.to_text()
    assert "CN-FJ-XM-2022 -> CN-FJ-XM-TEST, 7 policies" in en
    assert "+1,247.68" in en and "+1,371.38" in en and "-123.70" in en
    assert "other sectors (voluntary)" in en and "(+5%, +10%]" in en
    zh = hand_result.to_text("zh")
    assert "建筑施工" in zh and "合计" in zh and "保单数" in zh


def test_plot_writes_png(hand_result, tmp_path):
    path = hand_result.plot(tmp_path / "dislocation.png")
    assert path == tmp_path / "dislocation.png"
    data = path.read_bytes()
    assert data[:8] == PNG_SIGNATURE and len(data) > 5000
    assert list(tmp_path.iterdir()) == [path]  # no temporary file left behind


def test_figure_is_the_histogram(hand_result):
    """One bar per histogram bin, its height the bin's policy count; nothing is shown."""
    fig = hand_result.figure()
    heights = [bar.get_height() for bar in fig.axes[0].containers[0]]
    assert heights == list(hand_result.histogram["policies"])


def test_plot_without_matplotlib(hand_result, tmp_path, monkeypatch):
    # None in sys.modules makes the import fail as if the package were absent
    monkeypatch.setitem(sys.modules, "matplotlib.figure", None)
    with pytest.raises(rating.RatingError, match="matplotlib"):
        hand_result.plot(tmp_path / "x.png")
    assert not (tmp_path / "x.png").exists()


def test_result_is_frozen(hand_result):
    assert isinstance(hand_result, Dislocation)
    with pytest.raises(AttributeError):
        hand_result.old_book = "x"
