"""An insurer's own books (issue 11 §2): a library chosen by jurisdiction and date before the
shipped books, RATING_BOOKS, a book's status and final_only, explicit books out of their dates."""

import datetime as dt
import re
import shutil

import pandas as pd
import pytest

import rating
from rating.book import tables_dir
from rating.book.library import BookLibrary, find_edition, library

XM = tables_dir() / "books" / "cn-fj-xm-2022.yaml"

# other/general, 10 persons, large, 2024: 10 × 150 × large 0.972 = 1,458.00 on the shipped
# book; on a copy with base rate 300, twice that
PROFILE = {"jurisdiction": "CN-FJ-XM", "sector": "other", "headcount": 10, "scale": "large",
           "inception_date": "2024-01-01"}
SHIPPED_PREMIUM, LIBRARY_PREMIUM = 1458.0, 2916.0


def edited(text: str, **keys) -> str:
    """The Xiamen book's text with top-level keys replaced (``jurisdiction``, ``id``...) and
    ``base_rate`` of other/general set to ``other_rate``."""
    other_rate = keys.pop("other_rate", None)
    for key, value in keys.items():
        text, n = re.subn(rf"^{key}: .*$", f"{key}: {value}", text, count=1, flags=re.M)
        if n == 0:  # effective_to is not in the shipped book
            text = text.replace("\nstatus:", f"\n{key}: {value}\nstatus:", 1)
    if other_rate is not None:
        head, tail = text.split("\n  other:\n", 1)
        tail = tail.replace("base_rate: 150", f"base_rate: {other_rate}", 1)
        text = head + "\n  other:\n" + tail
    return text


def write_book(folder, name, **keys):
    folder.mkdir(exist_ok=True)
    path = folder / name
    path.write_text(edited(XM.read_text(encoding="utf-8"), **keys), encoding="utf-8")
    return path


@pytest.fixture
def lib(tmp_path):
    """A library with one final Xiamen edition from 2024, other/general at 300."""
    folder = tmp_path / "books"
    write_book(folder, "acme-xm-2024.yaml", id="ACME-XM-2024", status="final",
               effective_from="2024-01-01", other_rate=300)
    return folder


def test_a_copied_and_edited_book_in_a_library_changes_the_quote(lib):
    assert rating.quote(PROFILE).premium == SHIPPED_PREMIUM
    q = rating.quote(PROFILE, books=lib)
    assert q.premium == LIBRARY_PREMIUM and q.rate_book_id == "ACME-XM-2024"
    assert q.rate_book_status == "final"
    library_ = rating.BookLibrary(lib)
    assert [b.id for b in library_.books()] == ["ACME-XM-2024"]
    assert library_.find("CN-FJ-XM", dt.date(2024, 6, 1)).id == "ACME-XM-2024"
    assert rating.quote(PROFILE, books=library_).premium == LIBRARY_PREMIUM
    rated = rating.rate_portfolio(pd.DataFrame([PROFILE, PROFILE]), books=lib)
    assert list(rated["premium"]) == [LIBRARY_PREMIUM] * 2
    assert list(rated["rate_book"]) == ["ACME-XM-2024"] * 2
    assert rated.attrs["rate_books"] == {"ACME-XM-2024": "final"}


def test_rating_books_sets_the_default_library(lib, monkeypatch):
    monkeypatch.setenv("RATING_BOOKS", str(lib))
    assert rating.quote(PROFILE).premium == LIBRARY_PREMIUM
    assert rating.rate_portfolio(pd.DataFrame([PROFILE]))["premium"].iloc[0] == LIBRARY_PREMIUM
    assert find_edition("CN-FJ-XM", "2024-01-01").id == "ACME-XM-2024"
    monkeypatch.setenv("RATING_BOOKS", "")
    assert library() is None and rating.quote(PROFILE).premium == SHIPPED_PREMIUM
    monkeypatch.delenv("RATING_BOOKS")
    assert rating.quote(PROFILE).premium == SHIPPED_PREMIUM


def test_a_library_path_is_read_again_when_a_file_changes(lib):
    assert rating.quote(PROFILE, books=lib).premium == LIBRARY_PREMIUM
    path = lib / "acme-xm-2024.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace("base_rate: 300", "base_rate: 450"),
                    encoding="utf-8")
    assert rating.quote(PROFILE, books=lib).premium == 4374.0  # 10 × 450 × 0.972


