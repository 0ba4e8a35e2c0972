"""Dislocation: how a new rate book moves the premiums of an existing portfolio.

Before a new book is published, the association (and each insurer) wants to know whom it
moves and by how much: the total premium change, the distribution of per-policy changes
overall and by sector, and a histogram of the changes. :func:`dislocation` rates the same
portfolio on the old and the new book with the portfolio engine
(:func:`rating.rate_portfolio`) and summarises the difference.

Money is handled in whole fen: the engine's premiums are whole fen by construction, totals
and changes are sums of int64 fen, and a change is put in its histogram bin by exact integer
comparison, so a change of exactly +10% is never pushed across the +10% edge by float error.
"""

from __future__ import annotations

import datetime as dt
import io
import itertools
import os
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

import numpy as np
import pandas as pd

from ..book import RateBook
from ..book.dates import as_date
from ..book.library import Books, check_status, get_book
from ..errors import ProfileError, RatingError
from ..portfolio import rate_portfolio

__all__ = ["Dislocation", "dislocation"]

DEFAULT_BINS: tuple[float, ...] = (-20, -10, -5, 0, 5, 10, 20)
"""Histogram edges in percent of the old premium (new / old − 1)."""

PERCENTILES: tuple[int, ...] = (5, 25, 75, 95)
"""Percentiles of the per-policy % change reported beside the mean and the median."""

SUMMARY_COLUMNS = ["policies", "old_premium", "new_premium", "change", "change_pct",
                   "mean_pct", "median_pct"] + [f"p{p}_pct" for p in PERCENTILES] + [
                   "share_up", "share_unchanged", "share_down"]
"""Columns of :attr:`Dislocation.overall` and :attr:`Dislocation.by_sector`."""


