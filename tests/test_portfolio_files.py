"""Rating portfolio files: chunking, formats, atomic output, collected problems, progress.

Hand-worked premiums (CN-FJ-XM-2022, inception 2024-01-01: the per-person floor 730,000 gives
the limit factor 1.08):

- A  other, large, 10 persons:                10 × 150 × 1.08 × 0.90          =  1,458.00
- B  hazardous chemicals storage, toxic, large, 10 persons:
                                              10 × 500 × 1.08 × 0.90 × 1.10   =  5,346.00
- C  fishery, marine fishing, 5 persons:       5 × 1,200 × 1.08               =  6,480.00
- D  as A, 3 claim-free years:                 1,458.00 × 0.90                =  1,312.20
- E  road freight, 5 vehicles (fleet < 10):    5 × 900 × 1.08 × 1.10          =  5,346.00
- F  building works, contract 10,000,000:      10,000,000 × 0.9‰ × 1.08 × 1.07 = 10,400.40
- G  as A, blacklisted:                        1,458.00 × 1.20                =  1,749.60
"""

from __future__ import annotations

import io
import os
from decimal import Decimal

import pandas as pd
import pytest

pa = pytest.importorskip("pyarrow")
import pyarrow.parquet as pq  # noqa: E402

from rating import ProfileError, RatingError, rate_portfolio  # noqa: E402
from rating.files import RATED_PREFIX, StderrProgress, Summary, rate_file, stderr_progress  # noqa: E402
from rating.portfolio import RESULT_COLUMNS  # noqa: E402

COLUMNS = ["id", "jurisdiction", "sector", "subsector", "product", "scale", "headcount",
           "vehicles", "contract_value", "claim_free_years", "blacklisted", "commission_rate",
           "inception_date"]

TEMPLATES = [  # (profile fields, premium in fen)
    ({"sector": "other", "scale": "large", "headcount": "10"}, 145800),
    ({"sector": "hazardous_chemicals", "subsector": "storage", "product": "toxic",
      "scale": "large", "headcount": "10"}, 534600),
    ({"sector": "fishery", "subsector": "marine_fishing", "headcount": "5"}, 648000),
    ({"sector": "other", "scale": "large", "headcount": "10", "claim_free_years": "3"}, 131220),
    ({"sector": "road_transport", "subsector": "freight", "vehicles": "5"}, 534600),
    ({"sector": "construction", "subsector": "building", "contract_value": "10000000"}, 1040040),
    ({"sector": "other", "scale": "large", "headcount": "10", "blacklisted": "TRUE"}, 174960),
]


def profiles(n: int, bad: dict[int, dict[str, str]] | None = None) -> list[dict[str, str]]:
    """n rows cycling through the templates, as CSV text; ``bad`` overrides fields of rows."""
    rows = []
    for i in range(n):
        fields, _ = TEMPLATES[i % len(TEMPLATES)]
        row = {c: "" for c in COLUMNS}
        row.update(id=f"{i:05d}", jurisdiction="CN-FJ-XM", inception_date="2024-01-01",
                   commission_rate="0.030")
        row.update(fields)
        if i % len(TEMPLATES) == 0 and i // len(TEMPLATES) % 2:
            row["claim_free_years"] = "0"  # written as text, with or without blanks nearby
        row.update((bad or {}).get(i, {}))
        rows.append(row)
    return rows


def expected_fen(n: int, skip: set[int] = frozenset()) -> int:
    return sum(TEMPLATES[i % len(TEMPLATES)][1] for i in range(n) if i not in skip)


def write_csv(path, rows) -> None:
    lines = [",".join(COLUMNS)] + [",".join(r[c] for c in COLUMNS) for r in rows]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def write_parquet(path, rows) -> None:
    """Typed columns, as an analyst's Parquet has them (nulls in integer columns)."""
    frame = pd.DataFrame(rows).replace("", None)
    for c in ("headcount", "vehicles", "claim_free_years"):
        frame[c] = pd.to_numeric(frame[c]).astype("Int64")
    frame["contract_value"] = pd.to_numeric(frame["contract_value"])
    frame["commission_rate"] = pd.to_numeric(frame["commission_rate"])
    frame["blacklisted"] = frame["blacklisted"].map({"TRUE": True}).astype("boolean")
    frame.to_parquet(path, index=False)


