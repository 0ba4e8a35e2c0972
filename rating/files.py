"""Rating portfolio files: CSV or Parquet in, the same rows with their rating out.

:func:`rate_file` streams the input in chunks through :func:`rating.rate_portfolio`, so a file
larger than memory can be rated, and writes atomically: the output goes to a temporary file in
the destination's directory that replaces the destination only once the last chunk has been
rated. A failure leaves no output file behind (and an existing one untouched).

Output layout: every input column first, as read, then the rating columns of
:func:`rating.rate_portfolio` (premium, limit, split, rate book, every factor ...). Where a
rating column has the name of an input column (``subsector``, ``per_person_limit`` and the
``limit_*`` sub-limits are both profile fields and results), the rating column is written as
``rated_<name>``: the input column keeps what the file said, the rated one what was applied
(e.g. the default sub-sector, or the statutory floor for a blank limit).

CSV is read as text (every column ``str``, blanks and ``NA`` as missing): ids and codes are
never turned into numbers, the input columns are written back as they were read, and the
result does not depend on how the rows fall into chunks (type inference per chunk would make
``10`` print as ``10.0`` in a chunk that happens to hold a blank). The engine parses numbers,
flags and dates from text itself, exactly as from typed columns.
"""

from __future__ import annotations

import csv
import datetime as dt
import os
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any, TextIO

import numpy as np
import pandas as pd

from .book import RateBook, load_book
from .book.dates import as_date
from .book.library import Books
from .errors import RatingError
from .portfolio import RESULT_COLUMNS, rate_portfolio

FORMATS = {".csv": "csv", ".parquet": "parquet"}
"""File extensions understood (case-insensitive) and their formats."""

RATED_PREFIX = "rated_"
"""Prefix of a rating column whose name is also an input column (e.g. ``rated_subsector``)."""

PROBLEM_COLUMNS = ["row", "field", "reason"]

_TEXT_RESULTS = ("rate_book", "subsector")
"""Rating columns holding text; every other one is a float."""


@dataclass(frozen=True)
class Summary:
    """What :func:`rate_file` did.

    Attributes
    ----------
    rows_in : int
        Data rows read.
    rows_out : int
        Rows written with their rating.
    rows_bad : int
        Rows left out with ``errors="collect"`` (listed in the problems file).
    chunks : int
        Chunks read.
    premium_total : Decimal
        Sum of the premiums written, in yuan, exact (summed in integer fen).
    seconds : float
        Wall-clock time.
    premium_total_fen : int
        The same sum in fen.
    dst, problems_path : Path or None
        Files written (``problems_path`` only with ``errors="collect"``).
    rate_books : dict
        The id of each edition rated on, and its status (``final``, ``draft``,
        ``illustrative``).
    """

    rows_in: int
    rows_out: int
    rows_bad: int
    chunks: int
    premium_total: Decimal
    seconds: float
    premium_total_fen: int = 0
    dst: Path | None = None
    problems_path: Path | None = None
    rate_books: dict[str, str] = field(default_factory=dict)


Progress = Callable[[int, "int | None"], Any]