@dataclass(frozen=True, eq=False)
class Dislocation:
    """The premium changes of one portfolio from an old rate book to a new one.

    Attributes
    ----------
    old_book, new_book : str
        Ids of the two books.
    rows : DataFrame
        One row per policy rated on both books, indexed like the input portfolio, in its
        order: ``sector``, ``subsector`` (rate-book keys), ``old_premium`` and
        ``new_premium`` (yuan, whole fen), ``change`` (yuan, new − old) and ``ratio``
        (new / old − 1, a fraction: 0.1 is +10%; NaN or inf where the old premium is 0).
    overall : DataFrame
        One row (index ``"all"``) of :data:`SUMMARY_COLUMNS`: ``policies``; ``old_premium``,
        ``new_premium`` and ``change`` (yuan, summed in fen); ``change_pct`` (total change, %
        of the old total); ``mean_pct``, ``median_pct``, ``p5_pct``, ``p25_pct``,
        ``p75_pct``, ``p95_pct`` (of the per-policy % change); ``share_up``,
        ``share_unchanged``, ``share_down`` (fractions of the policies whose premium rose,
        stayed the same to the fen, fell).
    by_sector : DataFrame
        The same per sector (index ``sector``, sectors in rate-book order, only those
        present).
    histogram : DataFrame
        Counts of the per-policy % change in the bins of ``bins``, index ``bin`` (labels
        such as ``≤ -20%``, ``(-20%, -10%]``, ``(-5%, 0%)``, ``0%``, ``(0%, +5%]``,
        ``> +20%``), columns ``lower_pct`` and ``upper_pct`` (the edges, ±inf at the ends),
        ``policies`` and ``share``. Bins are closed on the right like :func:`pandas.cut`,
        except that an unchanged premium (0 fen of change) has a bin of its own.
    problems : DataFrame
        With ``errors="collect"``: the rows left out, one line per (row, field, reason) and
        the ``book`` under which it is bad (``old``, ``new`` or ``both``). Empty otherwise.
    date : date or None
        The rating date passed (None: each row's inception date).
    bins : tuple of float
        The histogram edges, in percent.
    """

    old_book: str
    new_book: str
    rows: pd.DataFrame
    overall: pd.DataFrame
    by_sector: pd.DataFrame
    histogram: pd.DataFrame
    problems: pd.DataFrame
    date: dt.date | None = None
    bins: tuple[float, ...] = DEFAULT_BINS
    sector_labels: dict[str, dict[str, str]] = field(default_factory=dict, repr=False)

    def to_text(self, lang: str = "en") -> str:
        """A compact table for the terminal: totals and the change distribution overall
        and by sector, then the histogram.

        Parameters
        ----------
        lang : {"en", "zh"}
            Language of the headings and sector labels.
        """
        zh = lang == "zh"
        n = int(self.overall["policies"].iloc[0])
        title = (f"保费变动：费率表 {self.old_book} → {self.new_book}，{n:,} 件保单" if zh else
                 f"Premium dislocation: {self.old_book} -> {self.new_book}, {n:,} policies")
        head = (["行业", "保单数", "原保费", "新保费", "变动额", "变动率", "均值%", "中位数%",
                 "P5%", "P95%", "上升", "不变", "下降"] if zh else
                ["sector", "policies", "old premium", "new premium", "change", "change %",
                 "mean %", "median %", "p5 %", "p95 %", "up", "same", "down"])
        table = [head]
        names = {"all": "合计" if zh else "all"}
        for key in self.by_sector.index:
            names[key] = self.sector_labels.get(key, {}).get(lang, key)
        summary = pd.concat([self.overall, self.by_sector])
        for key, r in summary.iterrows():
            table.append([names[key], f"{int(r.policies):,}", f"{r.old_premium:,.2f}",
                          f"{r.new_premium:,.2f}", f"{r.change:+,.2f}", _pct(r.change_pct),
                          _pct(r.mean_pct), _pct(r.median_pct), _pct(r.p5_pct),
                          _pct(r.p95_pct), _share(r.share_up), _share(r.share_unchanged),
                          _share(r.share_down)])
        out = [title, ""] + _render(table, right_from=1)
        hist = [["保费变动率" if zh else "premium change", "保单数" if zh else "policies",
                 "占比" if zh else "share", ""]]
        most = max(int(self.histogram["policies"].max()), 1) if len(self.histogram) else 1
        for label, r in self.histogram.iterrows():
            bar = "#" * round(30 * int(r.policies) / most)
            hist.append([str(label), f"{int(r.policies):,}", _share(r.share), bar])
        out += [""] + _render(hist, right_from=1, left_cols=frozenset({3}))
        if len(self.problems):
            bad = self.problems["row"].nunique()
            out += ["", (f"{bad:,} 行因数据问题未计入（见 problems）" if zh else
                         f"{bad:,} row{'s' if bad != 1 else ''} left out as bad under either "
                         "book (see problems)")]
        return "\n".join(out)

    def figure(self):
        """The histogram of premium changes as a matplotlib ``Figure`` (never shown; a
        notebook with the inline backend displays it).

        Raises
        ------
        RatingError
            When matplotlib is not installed.

        Notes
        -----
        Labels are in English: matplotlib's default fonts have no CJK glyphs, and a PNG
        with missing-glyph boxes helps nobody.
        """
        try:
            # imported here: plotting is an optional extra, and the Agg canvas draws without
            # a display (no pyplot, so no GUI backend is ever chosen)
            from matplotlib.backends.backend_agg import FigureCanvasAgg
            from matplotlib.figure import Figure
        except ImportError:
            raise RatingError("plotting needs matplotlib: pip install 'rating[plot]'") \
                from None
        hist = self.histogram
        counts = hist["policies"].to_numpy()
        colours = np.where(hist["upper_pct"].to_numpy() <= 0, "#4878a8", "#d0603c")
        colours[(hist["lower_pct"] == 0).to_numpy() & (hist["upper_pct"] == 0).to_numpy()] = \
            "#9a9a9a"
        fig = Figure(figsize=(9, 4.8), dpi=100, layout="constrained")
        FigureCanvasAgg(fig)
        ax = fig.add_subplot()
        x = np.arange(len(hist))
        bars = ax.bar(x, counts, color=colours, edgecolor="#333333", linewidth=0.5)
        ax.bar_label(bars, labels=[f"{c:,}" for c in counts], padding=2, fontsize=8)
        ax.set_xticks(x, [str(b) for b in hist.index], rotation=30, ha="right", fontsize=8)
        ax.set_xlabel("premium change, new / old - 1 (bins closed on the right; 0% = unchanged)")
        ax.set_ylabel("policies")
        ax.margins(y=0.12)
        r = self.overall.iloc[0]
        ax.set_title(f"Premium dislocation {self.old_book} -> {self.new_book}\n"
                     f"{int(r.policies):,} policies, total {r.old_premium:,.2f} -> "
                     f"{r.new_premium:,.2f} CNY ({r.change:+,.2f}, {_pct(r.change_pct)})",
                     fontsize=10)
        return fig

    def plot(self, path: str | os.PathLike) -> Path:
        """Write :meth:`figure` as a PNG.

        Parameters
        ----------
        path : str or path-like
            The PNG file; written through a temporary file renamed at the end, so a failure
            never leaves a partial image.

        Returns
        -------
        Path
            ``path``.

        Raises
        ------
        RatingError
            When matplotlib is not installed.
        """
        path = Path(path)
        buffer = io.BytesIO()
        self.figure().savefig(buffer, format="png")
        _write_bytes_atomically(path, buffer.getvalue())
        return path