def listing(directory) -> set[str]:
    return set(os.listdir(directory))


# --- chunking --------------------------------------------------------------------------------

def test_chunked_csv_equals_whole_file_byte_for_byte(tmp_path):
    src = tmp_path / "book.csv"
    write_csv(src, profiles(50))
    whole = rate_file(src, tmp_path / "whole.csv", chunk_rows=1_000)
    chunked = rate_file(src, tmp_path / "chunked.csv", chunk_rows=7)
    assert (whole.chunks, chunked.chunks) == (1, 8)  # 7 × 7 + 1
    assert (tmp_path / "whole.csv").read_bytes() == (tmp_path / "chunked.csv").read_bytes()
    assert whole.premium_total_fen == chunked.premium_total_fen == expected_fen(50)
    # and the same as running it again (deterministic)
    rate_file(src, tmp_path / "again.csv", chunk_rows=7)
    assert (tmp_path / "again.csv").read_bytes() == (tmp_path / "whole.csv").read_bytes()


def test_chunked_collect_equals_whole_file(tmp_path):
    src = tmp_path / "book.csv"
    write_csv(src, profiles(50, bad={3: {"headcount": "ten"}, 15: {"sector": "mining"},
                                     16: {"headcount": ""}}))
    rate_file(src, tmp_path / "whole.csv", chunk_rows=1_000, errors="collect")
    rate_file(src, tmp_path / "chunked.csv", chunk_rows=7, errors="collect")
    assert (tmp_path / "whole.csv").read_bytes() == (tmp_path / "chunked.csv").read_bytes()
    assert (tmp_path / "whole.problems.csv").read_bytes() == \
        (tmp_path / "chunked.problems.csv").read_bytes()


def test_chunked_parquet_equals_whole_file(tmp_path):
    src = tmp_path / "book.parquet"
    write_parquet(src, profiles(50))
    rate_file(src, tmp_path / "whole.parquet", chunk_rows=1_000)
    rate_file(src, tmp_path / "chunked.parquet", chunk_rows=7)
    pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / "whole.parquet"),
                                  pd.read_parquet(tmp_path / "chunked.parquet"))
    # Parquet to CSV: integer columns with nulls in some chunks still print as integers
    rate_file(src, tmp_path / "whole.csv", chunk_rows=1_000)
    rate_file(src, tmp_path / "chunked.csv", chunk_rows=7)
    assert (tmp_path / "whole.csv").read_bytes() == (tmp_path / "chunked.csv").read_bytes()
    out = pd.read_csv(tmp_path / "chunked.csv", dtype=str, keep_default_na=False)
    assert out["headcount"].iloc[0] == "10" and out["claim_free_years"].iloc[3] == "3"


# --- formats, columns, premiums --------------------------------------------------------------

def test_csv_round_trip_columns_and_hand_premiums(tmp_path):
    src, dst = tmp_path / "book.csv", tmp_path / "rated.csv"
    write_csv(src, profiles(14))
    summary = rate_file(src, dst, chunk_rows=5)
    assert isinstance(summary, Summary)
    assert (summary.rows_in, summary.rows_out, summary.rows_bad, summary.chunks) == (14, 14, 0, 3)
    out = pd.read_csv(dst, dtype={"id": str})
    assert list(out.columns[:len(COLUMNS)]) == COLUMNS
    rating_cols = list(out.columns[len(COLUMNS):])
    # rating columns in rate_portfolio's order; those named like an input column prefixed
    engine = rate_portfolio(pd.read_csv(src, dtype={"id": str}))
    assert rating_cols == [RATED_PREFIX + c if c in COLUMNS else c for c in engine.columns]
    assert rating_cols[:len(RESULT_COLUMNS)][:6] == ["premium", "per_person_limit", "floor",
                                                     "prevention_fund", "commission", "net"]
    assert "rated_subsector" in rating_cols and "subsector" not in rating_cols
    # ids stay text with their leading zeros; codes and numbers as written
    assert list(out["id"][:3]) == ["00000", "00001", "00002"]
    text = dst.read_text(encoding="utf-8").splitlines()
    assert text[1].startswith("00000,CN-FJ-XM,other,,,large,10,,,,,0.030,2024-01-01,1458.0,")
    # hand-worked premiums
    assert out.loc[0, "premium"] == 1458.00
    assert out.loc[1, "premium"] == 5346.00
    assert out.loc[5, "premium"] == 10400.40
    assert out.loc[6, "premium"] == 1749.60
    assert out.loc[1, "rated_subsector"] == "storage" and out.loc[0, "rated_subsector"] == "general"
    # the same engine as rate_portfolio on the frame pd.read_csv gives
    assert list(out["premium"]) == list(engine["premium"])
    assert summary.premium_total == Decimal(expected_fen(14)).scaleb(-2)