def rate_file(src: str | os.PathLike, dst: str | os.PathLike, *,
              book: RateBook | str | os.PathLike | None = None,
              date: dt.date | str | None = None, chunk_rows: int = 200_000,
              errors: str = "raise", problems_path: str | os.PathLike | None = None,
              progress: Progress | None = None, books: Books = None,
              final_only: bool | None = None, any_date: bool = False) -> Summary:
    """Rate a portfolio file chunk by chunk and write the rated rows atomically.

    Parameters
    ----------
    src : path
        ``.csv`` (UTF-8, a BOM is fine) or ``.parquet``: one enterprise profile per row, the
        columns being profile fields (see the README).
    dst : path
        Output file; its extension (``.csv`` or ``.parquet``) chooses the format.
    book, date, books, final_only, any_date
        As for :func:`rating.rate_portfolio` (a book path is loaded once).
    chunk_rows : int
        Rows rated at a time; bounds memory. The output does not depend on it.
    errors : {"raise", "collect"}
        ``raise``: the first chunk with bad rows raises a ProfileError naming them by their
        0-based data row in the file (row 0 is the first row after a CSV header); nothing is
        written. ``collect``: bad rows are left out of ``dst`` and listed (``row``, ``field``,
        ``reason``) in ``problems_path``.
    problems_path : path, optional
        CSV of the bad rows with ``errors="collect"``; default ``dst`` with the suffix
        ``.problems.csv``. Written (header only when there were none) and replaced atomically
        together with ``dst``.
    progress : callable, optional
        Called as ``progress(rows_done, total_rows)`` after each chunk; ``total_rows`` is known
        for Parquet (from its metadata) and ``None`` for CSV. If it has a ``close`` method,
        that is called at the end, also on failure (see :func:`stderr_progress`).

    Returns
    -------
    Summary

    Raises
    ------
    RatingError
        Unknown file extension, pyarrow missing for Parquet, an unreadable file, a column
        clash, or (a ProfileError) bad rows with ``errors="raise"``.
    """
    started = time.perf_counter()
    src, dst = Path(src), Path(dst)
    if errors not in ("raise", "collect"):
        raise RatingError(f"errors must be 'raise' or 'collect', not {errors!r}")
    if isinstance(chunk_rows, bool) or not isinstance(chunk_rows, (int, np.integer)) \
            or chunk_rows < 1:
        raise RatingError(f"chunk_rows must be a whole number >= 1, not {chunk_rows!r}")
    chunk_rows = int(chunk_rows)
    src_format, dst_format = _format(src, "input"), _format(dst, "output")
    if errors == "collect":
        problems_path = Path(problems_path) if problems_path is not None \
            else dst.with_suffix(".problems.csv")
        if problems_path.resolve() in (dst.resolve(), src.resolve()):
            raise RatingError(f"{problems_path}: the problems file must differ from the input "
                              "and output files")
    else:
        problems_path = None
    if "parquet" in (src_format, dst_format):
        _pyarrow()
    if isinstance(book, (str, os.PathLike)):
        book = load_book(Path(book))
    date = as_date(date, "date")

    # the problems file commits first, so a rated dst never comes without its problems
    outputs = [dst] if problems_path is None else [problems_path, dst]
    reader = writer = bad_sink = None
    try:
        with atomic_outputs(*outputs) as temps:
            reader = (_CsvReader if src_format == "csv" else _ParquetReader)(src, chunk_rows)
            writer_cls = _CsvWriter if dst_format == "csv" else _ParquetWriter
            writer = writer_cls(temps[-1], reader.columns, reader.schema)
            if problems_path is not None:
                bad_sink = _CsvWriter(temps[0], [])
            layout = _Layout(reader.columns)
            rows_in = rows_out = chunks = 0
            total_fen = 0
            rate_books: dict[str, str] = {}
            for chunk in reader:
                chunks += 1
                frame = chunk.frame
                if bad_sink is not None:
                    rated, bad = rate_portfolio(frame, book, date, errors="collect",
                                                books=books, final_only=final_only,
                                                any_date=any_date)
                    if len(bad):
                        bad_sink.write_frame(bad[PROBLEM_COLUMNS])
                else:
                    rated = rate_portfolio(frame, book, date, books=books, final_only=final_only,
                                           any_date=any_date)
                rate_books.update(rated.attrs.get("rate_books", {}))
                rated = layout.fit(rated, chunk.offset)
                if len(rated):
                    writer.write(chunk.take(rated.index.to_numpy() - chunk.offset), rated)
                    fen = np.rint(rated["premium"].to_numpy(dtype=np.float64) * 100)
                    total_fen += int(fen.astype(np.int64).sum())
                rows_in += len(frame)
                rows_out += len(rated)
                if progress is not None:
                    progress(rows_in, reader.total)
            writer.finish(layout.empty_result())
            if bad_sink is not None:
                bad_sink.finish(pd.DataFrame({c: pd.Series(dtype=object)
                                              for c in PROBLEM_COLUMNS}))
    except BaseException:
        for sink in (writer, bad_sink):
            if sink is not None:
                sink.abort()
        raise
    finally:
        if reader is not None:
            reader.close()
        close = getattr(progress, "close", None)
        if callable(close):
            close()
    return Summary(rows_in=rows_in, rows_out=rows_out, rows_bad=rows_in - rows_out,
                   chunks=chunks, premium_total=Decimal(total_fen).scaleb(-2),
                   seconds=time.perf_counter() - started, premium_total_fen=total_fen,
                   dst=dst, problems_path=problems_path, rate_books=rate_books)