def dislocation(old_book: RateBook | str | os.PathLike, new_book: RateBook | str | os.PathLike,
                portfolio: pd.DataFrame, *, date: dt.date | str | None = None,
                bins: Sequence[float] = DEFAULT_BINS, errors: str = "raise",
                books: Books = None, final_only: bool | None = None) -> Dislocation:
    """Rate a portfolio on an old and a new rate book and summarise the premium changes.

    Parameters
    ----------
    old_book, new_book : RateBook, path or book id
        The two books (an id names a book of the library ``books`` or a shipped one). Each
        is used for every row whatever its effective dates (a dislocation is a what-if: an
        explicit ``book`` of :func:`rating.rate_portfolio` with ``any_date=True``); the
        national rules (floors, commission cap) are those in force on each row's rating date.
    portfolio : DataFrame
        One enterprise profile per row (the columns of :func:`rating.rate_portfolio`).
    date : date or 'YYYY-MM-DD', optional
        Rating date for every row; default each row's ``inception_date``.
    bins : sequence of float
        Histogram edges in percent of the old premium, strictly increasing and including 0
        (default ``-20, -10, -5, 0, 5, 10, 20``).
    errors : {"raise", "collect"}
        ``raise`` (default): the first bad rows raise the engine's ProfileError, naming the
        book under which they are bad. ``collect``: rows bad under either book are left out
        and listed in :attr:`Dislocation.problems`.
    books : BookLibrary or path, optional
        The library the ids may name (default ``RATING_BOOKS``); see :class:`rating.BookLibrary`.
    final_only : bool, optional
        Refuse either book when it is not ``final`` (see :func:`rating.quote`).

    Returns
    -------
    Dislocation
        Per-row premiums and changes, overall and per-sector summaries, the histogram.

    Raises
    ------
    ProfileError
        With ``errors="raise"``, for bad rows.
    RatingError
        For bad ``bins``, or a book that cannot be loaded (BookError).
    """
    if errors not in ("raise", "collect"):
        raise ValueError("errors must be 'raise' or 'collect'")
    if not isinstance(portfolio, pd.DataFrame):
        raise ProfileError("portfolio", f"expected a DataFrame, got {type(portfolio).__name__}")
    edges = _check_bins(bins)
    date = as_date(date, "date")
    old, new = get_book(old_book, books), get_book(new_book, books)
    check_status(old, final_only)
    check_status(new, final_only)

    if errors == "raise":
        # rated as given, so the engine's error names the caller's row labels; when it
        # returns, every row is there, in input order
        old_rated = _rate_or_raise(portfolio, old, date, "old")
        new_rated = _rate_or_raise(portfolio, new, date, "new")
        good = np.arange(len(portfolio))
        problems = _no_problems()
    else:
        # rated by position, so the two results join on row positions even when the
        # caller's index has duplicate labels
        by_position = portfolio.set_axis(pd.RangeIndex(len(portfolio)), axis=0)
        old_rated, old_bad = rate_portfolio(by_position, book=old, date=date, errors="collect",
                                            any_date=True)
        new_rated, new_bad = rate_portfolio(by_position, book=new, date=date, errors="collect",
                                            any_date=True)
        good = np.intersect1d(old_rated.index.to_numpy(), new_rated.index.to_numpy())
        old_rated, new_rated = old_rated.loc[good], new_rated.loc[good]
        problems = _merge_problems(old_bad, new_bad, portfolio.index)

    old_fen = _fen(old_rated["premium"])
    new_fen = _fen(new_rated["premium"])
    change_fen = new_fen - old_fen
    with np.errstate(divide="ignore", invalid="ignore"):
        # in fen, so the ratio is that of the premiums actually charged
        ratio = new_fen / old_fen - 1.0
    sector = _sector_column(portfolio["sector"].iloc[good] if "sector" in portfolio.columns
                            else pd.Series([], dtype=object), old, new)
    rows = pd.DataFrame({
        "sector": sector,
        "subsector": new_rated["subsector"].array,
        "old_premium": old_fen / 100,
        "new_premium": new_fen / 100,
        "change": change_fen / 100,
        "ratio": ratio,
    }, index=portfolio.index.take(good))

    parts = {"old": old_fen, "new": new_fen, "change": change_fen, "pct": ratio * 100}
    overall = _summarise(parts, np.zeros(len(good), dtype=np.int64), ["all"])
    overall.index.name = None
    by_sector = _summarise(parts, sector.codes.astype(np.int64), list(sector.categories))
    by_sector = by_sector[by_sector["policies"] > 0]
    labels = {key: {"en": s.label("en"), "zh": s.label("zh")}
              for book in (old, new) for key, s in book.sectors.items()}
    return Dislocation(old_book=old.id, new_book=new.id, rows=rows, overall=overall,
                       by_sector=by_sector, histogram=_histogram(change_fen, old_fen, edges),
                       problems=problems, date=date, bins=edges, sector_labels=labels)