def test_parquet_round_trips(tmp_path):
    rows = profiles(21)
    write_parquet(tmp_path / "book.parquet", rows)
    write_csv(tmp_path / "book.csv", rows)
    s1 = rate_file(tmp_path / "book.parquet", tmp_path / "rated.parquet", chunk_rows=8)
    s2 = rate_file(tmp_path / "book.csv", tmp_path / "from_csv.parquet", chunk_rows=8)
    s3 = rate_file(tmp_path / "book.parquet", tmp_path / "rated.csv", chunk_rows=8)
    assert s1.chunks == 3 and s1.rows_out == s2.rows_out == s3.rows_out == 21
    rated = pq.read_table(tmp_path / "rated.parquet")
    assert rated.column_names[:len(COLUMNS)] == COLUMNS
    # input columns keep their Parquet types; rating columns are float64 or text
    assert rated.schema.field("headcount").type == pa.int64()
    assert rated.schema.field("blacklisted").type == pa.bool_()
    assert rated.schema.field("premium").type == pa.float64()
    assert rated.schema.field("rate_book").type == pa.string()
    from_csv = pq.read_table(tmp_path / "from_csv.parquet")
    assert from_csv.schema.field("id").type == pa.string()
    assert from_csv.column("id").to_pylist()[:2] == ["00000", "00001"]
    premiums = rated.column("premium").to_pylist()
    assert premiums == from_csv.column("premium").to_pylist()
    assert premiums == list(pd.read_csv(tmp_path / "rated.csv")["premium"])
    assert premiums[:7] == [1458.00, 5346.00, 6480.00, 1312.20, 5346.00, 10400.40, 1749.60]
    # 21 rows = 3 of each template: 3 × 32,092.20
    assert s1.premium_total == s2.premium_total == s3.premium_total == Decimal("96276.60")


def test_premium_total_is_exact_in_fen(tmp_path):
    """49 rows = 7 of each template: 7 × (1,458.00 + 5,346.00 + 6,480.00 + 1,312.20 + 5,346.00
    + 10,400.40 + 1,749.60) = 7 × 32,092.20 = 224,645.40."""
    src = tmp_path / "book.csv"
    write_csv(src, profiles(49))
    summary = rate_file(src, tmp_path / "rated.csv", chunk_rows=10)
    assert summary.premium_total == Decimal("224645.40")
    assert summary.premium_total_fen == 22464540 == expected_fen(49)


def test_header_only_file_gives_header_only_output(tmp_path):
    src = tmp_path / "empty.csv"
    src.write_text(",".join(COLUMNS) + "\n", encoding="utf-8")
    summary = rate_file(src, tmp_path / "out.csv")
    assert (summary.rows_in, summary.rows_out, summary.premium_total) == (0, 0, Decimal("0.00"))
    header = (tmp_path / "out.csv").read_text(encoding="utf-8").splitlines()
    assert len(header) == 1 and header[0].startswith(",".join(COLUMNS) + ",premium,")
    rate_file(src, tmp_path / "out.parquet")
    table = pq.read_table(tmp_path / "out.parquet")
    assert table.num_rows == 0 and "premium" in table.column_names


# --- atomic output ---------------------------------------------------------------------------

def test_bad_row_in_third_chunk_leaves_no_output(tmp_path):
    src = tmp_path / "book.csv"
    write_csv(src, profiles(30, bad={15: {"headcount": "ten"}}))  # chunk_rows 7: the 3rd chunk
    before = listing(tmp_path)
    with pytest.raises(ProfileError) as info:
        rate_file(src, tmp_path / "out.csv", chunk_rows=7)
    assert info.value.row == 15 and info.value.field == "headcount"
    assert "row 15: headcount: 'ten' is not a number" in str(info.value)
    assert listing(tmp_path) == before  # no output, no temporary file