# --- progress --------------------------------------------------------------------------------

class StderrProgress:
    """A one-line progress display (``\\r``-updated) for :func:`rate_file`.

    Draws only when ``enabled`` (default: the stream is a terminal), and only once a second
    chunk is done, so a small file that fits in one chunk shows nothing. :meth:`close` ends the
    line if anything was drawn.
    """

    def __init__(self, stream: TextIO | None = None, *, enabled: bool | None = None,
                 label: str = "rating"):
        self.stream = stream if stream is not None else sys.stderr
        if enabled is None:
            isatty = getattr(self.stream, "isatty", None)
            enabled = bool(isatty and isatty())
        self.enabled, self.label = enabled, label
        self.calls = 0
        self.drawn = False
        self.started = time.perf_counter()

    def __call__(self, rows_done: int, total: int | None) -> None:
        self.calls += 1
        if not self.enabled or self.calls < 2:
            return
        line = f"{self.label}: {rows_done:,} rows"
        if total:
            line += f" of {total:,} ({100 * rows_done / total:.0f}%)"
        seconds = time.perf_counter() - self.started
        if seconds > 0:
            line += f", {rows_done / seconds:,.0f} rows/s"
        self.stream.write("\r" + line + "\x1b[K")
        self.stream.flush()
        self.drawn = True

    def close(self) -> None:
        if self.drawn:
            self.stream.write("\n")
            self.stream.flush()
            self.drawn = False


def stderr_progress(stream: TextIO | None = None, *, enabled: bool | None = None) -> StderrProgress:
    """A ``progress`` callback for :func:`rate_file` drawing one updating line on stderr."""
    return StderrProgress(stream, enabled=enabled)


# --- formats ---------------------------------------------------------------------------------

def _format(path: Path, role: str) -> str:
    fmt = FORMATS.get(path.suffix.lower())
    if fmt is None:
        shown = f"extension {path.suffix!r}" if path.suffix else "no extension"
        raise RatingError(f"{path}: {role} file has {shown}; use one of: "
                          + ", ".join(FORMATS))
    return fmt


def _pyarrow():
    try:
        import pyarrow
        import pyarrow.parquet  # noqa: F401 -- loads pyarrow.parquet for callers
    except ImportError:
        raise RatingError("Parquet files need pyarrow: pip install 'rating[parquet]'") from None
    return pyarrow


@dataclass
class _Chunk:
    offset: int             # global row number of the first row
    frame: pd.DataFrame     # for the engine, indexed by global row number
    source: Any             # the rows as read, to write back (DataFrame or pyarrow batch)

    def take(self, positions: np.ndarray):
        if isinstance(self.source, pd.DataFrame):
            return self.source.iloc[positions]
        return self.source.take(positions)