# --- pieces ----------------------------------------------------------------------------------

def _rate_or_raise(frame: pd.DataFrame, book: RateBook, date, which: str) -> pd.DataFrame:
    try:
        return rate_portfolio(frame, book=book, date=date, any_date=True)
    except ProfileError as exc:
        # the same error, saying which of the two books the row fails under
        raise ProfileError(exc.field, f"{exc.reason} (under the {which} book {book.id})",
                           row=exc.row) from None


def _fen(premium: pd.Series) -> np.ndarray:
    """Premiums in yuan (whole fen, from the engine) back to exact int64 fen."""
    return np.rint(premium.to_numpy(dtype=np.float64) * 100).astype(np.int64)


def _no_problems() -> pd.DataFrame:
    return pd.DataFrame({"row": pd.Series([], dtype=object), "field": pd.Series([], dtype=str),
                         "reason": pd.Series([], dtype=str), "book": pd.Series([], dtype=str)})


def _merge_problems(old_bad: pd.DataFrame, new_bad: pd.DataFrame,
                    labels: pd.Index) -> pd.DataFrame:
    """One table of both books' problems (rows by position), the same problem under both
    books listed once as ``both``, rows in input order, labels restored."""
    both = pd.concat([old_bad.assign(book="old"), new_bad.assign(book="new")],
                     ignore_index=True)
    if both.empty:
        return _no_problems()
    key = ["row", "field", "reason"]
    twice = both.duplicated(key, keep=False)
    both.loc[twice, "book"] = "both"
    both = both.drop_duplicates(key).sort_values("row", kind="stable")
    both["row"] = labels.take(both["row"].to_numpy(dtype=np.int64))
    return both.reset_index(drop=True)[["row", "field", "reason", "book"]]