@pytest.mark.parametrize("name", ["out.csv", "out.parquet"])
def test_failure_leaves_existing_output_untouched(tmp_path, name):
    src = tmp_path / "book.csv"
    write_csv(src, profiles(30, bad={15: {"headcount": "ten"}}))
    dst = tmp_path / name
    dst.write_bytes(b"previous run\n")
    before = listing(tmp_path)
    with pytest.raises(RatingError):
        rate_file(src, dst, chunk_rows=7)
    assert dst.read_bytes() == b"previous run\n"
    assert listing(tmp_path) == before


def test_interrupt_leaves_output_and_problems_untouched(tmp_path):
    src = tmp_path / "book.csv"
    write_csv(src, profiles(30, bad={2: {"sector": "mining"}}))
    dst, problems = tmp_path / "out.csv", tmp_path / "out.problems.csv"
    dst.write_text("old output\n")
    problems.write_text("old problems\n")
    before = listing(tmp_path)

    def stop(done, total):
        if done >= 21:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        rate_file(src, dst, chunk_rows=7, errors="collect", progress=stop)
    assert dst.read_text() == "old output\n" and problems.read_text() == "old problems\n"
    assert listing(tmp_path) == before


def test_output_file_mode_is_not_the_temporary_files(tmp_path):
    src = tmp_path / "book.csv"
    write_csv(src, profiles(3))
    rate_file(src, tmp_path / "out.csv")
    mask = os.umask(0)
    os.umask(mask)
    assert (tmp_path / "out.csv").stat().st_mode & 0o777 == 0o666 & ~mask


# --- collected problems ----------------------------------------------------------------------

def test_collect_writes_good_rows_and_lists_bad_ones(tmp_path):
    src, dst = tmp_path / "book.csv", tmp_path / "out.csv"
    write_csv(src, profiles(30, bad={15: {"headcount": "ten"}, 22: {"scale": "huge"}}))
    summary = rate_file(src, dst, chunk_rows=7, errors="collect")
    assert (summary.rows_in, summary.rows_out, summary.rows_bad) == (30, 28, 2)
    assert summary.problems_path == tmp_path / "out.problems.csv"
    out = pd.read_csv(dst, dtype={"id": str})
    assert len(out) == 28 and "00015" not in set(out["id"]) and "00022" not in set(out["id"])
    assert summary.premium_total_fen == expected_fen(30, skip={15, 22})
    problems = pd.read_csv(summary.problems_path)
    assert list(problems.columns) == ["row", "field", "reason"]
    assert list(problems["row"]) == [15, 22]
    assert list(problems["field"]) == ["headcount", "scale"]
    assert "'ten' is not a number" in problems.loc[0, "reason"]


def test_collect_problems_path_and_no_problems(tmp_path):
    src = tmp_path / "book.csv"
    write_csv(src, profiles(5))
    summary = rate_file(src, tmp_path / "out.parquet", errors="collect",
                        problems_path=tmp_path / "bad.csv")
    assert summary.rows_bad == 0 and summary.problems_path == tmp_path / "bad.csv"
    assert (tmp_path / "bad.csv").read_text() == "row,field,reason\n"
    assert not (tmp_path / "out.problems.csv").exists()
    # with errors="raise" no problems file is written
    assert rate_file(src, tmp_path / "out2.csv").problems_path is None
    assert not (tmp_path / "out2.problems.csv").exists()


# --- errors ----------------------------------------------------------------------------------

@pytest.mark.parametrize("src_name, dst_name, needle", [
    ("book.xlsx", "out.csv", "book.xlsx: input file has extension '.xlsx'"),
    ("book.csv", "out.json", "out.json: output file has extension '.json'"),
    ("book.csv", "out", "output file has no extension"),
])
def test_unknown_extension(tmp_path, src_name, dst_name, needle):
    write_csv(tmp_path / "book.csv", profiles(3))
    (tmp_path / "book.xlsx").write_bytes(b"PK")
    before = listing(tmp_path)
    with pytest.raises(RatingError) as info:
        rate_file(tmp_path / src_name, tmp_path / dst_name)
    assert needle in str(info.value) and "use one of: .csv, .parquet" in str(info.value)
    assert listing(tmp_path) == before