class _CsvReader:
    total = None
    schema = None

    def __init__(self, path: Path, chunk_rows: int):
        self.path = path
        options = dict(dtype=str, encoding="utf-8-sig")
        try:
            _check_header(path)
            self.columns = list(pd.read_csv(path, nrows=0, **options).columns)
            self._chunks = pd.read_csv(path, chunksize=chunk_rows, **options)
        except pd.errors.EmptyDataError:
            raise RatingError(f"{path}: empty file; the first line must name the columns") from None
        except (UnicodeDecodeError, pd.errors.ParserError) as exc:
            raise RatingError(f"{path}: not a readable UTF-8 CSV file: {_one_line(exc)}") from None

    def __iter__(self) -> Iterator[_Chunk]:
        offset = 0
        try:
            for frame in self._chunks:
                frame.index = pd.RangeIndex(offset, offset + len(frame))
                yield _Chunk(offset, frame, frame)
                offset += len(frame)
        except (UnicodeDecodeError, pd.errors.ParserError) as exc:
            raise RatingError(f"{self.path}: not a readable UTF-8 CSV file: "
                              f"{_one_line(exc)}") from None

    def close(self) -> None:
        self._chunks.close()


class _ParquetReader:
    def __init__(self, path: Path, chunk_rows: int):
        pa = _pyarrow()
        self.path, self.chunk_rows = path, chunk_rows
        try:
            self._file = pa.parquet.ParquetFile(path)
        except pa.ArrowException as exc:
            raise RatingError(f"{path}: not a readable Parquet file: {_one_line(exc)}") from None
        schema = self._file.schema_arrow
        meta = schema.pandas_metadata or {}
        index = {c for c in meta.get("index_columns", []) if isinstance(c, str)}
        self.columns = [n for n in schema.names if n not in index]  # a stored pandas index
        self.schema = pa.schema([schema.field(c) for c in self.columns])
        self.total = self._file.metadata.num_rows

    def __iter__(self) -> Iterator[_Chunk]:
        offset = 0
        batches = self._file.iter_batches(batch_size=self.chunk_rows, columns=self.columns,
                                          use_pandas_metadata=False)
        empty = True
        for batch in batches:
            empty = False
            yield self._chunk(offset, batch)
            offset += batch.num_rows
        if empty:  # no row groups: still one (empty) chunk, as for a CSV with only a header
            yield self._chunk(0, _pyarrow().RecordBatch.from_pylist([], schema=self.schema))

    @staticmethod
    def _chunk(offset: int, batch) -> _Chunk:
        frame = batch.to_pandas(ignore_metadata=True)
        frame.index = pd.RangeIndex(offset, offset + len(frame))
        return _Chunk(offset, frame, batch)

    def close(self) -> None:
        self._file.close()


class _Layout:
    """The rating columns of the output, fixed by the first chunk with rated rows.

    Later chunks are brought to the same columns: a factor (``factor_``/``group_``) column a
    chunk lacks is 1, as :func:`rate_portfolio` fills it for a book without that step.
    """

    def __init__(self, input_columns: list[str]):
        self.inputs = list(input_columns)
        self.columns: list[str] | None = None

    def names(self, rated_columns) -> dict[str, str]:
        taken = set(self.inputs)
        renamed = {}
        for name in rated_columns:
            new = f"{RATED_PREFIX}{name}" if name in taken else name
            if new in taken:
                raise RatingError(f"input column {new!r} clashes with the rating column of "
                                  "that name; rename or drop it")
            renamed[name] = new
        return renamed

    def fit(self, rated: pd.DataFrame, offset: int) -> pd.DataFrame:
        rated = rated.rename(columns=self.names(rated.columns))
        if not len(rated):
            return rated
        if self.columns is None:
            self.columns = list(rated.columns)
            return rated
        extra = [c for c in rated.columns if c not in self.columns]
        if extra:
            raise RatingError(
                f"rows from data row {offset} on are rated on a book with columns the first "
                f"rated chunk lacks ({', '.join(extra)}); rate with one book or a larger "
                "chunk_rows")
        if list(rated.columns) != self.columns:
            rated = rated.reindex(columns=self.columns)
            for c in self.columns:
                if c.startswith(("factor_", "group_")):
                    rated[c] = rated[c].fillna(1.0)
        return rated

    def empty_result(self) -> pd.DataFrame:
        """The rating columns for an output without rows."""
        names = self.columns or list(self.names(RESULT_COLUMNS).values())
        plain = {v: k for k, v in self.names(RESULT_COLUMNS).items()}
        return pd.DataFrame({c: pd.Series(dtype=str if plain.get(c, c) in _TEXT_RESULTS
                                          else np.float64) for c in names})