def _sector_column(values: pd.Series, old: RateBook, new: RateBook) -> pd.Categorical:
    """Sector keys as the engine reads them (text stripped), categorical in book order."""
    codes, uniques = pd.factorize(values.astype(str))  # valid rows: every sector is a key
    keys = [str(u).strip() for u in uniques]
    order = list(new.sectors) + [s for s in old.sectors if s not in new.sectors]
    order += sorted(set(keys) - set(order))
    where = np.array([order.index(k) for k in keys] + [-1], dtype=np.int64)
    return pd.Categorical.from_codes(where[codes], order)


def _summarise(parts: dict[str, np.ndarray], group: np.ndarray,
               names: list[str]) -> pd.DataFrame:
    """Totals (exact int64 fen sums), % change distribution and up/same/down shares per
    group code; one row per name, groups without policies having zero totals."""
    frame = pd.DataFrame({"g": group, **parts})
    frame["up"], frame["same"], frame["down"] = (frame["change"] > 0, frame["change"] == 0,
                                                 frame["change"] < 0)
    grouped = frame.groupby("g", sort=True)
    full = pd.RangeIndex(len(names))
    sums = grouped[["old", "new", "change"]].sum().reindex(full, fill_value=0)
    quant = (grouped["pct"].quantile([q / 100 for q in (50,) + PERCENTILES]).unstack()
             .reindex(full) if len(frame) else
             pd.DataFrame(np.nan, index=full, columns=[0.5] + [q / 100 for q in PERCENTILES]))
    shares = grouped[["up", "same", "down"]].mean().reindex(full)
    out = pd.DataFrame({
        "policies": grouped.size().reindex(full, fill_value=0).to_numpy(dtype=np.int64),
        "old_premium": sums["old"].to_numpy() / 100,
        "new_premium": sums["new"].to_numpy() / 100,
        "change": sums["change"].to_numpy() / 100,
        "change_pct": np.divide(sums["change"].to_numpy() * 100.0, sums["old"].to_numpy(),
                                out=np.full(len(names), np.nan),
                                where=sums["old"].to_numpy() != 0),
        "mean_pct": grouped["pct"].mean().reindex(full).to_numpy(),
        "median_pct": quant[0.5].to_numpy(),
        **{f"p{p}_pct": quant[p / 100].to_numpy() for p in PERCENTILES},
        "share_up": shares["up"].to_numpy(dtype=np.float64),
        "share_unchanged": shares["same"].to_numpy(dtype=np.float64),
        "share_down": shares["down"].to_numpy(dtype=np.float64),
    }, index=pd.Index(names, name="sector"))
    return out


def _check_bins(bins: Sequence[float]) -> tuple[float, ...]:
    try:
        edges = tuple(float(b) for b in bins)
    except (TypeError, ValueError):
        raise RatingError(f"bins: {bins!r} must be numbers (percent)") from None
    if not edges or not all(np.isfinite(edges)):
        raise RatingError("bins: give at least one finite edge (percent)")
    if any(b <= a for a, b in itertools.pairwise(edges)):
        raise RatingError(f"bins: {list(edges)} must be strictly increasing")
    if 0.0 not in edges:
        raise RatingError(f"bins: {list(edges)} must include 0 (unchanged premiums have a "
                          "bin of their own)")
    return edges