def test_unknown_column_and_bad_arguments(tmp_path):
    src = tmp_path / "book.csv"
    src.write_text("jurisdiction,sector,headcount,name\nCN-FJ-XM,other,10,ACME\n")
    before = listing(tmp_path)
    with pytest.raises(ProfileError, match="name: unknown field"):
        rate_file(src, tmp_path / "out.csv")
    with pytest.raises(RatingError, match="chunk_rows"):
        rate_file(src, tmp_path / "out.csv", chunk_rows=0)
    with pytest.raises(RatingError, match="errors must be"):
        rate_file(src, tmp_path / "out.csv", errors="skip")
    with pytest.raises(RatingError, match="problems file must differ"):
        rate_file(src, tmp_path / "out.csv", errors="collect", problems_path=tmp_path / "out.csv")
    (tmp_path / "empty.csv").write_text("")
    with pytest.raises(RatingError, match="empty file"):
        rate_file(tmp_path / "empty.csv", tmp_path / "out.csv")
    (tmp_path / "gbk.csv").write_bytes("jurisdiction,sector\nCN-FJ-XM,其他\n".encode("gbk"))
    with pytest.raises(RatingError, match="not a readable UTF-8 CSV"):
        rate_file(tmp_path / "gbk.csv", tmp_path / "out.csv")
    assert listing(tmp_path) == before | {"empty.csv", "gbk.csv"}


# --- progress --------------------------------------------------------------------------------

def test_progress_callback(tmp_path):
    rows = profiles(20)
    write_csv(tmp_path / "book.csv", rows)
    write_parquet(tmp_path / "book.parquet", rows)
    calls = []
    rate_file(tmp_path / "book.csv", tmp_path / "a.csv", chunk_rows=8,
              progress=lambda done, total: calls.append((done, total)))
    assert calls == [(8, None), (16, None), (20, None)]
    calls.clear()
    rate_file(tmp_path / "book.parquet", tmp_path / "b.csv", chunk_rows=8,
              progress=lambda done, total: calls.append((done, total)))
    assert calls == [(8, 20), (16, 20), (20, 20)]


def test_stderr_progress_line(tmp_path):
    write_csv(tmp_path / "book.csv", profiles(20))
    stream = io.StringIO()
    rate_file(tmp_path / "book.csv", tmp_path / "a.csv", chunk_rows=8,
              progress=stderr_progress(stream, enabled=True))
    text = stream.getvalue()
    # nothing for the first chunk, one updating line after, ended by rate_file
    assert text.count("\r") == 2 and text.endswith("\n") and text.count("\n") == 1
    assert "rating: 16 rows" in text and "rating: 20 rows" in text
    # one chunk: nothing; not a terminal: nothing
    stream = io.StringIO()
    rate_file(tmp_path / "book.csv", tmp_path / "a.csv",
              progress=stderr_progress(stream, enabled=True))
    assert stream.getvalue() == ""
    quiet = StderrProgress(io.StringIO())
    assert not quiet.enabled
    quiet(10, 100), quiet(20, 100)
    quiet.close()
    assert quiet.stream.getvalue() == ""
    shown = StderrProgress(io.StringIO(), enabled=True)
    shown(10, 40), shown(20, 40)
    assert "20 rows of 40 (50%)" in shown.stream.getvalue()


def test_layout_keeps_the_first_chunks_rating_columns():
    """Chunks rated on books with different steps: a missing factor column is 1, as
    rate_portfolio fills it within a frame; a column the first chunk lacks is an error."""
    from rating.files import _Layout

    layout = _Layout(["sector", "subsector"])
    first = pd.DataFrame({"premium": [1.0], "subsector": ["general"], "factor_tier.x": [0.9]},
                         index=[0])
    assert list(layout.fit(first, 0).columns) == ["premium", "rated_subsector", "factor_tier.x"]
    second = layout.fit(pd.DataFrame({"subsector": ["general"], "premium": [2.0]}, index=[1]), 1)
    assert list(second.columns) == ["premium", "rated_subsector", "factor_tier.x"]
    assert second.loc[1, "factor_tier.x"] == 1.0
    with pytest.raises(RatingError, match="factor_tier.y"):
        layout.fit(pd.DataFrame({"premium": [3.0], "factor_tier.y": [1.1]}, index=[2]), 2)
    clash = _Layout(["subsector", "rated_subsector"])
    with pytest.raises(RatingError, match="'rated_subsector' clashes"):
        clash.fit(first, 0)