# --- writers ---------------------------------------------------------------------------------

class _CsvWriter:
    def __init__(self, path: Path, input_columns: list[str], input_schema=None):
        self.path = path
        self.inputs = input_columns
        self.fh = open(path, "w", encoding="utf-8", newline="")
        self.header = True

    def write(self, source: pd.DataFrame | Any, rated: pd.DataFrame) -> None:
        if not isinstance(source, pd.DataFrame):  # a pyarrow batch: Arrow types keep
            # whole numbers whole where a chunk has nulls (numpy would make them floats)
            source = source.to_pandas(ignore_metadata=True, types_mapper=pd.ArrowDtype)
        source = source.set_axis(rated.index, axis=0)
        self.write_frame(pd.concat([source, rated], axis=1))

    def write_frame(self, frame: pd.DataFrame) -> None:
        frame.to_csv(self.fh, header=self.header, index=False, lineterminator="\n")
        self.header = False

    def finish(self, empty: pd.DataFrame) -> None:
        if self.header:  # nothing written: the header alone
            cols = self.inputs + [c for c in empty.columns if c not in self.inputs]
            self.fh.write(pd.DataFrame(columns=cols).to_csv(index=False, lineterminator="\n"))
        self.fh.flush()
        os.fsync(self.fh.fileno())
        self.fh.close()

    def abort(self) -> None:
        self.fh.close()


class _ParquetWriter:
    def __init__(self, path: Path, input_columns: list[str], input_schema=None):
        self.pa = _pyarrow()
        self.path = path
        self.inputs = input_columns
        self.input_schema = input_schema  # arrow schema of a Parquet input; None for CSV
        self.writer: Any = None  # a pyarrow ParquetWriter, opened by the first chunk
        self.schema: Any = None

    def _inputs(self, source) -> Any:
        pa = self.pa
        if isinstance(source, pd.DataFrame):  # CSV text: strings
            return pa.table({c: pa.array(source[c].to_numpy(dtype=object), type=pa.string(),
                                         from_pandas=True) for c in source.columns})
        return pa.Table.from_batches([source])

    def _table(self, inputs, rated: pd.DataFrame):
        pa = self.pa
        columns = dict(zip(inputs.column_names, inputs.columns))
        for c in rated.columns:
            values = rated[c]
            if values.dtype.kind == "f":
                columns[c] = pa.array(values.to_numpy(dtype=np.float64), type=pa.float64())
            else:
                columns[c] = pa.array(values.to_numpy(dtype=object), type=pa.string(),
                                      from_pandas=True)
        table = pa.table(columns)
        if self.schema is None:  # fixed by the first chunk written
            self.schema = table.schema.remove_metadata()
            self.writer = pa.parquet.ParquetWriter(self.path, self.schema)
        return table.cast(self.schema)

    def write(self, source, rated: pd.DataFrame) -> None:
        self._write(self._table(self._inputs(source), rated))

    def _write(self, table) -> None:
        self.writer.write_table(table)

    def finish(self, empty: pd.DataFrame) -> None:
        if self.writer is None:  # nothing written: an empty file with the full schema
            pa = self.pa
            if self.input_schema is not None:
                inputs = self.input_schema.empty_table()
            else:
                inputs = pa.table({c: pa.array([], type=pa.string()) for c in self.inputs})
            self._write(self._table(inputs, empty))  # _table opens the writer
        self.writer.close()

    def abort(self) -> None:
        if self.writer is not None:
            try:
                self.writer.close()
            except Exception:  # the temporary file is deleted anyway
                pass


# --- atomic files ----------------------------------------------------------------------------