def test_precedence_library_first_at_each_jurisdiction_level(tmp_path):
    folder = tmp_path / "books"
    # Xiamen from 2025 only: 2024 risks keep the shipped edition
    write_book(folder, "xm-2025.yaml", id="ACME-XM-2025", status="final",
               effective_from="2025-01-01", other_rate=300)
    # Fujian-wide: never before the shipped Xiamen book for a Xiamen risk, but for Fuzhou
    write_book(folder, "fj.yaml", id="ACME-FJ-2022", jurisdiction="CN-FJ", status="final",
               effective_from="2022-01-01", other_rate=200)
    assert rating.quote(PROFILE, books=folder).rate_book_id == "CN-FJ-XM-2022"
    q = rating.quote(dict(PROFILE, inception_date="2025-03-01"), books=folder)
    assert q.rate_book_id == "ACME-XM-2025"
    fz = rating.quote(dict(PROFILE, jurisdiction="CN-FJ-FZ"), books=folder)
    assert fz.rate_book_id == "ACME-FJ-2022" and fz.premium == 1944.0  # 10 × 200 × 0.972
    with pytest.raises(rating.RatingError, match="CN-FJ-FZ"):
        rating.quote(dict(PROFILE, jurisdiction="CN-FJ-FZ"))  # shipped books only
    frame = pd.DataFrame([PROFILE, dict(PROFILE, inception_date="2025-03-01"),
                          dict(PROFILE, jurisdiction="CN-FJ-FZ")])
    rated = rating.rate_portfolio(frame, books=folder)
    assert list(rated["rate_book"]) == ["CN-FJ-XM-2022", "ACME-XM-2025", "ACME-FJ-2022"]
    assert rated.attrs["rate_books"] == {"CN-FJ-XM-2022": "illustrative",
                                         "ACME-XM-2025": "final", "ACME-FJ-2022": "final"}
    listed = BookLibrary(folder).all_books()  # the other shipped jurisdictions left aside
    assert [b.id for b in listed if b.jurisdiction.startswith("CN-FJ")] == [
        "ACME-FJ-2022", "CN-FJ-XM-2022", "ACME-XM-2025"]


def test_a_library_is_as_strict_as_the_shipped_books(tmp_path):
    folder = tmp_path / "books"
    write_book(folder, "a.yaml", id="ACME-XM-A", effective_from="2024-01-01")
    write_book(folder, "b.yaml", id="ACME-XM-B", effective_from="2025-01-01")
    with pytest.raises(rating.BookError, match="ACME-XM-A.*ACME-XM-B.*overlap"):
        BookLibrary(folder)
    (folder / "b.yaml").unlink()
    write_book(folder, "b.yaml", id="ACME-XM-A", effective_from="2021-01-01",
               effective_to="2023-12-31")
    with pytest.raises(rating.BookError, match="'ACME-XM-A' is used twice"):
        BookLibrary(folder)
    (folder / "b.yaml").unlink()
    write_book(folder, "b.yaml", id="CN-FJ-XM-2022", jurisdiction="CN-FJ")  # a shipped id
    with pytest.raises(rating.BookError, match="shipped book's id"):
        BookLibrary(folder)
    (folder / "b.yaml").write_text("id: [\n", encoding="utf-8")
    with pytest.raises(rating.BookError, match="b.yaml"):
        BookLibrary(folder)
    (folder / "b.yaml").unlink()
    with pytest.raises(rating.BookError, match="overlap"):  # with a shipped copy, as any other
        shutil.copy(XM, folder / "same.yaml")
        BookLibrary(folder)
    (folder / "a.yaml").unlink()
    # the shipped document itself (its id, same sha256) is allowed
    assert [(b.id, b.sha256) for b in BookLibrary(folder).books()] == \
        [("CN-FJ-XM-2022", rating.books()[0].sha256)]
    with pytest.raises(rating.RatingError, match="not a folder"):
        BookLibrary(folder / "a.yaml")


def test_status_is_carried_and_final_only_refuses(lib):
    q = rating.quote(PROFILE)
    assert q.rate_book_status == "illustrative"
    assert q.to_dict()["rate_book"]["status"] == "illustrative"
    assert rating.rate_portfolio(pd.DataFrame([PROFILE])).attrs["rate_books"] == \
        {"CN-FJ-XM-2022": "illustrative"}
    message = "rate book CN-FJ-XM-2022 is illustrative, not final"
    with pytest.raises(rating.RatingError, match=message):
        rating.quote(PROFILE, final_only=True)
    with pytest.raises(rating.RatingError, match=message):
        rating.rate_portfolio(pd.DataFrame([PROFILE]), final_only=True)
    with pytest.raises(rating.RatingError, match=message):
        rating.rate_portfolio(pd.DataFrame([PROFILE]), final_only=True, errors="collect")
    with pytest.raises(rating.RatingError, match=message):
        rating.renew(dict(PROFILE, id="p"), final_only=True)
    # the library's final edition passes
    assert rating.quote(PROFILE, books=lib, final_only=True).rate_book_status == "final"
    draft = lib / "acme-xm-2024.yaml"
    draft.write_text(draft.read_text(encoding="utf-8").replace("status: final", "status: draft"),
                     encoding="utf-8")
    with pytest.raises(rating.RatingError, match="ACME-XM-2024 is draft"):
        rating.quote(PROFILE, books=lib, final_only=True)
    assert rating.quote(PROFILE, books=lib).rate_book_status == "draft"


def test_final_only_default_comes_from_one_place(monkeypatch):
    from rating.book import library as library_module

    monkeypatch.setattr(library_module, "FINAL_ONLY", True)
    with pytest.raises(rating.RatingError, match="illustrative"):
        rating.quote(PROFILE)
    assert rating.quote(PROFILE, final_only=False).premium == SHIPPED_PREMIUM