def _histogram(change_fen: np.ndarray, old_fen: np.ndarray,
               edges: tuple[float, ...]) -> pd.DataFrame:
    """Counts per bin, right-closed, with a bin of its own for a change of 0 fen.

    A policy is above edge ``e`` (in %) when ``change / old × 100 > e``, i.e. with
    ``e = num / den`` when ``change × 100 × den > num × old``: integers, compared exactly.
    (An old premium of 0 with a rise is above every edge, as its ratio is +inf.)
    """
    ratios = [Decimal(repr(e)).as_integer_ratio() for e in edges]
    change = np.asarray(change_fen, dtype=np.int64)
    old = np.asarray(old_fen, dtype=np.int64)
    big_c = int(np.abs(change).max()) if len(change) else 0
    big_o = int(np.abs(old).max()) if len(old) else 0
    if any(big_c * 100 * den >= 2**62 or big_o * abs(num) >= 2**62 for num, den in ratios):
        change, old = change.astype(object), old.astype(object)  # Python ints: no overflow
    above = np.zeros(len(change_fen), dtype=np.int64)
    for num, den in ratios:
        above += np.asarray(change * (100 * den) > old * num, dtype=bool)
    zero_at = edges.index(0.0)
    # bins: ≤ e0, (e0, e1], ..., (e_z-1, 0) , 0, (0, e_z+1], ..., > e_last
    slot = np.where(above > zero_at, above + 1, above)
    slot[change_fen == 0] = zero_at + 1
    counts = np.bincount(slot, minlength=len(edges) + 2)

    lower = [-np.inf] + list(edges[:zero_at + 1]) + list(edges[zero_at:])
    upper = list(edges[:zero_at + 1]) + list(edges[zero_at:]) + [np.inf]
    labels = []
    for lo, hi in zip(lower, upper):
        if lo == -np.inf:
            labels.append("< 0%" if hi == 0 else f"≤ {_edge(hi)}")
        elif hi == np.inf:
            labels.append(f"> {_edge(lo)}")
        elif lo == hi == 0:
            labels.append("0%")
        elif hi == 0:
            labels.append(f"({_edge(lo)}, 0%)")
        else:
            labels.append(f"({_edge(lo)}, {_edge(hi)}]")
    total = max(int(counts.sum()), 1)
    return pd.DataFrame({"lower_pct": lower, "upper_pct": upper, "policies": counts,
                         "share": counts / total}, index=pd.Index(labels, name="bin"))


def _edge(value: float) -> str:
    return "0%" if value == 0 else f"{value:+g}%"


def _pct(value: float) -> str:
    return "" if np.isnan(value) else f"{value:+.2f}%"


def _share(value: float) -> str:
    return "" if np.isnan(value) else f"{value:.0%}"


def _width(text: str) -> int:
    # CJK characters take two terminal columns
    return sum(2 if ord(ch) > 0x2E80 else 1 for ch in text)


def _render(table: list[list[str]], right_from: int, left_cols: frozenset[int] = frozenset()
            ) -> list[str]:
    widths = [max(_width(r[i]) for r in table) for i in range(len(table[0]))]
    out = []
    for r in table:
        cells = []
        for i, (cell, w) in enumerate(zip(r, widths)):
            gap = " " * (w - _width(cell))
            cells.append(gap + cell if i >= right_from and i not in left_cols else cell + gap)
        out.append("  ".join(cells).rstrip())
    return out


def _write_bytes_atomically(dst: Path, data: bytes) -> None:
    """Write ``data`` to ``dst`` through a temporary file in the same folder, renamed at the
    end (a rename within one folder is atomic)."""
    fd, name = tempfile.mkstemp(prefix=f".{dst.name}.", suffix=".tmp", dir=dst.parent)
    temp = Path(name)
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
        mask = os.umask(0)
        os.umask(mask)
        # mkstemp makes 0600; give the file the mode an ordinary new file would have
        mode = dst.stat().st_mode & 0o7777 if dst.exists() else 0o666 & ~mask
        os.chmod(temp, mode)
        os.replace(temp, dst)
    finally:
        temp.unlink(missing_ok=True)
