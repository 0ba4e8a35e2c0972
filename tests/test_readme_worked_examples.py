"""The worked examples of tables/README.md (months, the split's rounding, the date moves)
are what the code computes."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

from rating.engine.calendar import add_months, term_months
from rating.engine.premium import _split

README = (Path(__file__).resolve().parents[1] / "tables" / "README.md").read_text("utf-8")


def _day(text: str) -> np.ndarray:
    return np.array([text], dtype="datetime64[D]")


MONTH_ROWS = re.findall(r"^\| (\d{4}-\d\d-\d\d) \| (\d{4}-\d\d-\d\d) \| (\d+) \| [^|]*\|$",
                        README, re.M)


def test_month_table_found():
    assert len(MONTH_ROWS) >= 8  # the table of section 5.13 with the 31 January cases
    assert ("2024-01-31", "2024-02-29", "1") in MONTH_ROWS


@pytest.mark.parametrize("start, end, months", MONTH_ROWS)
def test_months_counted_as_documented(start, end, months):
    assert int(term_months(_day(start), _day(end))[0]) == int(months)


MOVES = re.findall(r"(\d{4}-\d\d-\d\d) \+ (\d+) months? =\s+(\d{4}-\d\d-\d\d)", README)


def test_moves_found():
    assert ("2024-01-31", "1", "2024-02-29") in MOVES and len(MOVES) >= 3


@pytest.mark.parametrize("start, months, moved", MOVES)
def test_add_months_as_documented(start, months, moved):
    assert str(add_months(_day(start), int(months))[0]) == moved


SPLIT_ROWS = re.findall(r"^\| ([\d,.]+) \| ([\d.]+) \| ([\d.]+) \| [^|]*\*\*([\d,.]+)\*\*[^|]*\| "
                        r"[^|]*?\*\*([\d,.]+)\*\*[^|]*\| ([\d,.]+) \|$|"
                        r"^\| ([\d,.]+) \| ([\d.]+) \| (0) \| [^|]*\*\*([\d,.]+)\*\*[^|]*\| "
                        r"0 \| ([\d,.]+) \|$", README, re.M)


def _fen(text: str) -> int:
    return round(float(text.replace(",", "")) * 100)


def test_split_table_as_documented():
    assert len(SPLIT_ROWS) == 3
    for row in SPLIT_ROWS:
        if row[0]:
            premium, fund_share, com_rate, fund, com, net = row[:6]
        else:
            premium, fund_share, com_rate, fund, net = row[6:]
            com = "0"
        f, c = _split(np.array([_fen(premium)]), np.array([float(fund_share)]),
                      np.array([float(com_rate)]))
        assert (int(f[0]), int(c[0])) == (_fen(fund), _fen(com)), row
        assert _fen(premium) - int(f[0]) - int(c[0]) == _fen(net)