@contextmanager
def atomic_outputs(*paths: Path) -> Iterator[list[Path]]:
    """Temporary files beside ``paths``, one each, renamed onto them in the order given when
    the block ends normally and removed when it raises: every output appears whole or not at
    all, and a killed run leaves only hidden ``.NAME.*.tmp`` files.

    Parameters
    ----------
    *paths : Path
        The outputs, in the order they are committed (a file that must never be missing
        beside another goes first).

    Yields
    ------
    list of Path
        The temporary files to write, in the order of ``paths``.

    Raises
    ------
    RatingError
        An output folder that does not exist or an output path that is a folder (before the
        block runs), or an error writing a temporary file, naming the user's path.
    """
    for path in paths:
        check_writable(path)
    temps: list[Path] = []
    try:
        for path in paths:
            fd, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp",
                                        dir=path.parent or ".")
            os.close(fd)
            temps.append(Path(name))
        yield list(temps)
        for path, temp in zip(paths, temps):
            os.chmod(temp, _new_file_mode(path))
            os.replace(temp, path)
    except OSError as exc:
        ours = {str(t): p for t, p in zip(temps, paths)}
        if exc.filename is not None and str(exc.filename) in ours:
            raise _output_error(ours[str(exc.filename)], exc) from None
        raise
    finally:
        for temp in temps:
            temp.unlink(missing_ok=True)


def read_table(path: str | os.PathLike, **csv_options) -> pd.DataFrame:
    """A whole CSV or Parquet file as a DataFrame, with one-line errors for unreadable files
    (missing, not UTF-8, malformed)."""
    path = Path(path)
    kind = _format(path, "input")
    try:
        if kind == "parquet":
            return _pyarrow().parquet.read_table(path).to_pandas()
        _check_header(path)
        return pd.read_csv(path, encoding="utf-8", **csv_options)
    except FileNotFoundError:
        raise RatingError(f"{path}: no such file") from None
    except (UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise RatingError(f"{path}: not a readable UTF-8 {kind.upper()} file: "
                          f"{_one_line(exc)}") from None


def _check_header(path: Path) -> None:
    """Refuse a CSV file whose header names a column twice (pandas would rename the second
    ``headcount.1``, reported as an unknown field)."""
    try:
        with open(path, encoding="utf-8-sig", newline="") as f:
            header = next(csv.reader(f), [])
    except (UnicodeDecodeError, csv.Error):
        return  # reported by the CSV reader
    seen = set()
    for name in (h.strip() for h in header):
        if name in seen and name:
            raise RatingError(f"{path}: the column {name!r} appears twice in the header; give "
                              "each column once")
        seen.add(name)


def check_writable(dst: Path) -> None:
    """Refuse an output path whose folder does not exist, or that is a folder, before any
    work is done."""
    folder = dst.parent if str(dst.parent) else Path(".")
    if not folder.is_dir():
        raise RatingError(f"{dst}: the folder {folder} does not exist")
    if dst.is_dir():
        raise RatingError(f"{dst}: is a folder; give a file name for the output")


def _output_error(dst: Path, exc: OSError) -> RatingError:
    """An error writing an output, naming the user's path rather than our temporary file."""
    return RatingError(f"{dst}: cannot write the output: {exc.strerror or exc}")


def write_atomically(dst: Path, text: str, *more: tuple[Path, str]) -> None:
    """Write ``text`` to ``dst`` (UTF-8), and each further ``(path, text)``, through
    :func:`atomic_outputs`: all appear, in the order given, or none."""
    files = [(dst, text), *more]
    with atomic_outputs(*(path for path, _ in files)) as temps:
        for temp, (_, content) in zip(temps, files):
            temp.write_text(content, encoding="utf-8")


def _new_file_mode(dst: Path) -> int:
    """The mode ``dst`` has, or the one a newly created file would get (mkstemp makes 0600)."""
    try:
        return dst.stat().st_mode & 0o7777
    except FileNotFoundError:
        mask = os.umask(0)
        os.umask(mask)
        return 0o666 & ~mask


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split())
