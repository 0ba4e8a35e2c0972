"""Choosing the edition in force: the most specific jurisdiction wins, dates inclusive."""

import copy
import datetime as dt

import pytest
import yaml

import rating
from rating.book import tables_dir


@pytest.fixture(scope="module")
def raw():
    return yaml.safe_load((tables_dir() / "books" / "cn-fj-xm-2022.yaml").read_text("utf-8"))


def edition(raw, book_id, jurisdiction, start, end=None):
    doc = copy.deepcopy(raw)
    doc.update(id=book_id, jurisdiction=jurisdiction, effective_from=start, effective_to=end)
    return rating.load_book(doc)


def test_most_specific_jurisdiction_wins(raw):
    national = edition(raw, "CN", "CN", dt.date(2018, 1, 1))
    fujian = edition(raw, "FJ", "CN-FJ", dt.date(2021, 1, 1))
    xiamen_old = edition(raw, "XM1", "CN-FJ-XM", dt.date(2022, 5, 31), dt.date(2024, 12, 31))
    xiamen_new = edition(raw, "XM2", "CN-FJ-XM", dt.date(2025, 1, 1))
    pool = [national, fujian, xiamen_old, xiamen_new]
    find = lambda j, d: rating.find_book(j, d, candidates=pool).id  # noqa: E731
    assert find("CN-FJ-XM", dt.date(2024, 12, 31)) == "XM1"   # last day inclusive
    assert find("CN-FJ-XM", dt.date(2025, 1, 1)) == "XM2"
    assert find("CN-FJ-XM", dt.date(2022, 5, 30)) == "FJ"     # before Xiamen's first edition
    assert find("CN-FJ-FZ", dt.date(2023, 1, 1)) == "FJ"      # Fuzhou: no book of its own
    assert find("CN-GD-SZ", dt.date(2023, 1, 1)) == "CN"
    assert find("CN-FJ", dt.date(2020, 6, 1)) == "CN"


def test_no_edition_in_force_is_a_clear_error(raw):
    pool = [edition(raw, "XM1", "CN-FJ-XM", dt.date(2022, 5, 31))]
    with pytest.raises(rating.RatingError, match=r"no rate book is in force.*CN-FJ-XM.*2022-05-30"):
        rating.find_book("CN-FJ-XM", dt.date(2022, 5, 30), candidates=pool)


def test_quote_uses_shipped_edition_and_rejects_foreign_book(raw):
    profile = {"jurisdiction": "CN-GD", "sector": "other", "headcount": 10, "scale": "large",
               "inception_date": "2024-01-01"}
    with pytest.raises(rating.ProfileError, match="outside the rate book's jurisdiction"):
        rating.quote(profile, book=rating.books()[0])