def test_an_explicit_book_out_of_its_dates_is_refused_unless_any_date(tmp_path):
    book = rating.load_book(XM)
    old = dict(PROFILE, inception_date="2021-03-01")
    with pytest.raises(rating.RatingError, match=r"CN-FJ-XM-2022 is in force 2022-05-31\.\.open; "
                       r"the rating date 2021-03-01 is outside it"):
        rating.quote(old, book=book)
    with pytest.raises(rating.RatingError, match="rating date 2021-03-01"):
        rating.quote(PROFILE, book=XM, date="2021-03-01")
    assert rating.quote(old, book=book, any_date=True).premium > 0
    assert rating.quote(PROFILE, book=book).premium == SHIPPED_PREMIUM  # in force: as before

    closed = write_book(tmp_path, "closed.yaml", id="ACME-XM-OLD", effective_to="2023-12-31")
    with pytest.raises(rating.RatingError, match=r"2022-05-31\.\.2023-12-31; the rating date "
                       r"2024-01-01"):
        rating.quote(PROFILE, book=closed)

    frame = pd.DataFrame([PROFILE, old])
    with pytest.raises(rating.ProfileError, match="row 1: inception_date: rate book "
                       "CN-FJ-XM-2022 is in force 2022-05-31..open; the rating date 2021-03-01"):
        rating.rate_portfolio(frame, book=book)
    rated, bad = rating.rate_portfolio(frame, book=book, errors="collect")
    assert list(rated.index) == [0] and list(bad["row"]) == [1]
    assert list(bad["field"]) == ["inception_date"]
    with pytest.raises(rating.RatingError, match="rating date 2021-03-01"):
        rating.rate_portfolio(frame, book=book, date="2021-03-01")
    assert len(rating.rate_portfolio(frame, book=book, any_date=True)) == 2


def test_many_out_of_date_days_share_one_message_after_twenty():
    days = pd.date_range("2020-01-01", periods=30).strftime("%Y-%m-%d")
    frame = pd.DataFrame([dict(PROFILE, inception_date=d) for d in days])
    _, bad = rating.rate_portfolio(frame, book=XM, errors="collect")
    assert len(bad) == 30 and bad["reason"].nunique() == 21
    assert "a rating date is outside it" in bad["reason"].iloc[-1]


def test_renewals_scenarios_files_settlement_and_dislocation_take_books(lib, tmp_path):
    from rating.calibrate import dislocation
    from rating.files import rate_file
    from rating.scenarios import rate_scenarios, run_scenarios
    from rating.settlement import PolicySpec, make_policy

    renewal = rating.renew(dict(PROFILE, id="p"), books=lib)
    assert renewal.previous.rate_book_id == renewal.quote.rate_book_id == "ACME-XM-2024"
    policies = pd.DataFrame([dict(PROFILE, id="p")])
    renewed = rating.renew_portfolio(policies, None, books=lib)
    assert renewed["premium_before"].iloc[0] == LIBRARY_PREMIUM

    scenario = {"name": "up", "book": {"base_rate": {"all": 1.1}}}
    per_policy = rate_scenarios(policies, [scenario], books=lib)
    assert list(per_policy["premium"]) == [LIBRARY_PREMIUM, 3207.6]
    assert per_policy.attrs["rate_books"] == {"ACME-XM-2024": "final"}
    summary = run_scenarios(policies, [scenario], books=lib, by=[])
    assert list(summary["premium"]) == [LIBRARY_PREMIUM, 3207.6]
    with pytest.raises(rating.RatingError, match="illustrative"):
        rate_scenarios(policies, [scenario], final_only=True)
    assert len(rate_scenarios(policies, [scenario], books=lib, final_only=True)) == 2

    src, dst = tmp_path / "in.csv", tmp_path / "out.csv"
    policies.to_csv(src, index=False)
    done = rate_file(src, dst, books=lib)
    assert done.premium_total_fen == LIBRARY_PREMIUM * 100
    assert done.rate_books == {"ACME-XM-2024": "final"}
    with pytest.raises(rating.RatingError, match="illustrative"):
        rate_file(src, dst, final_only=True)

    spec = PolicySpec(id="c", jurisdiction="CN-FJ-XM", inception_date=dt.date(2024, 1, 1),
                      expiry_date=dt.date(2024, 12, 31))
    assert make_policy(spec, books=lib).book.id == "ACME-XM-2024"
    assert make_policy(spec).book.id == "CN-FJ-XM-2022"
    with pytest.raises(rating.RatingError, match="illustrative"):
        make_policy(spec, final_only=True)

    report = dislocation("CN-FJ-XM-2022", "ACME-XM-2024", policies, books=lib)
    assert report.rows["new_premium"].iloc[0] == LIBRARY_PREMIUM
    assert report.rows["old_premium"].iloc[0] == SHIPPED_PREMIUM
