"""The ``rating`` command.

Every failure the user can cause ends in one line on stderr and a non-zero exit:
2 for bad input (usage errors included, and ``validate`` finding invalid files), 1 for
``diff`` finding differences (as diff(1)). A bug ends
in one line saying "internal error" and exit 70; set ``RATING_DEBUG=1`` to see its traceback.
Warnings of the package's own (a fit that did not converge, a level that is not estimable, a
rate book used that is draft or illustrative) are one line each on stderr,
``rating: warning: ...``. When the reader of the output goes away
(``rating books | head -1``) the command stops quietly with exit 141 (128 + SIGPIPE).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from . import __version__
from .book import books, injury_scales, load_book
from .book.dates import as_date
from .book.fields import FIELDS
from .book.library import (
    ENV,
    check_in_force,
    check_status,
    find_edition,
    get_book,
    library,
    origin_of,
    status_note,
)
from .book.schema import as_data
from .book.yamlsafe import load_yaml_file
from .engine.columns import MAX_NUMBER
from .engine.limits import build_schedule, per_person_floor, work_injury_benchmark
from .errors import BookError, Collected, ProfileError, RatingError
from .files import (
    check_writable,
    rate_file,
    read_table,
    stderr_progress,
    write_atomically,
)
from .quote import Quote, quote
from .settlement import COVERAGE_LABELS, load_claims, settle_year

EXAMPLE_PROFILE: dict[str, Any] = {
    "id": "example-hazchem-001",
    "jurisdiction": "CN-FJ-XM",
    "sector": "hazardous_chemicals",
    "subsector": "production",
    "headcount": 120,
    "scale": "small",
    "product": "flammable_explosive",
    "inception_date": "2026-01-01",
    "accidents_general": 1,
    "standardisation_grade": "grade_2",
    "claim_free_years": 0,
    "commission_rate": 0.03,
}
"""The enterprise quoted by ``rating quote --example``: a small hazardous-chemicals producer
in Xiamen with one general accident last year and grade-2 standardisation."""


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help, --version, or a usage error already printed
        return exc.code if isinstance(exc.code, int) else 2
    try:
        with warnings.catch_warnings():
            # the package's own warnings (a fit that did not converge, a level that is not
            # estimable) as one line each on stderr; library noise stays silent
            warnings.simplefilter("ignore")
            warnings.filterwarnings("always", module=r"rating(\.|$)")
            warnings.filterwarnings("ignore", r".* encountered in ", RuntimeWarning)  # numpy
            warnings.showwarning = _one_line_warning(set())
            code = args.run(args)
            sys.stdout.flush()  # a closed pipe shows here, not at exit
            return code
    except BrokenPipeError:
        # the reader went away (``rating books | head -1``): stop quietly, as a killed
        # pipeline stage does (128 + SIGPIPE)
        _silence_stdout()
        return 141
    except RatingError as exc:
        print(f"rating: error: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"rating: error: {_os_message(exc)}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    except Exception as exc:  # a bug (a KeyError too): one line unless RATING_DEBUG asks for more
        if os.environ.get("RATING_DEBUG"):
            raise
        print(f"rating: internal error: {type(exc).__name__}: {exc} "
              "(set RATING_DEBUG=1 for the traceback)", file=sys.stderr)
        return 70


def _one_line_warning(seen: set):
    """A ``warnings.showwarning`` printing each distinct message once, on one line."""
    def show(message, category, filename, lineno, file=None, line=None):
        text = " ".join(str(message).split())
        if text not in seen:
            seen.add(text)
            print(f"rating: warning: {text}", file=sys.stderr)
    return show


def _silence_stdout() -> None:
    """Point stdout at /dev/null so the interpreter's final flush cannot fail again."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):  # no real stdout (e.g. captured in tests)
        pass


def _os_message(exc: OSError) -> str:
    """An OSError as one line naming the file the user gave."""
    if exc.filename is not None and exc.strerror:
        return f"{exc.filename}: {exc.strerror}"
    return str(exc)


class _Parser(argparse.ArgumentParser):
    """Usage errors in one line, as every other error (the usage is one --help away)."""

    def error(self, message: str):
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def _amount(text: str) -> float:
    """A positive, finite amount in yuan, at most MAX_NUMBER (for --per-person-limit)."""
    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    if not (0 < value <= MAX_NUMBER):  # NaN fails too
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a valid amount; give yuan as a finite number above 0 and at "
            f"most {MAX_NUMBER:g} (and not below the statutory floor)")
    return value


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="rating", description="Premium rating for work-safety liability insurance (安责险).")
    parser.add_argument("--version", action="version", version=f"rating {__version__}")
    sub = parser.add_subparsers(required=True, metavar="COMMAND")

    q = sub.add_parser("quote", help="price one enterprise")
    q.add_argument("--example", action="store_true", help="quote the built-in example enterprise")
    q.add_argument("--input", metavar="FILE", help="enterprise profile (YAML or JSON)")
    q.add_argument("--book", metavar="FILE", help="rate book to use (default: the shipped "
                   "edition in force for the jurisdiction and date)")
    q.add_argument("--date", metavar="YYYY-MM-DD", help="rating date (default: inception date)")
    q.add_argument("--json", action="store_true", help="print JSON")
    q.add_argument("--lang", choices=["zh", "en"], default="en", help="label language")
    _library_options(q)
    fields = q.add_argument_group("profile fields (override --input / --example)")
    for name, spec in FIELDS.items():
        unit = f" ({spec.unit})" if spec.unit else ""
        fields.add_argument(f"--{name.replace('_', '-')}", dest=f"field_{name}",
                            metavar="VALUE", help=f"{spec.en} / {spec.zh}{unit}")
    q.set_defaults(run=_cmd_quote)

    v = sub.add_parser("validate", help="validate any file the package reads (the kind is "
                       "told from its content)",
                       description="Validate files. The kind of each file is told from its "
                       "keys: " + ", ".join(FILE_KINDS) + ". Prints 'OK kind: FILE' or the "
                       "error (FILE:LINE: key path: reason); exit 2 if any file is invalid.")
    v.add_argument("files", nargs="+", metavar="FILE")
    v.add_argument("--kind", choices=list(FILE_KINDS),
                   help="read every FILE as this kind instead of telling it from the content")
    v.set_defaults(run=_cmd_validate)

    lim = sub.add_parser("limits", help="the per-person floor, scale, default schedule and "
                         "work-injury benchmark")
    lim.add_argument("--jurisdiction", required=True)
    lim.add_argument("--date", required=True, metavar="YYYY-MM-DD")
    lim.add_argument("--book", metavar="FILE")
    lim.add_argument("--per-person-limit", type=_amount, metavar="YUAN",
                     help="show the schedule for this limit (default: the floor)")
    lim.add_argument("--json", action="store_true")
    lim.add_argument("--lang", choices=["zh", "en"], default="en")
    _library_options(lim)
    lim.set_defaults(run=_cmd_limits)

    st = sub.add_parser("settle", help="settle the accidents in a claim file (YAML or JSON)")
    st.add_argument("file", metavar="FILE")
    st.add_argument("--json", action="store_true")
    st.add_argument("--lang", choices=["zh", "en"], default="en")
    _library_options(st, explicit=False)
    st.set_defaults(run=_cmd_settle)

    pf = sub.add_parser("portfolio", help="rate a portfolio file (CSV or Parquet)")
    pf.add_argument("input", metavar="IN")
    pf.add_argument("-o", "--output", required=True, metavar="OUT",
                    help="output file (.csv or .parquet); written only if the run succeeds")
    pf.add_argument("--book", metavar="FILE")
    pf.add_argument("--date", metavar="YYYY-MM-DD")
    pf.add_argument("--chunk-rows", type=int, default=200_000, metavar="N")
    pf.add_argument("--collect-errors", action="store_true",
                    help="rate the good rows and write the bad ones to OUT.problems.csv")
    _library_options(pf)
    pf.set_defaults(run=_cmd_portfolio)

    cal = sub.add_parser("calibrate", help="calibrate a new rate book from loss experience")
    cal.add_argument("experience", metavar="EXPERIENCE",
                     help="folder with policy_years.csv and claims.csv (or .parquet)")
    cal.add_argument("--base", required=True, metavar="BOOK",
                     help="the base rate book (YAML file, or the id of a library or shipped "
                     "book)")
    cal.add_argument("--config", required=True, metavar="FILE",
                     help="calibration config (YAML; see examples/calibration.yaml)")
    cal.add_argument("-o", "--output", required=True, metavar="NEW_BOOK.yaml")
    _library_options(cal, explicit=False)
    cal.set_defaults(run=_cmd_calibrate)

    dis = sub.add_parser("dislocation", help="premium changes of a portfolio between two books")
    dis.add_argument("old", metavar="OLD", help="the current rate book (YAML file or book id)")
    dis.add_argument("new", metavar="NEW", help="the proposed rate book (YAML file or book id)")
    dis.add_argument("portfolio", metavar="PORTFOLIO", help="profiles (CSV or Parquet)")
    dis.add_argument("--date", metavar="YYYY-MM-DD", help="rating date for every row")
    dis.add_argument("--plot", metavar="PNG", help="also write a histogram of the changes")
    dis.add_argument("--collect-errors", action="store_true",
                     help="leave bad rows out (counted in the report) instead of stopping")
    dis.add_argument("--lang", choices=["zh", "en"], default="en")
    _library_options(dis, explicit=False)
    dis.set_defaults(run=_cmd_dislocation)

    sc = sub.add_parser("scenarios", help="rate a portfolio under scenarios (YAML) and "
                        "summarise the changes")
    sc.add_argument("portfolio", metavar="PORTFOLIO", help="profiles (CSV or Parquet)")
    sc.add_argument("scenarios", metavar="SCENARIOS.yaml",
                    help="one scenario, or 'scenarios:' and a list (see rating.scenarios.spec)")
    sc.add_argument("-o", "--output", required=True, metavar="SUMMARY.csv",
                    help="the tidy summary: one row per scenario and segment")
    sc.add_argument("--by", default="sector", metavar="COLUMNS",
                    help="segment columns, comma-separated (default: sector; '' for totals)")
    sc.add_argument("--policies", metavar="FILE.csv",
                    help="also write one row per policy and scenario")
    sc.add_argument("--book", metavar="FILE")
    sc.add_argument("--date", metavar="YYYY-MM-DD", help="rating date for every row")
    sc.add_argument("--collect-errors", action="store_true",
                    help="leave rows bad under any scenario out of all of them and write the "
                         "problems to SUMMARY.problems.csv")
    _library_options(sc)
    sc.set_defaults(run=_cmd_scenarios)

    b = sub.add_parser("books", help="list the rate books: shipped, and a library's")
    b.add_argument("--lang", choices=["zh", "en"], default="en")
    b.add_argument("--json", action="store_true")
    b.add_argument("--books", metavar="DIR", help=f"also list this library (default: ${ENV})")
    b.set_defaults(run=_cmd_books)

    sch = sub.add_parser("schema", help="print the JSON Schema of a file kind (for editors)",
                         description="Print a JSON Schema (draft 2020-12) generated from the "
                         "same definitions the loader reads files with. Rules across fields "
                         "are checked only by 'rating validate' (see the schema's "
                         "description).")
    sch.add_argument("kind", choices=list(FILE_KINDS), metavar="KIND",
                     help="one of: " + ", ".join(FILE_KINDS))
    sch.add_argument("-o", "--output", metavar="FILE.json", help="write to FILE instead")
    sch.set_defaults(run=_cmd_schema)
    df = sub.add_parser("diff", help="what changed between two rate-book editions")
    df.add_argument("old", metavar="OLD", help="rate book (YAML file, or a library or shipped "
                    "book's id)")
    df.add_argument("new", metavar="NEW", help="rate book (YAML file or book id)")
    df.add_argument("--json", action="store_true")
    df.add_argument("--books", metavar="DIR", help=f"library the ids may name (default: ${ENV})")
    df.set_defaults(run=_cmd_diff)
    return parser


def _library_options(parser: argparse.ArgumentParser, explicit: bool = True) -> None:
    """--books, --final-only and (where a --book is given) --any-date."""
    parser.add_argument("--books", metavar="DIR", help="an insurer's library of rate books, "
                        "preferred to the shipped ones for the same jurisdiction and date "
                        f"(default: ${ENV})")
    parser.add_argument("--final-only", action="store_true", default=None,
                        help="refuse a draft or illustrative rate book")
    if explicit:
        parser.add_argument("--any-date", action="store_true",
                            help="price on --book whatever its effective dates (what-if)")


def _warn_status(statuses: dict[str, str] | Sequence[Any]) -> None:
    """One line on stderr per rate book used that is not final, after the output (so a reader
    that went away stops the command quietly first)."""
    items = statuses.items() if isinstance(statuses, dict) else \
        {b.id: b.status for b in statuses}.items()
    sys.stdout.flush()
    for book_id, status in items:
        if status != "final":
            print(f"rating: warning: {status_note(book_id, status)}", file=sys.stderr)


def _cmd_quote(args) -> int:
    profile: dict[str, Any] = dict(EXAMPLE_PROFILE) if args.example else {}
    lines: dict = {}
    if args.input:
        data, lines = load_yaml_file(args.input)
        if not isinstance(data, dict):
            raise BookError("a profile must be a mapping of fields", file=args.input, line=1)
        profile.update(data)
    for name in FIELDS:
        value = getattr(args, f"field_{name}")
        if value is not None:
            profile[name] = value.split(",") if name == "extensions" else value
            lines.pop((name,), None)  # an error in it is the flag's, not the file's
    if not profile:
        raise ProfileError("profile", "give --example, --input FILE or profile fields "
                           "(see rating quote --help)")
    book = load_book(args.book) if args.book else None
    date = as_date(args.date, "--date") if args.date else None
    try:
        result = quote(profile, book=book, date=date, books=args.books,
                       final_only=args.final_only, any_date=args.any_date)
    except ProfileError as exc:
        if (exc.field,) in lines:  # point at the line of the profile file
            raise ProfileError(f"{args.input}:{lines[(exc.field,)]}: {exc.field}",
                               exc.reason) from None
        raise
    if args.json:
        print(json.dumps(result.to_dict(), ensure_ascii=False, indent=2, default=str))
    else:
        print(render_quote(result, args.lang))
    _warn_status({result.rate_book_id: result.rate_book_status})
    return 0


def render_quote(q: Quote, lang: str = "en") -> str:
    """A readable worksheet for the terminal."""
    zh = lang == "zh"
    ws = q.worksheet
    label = ws["label_zh" if zh else "label_en"]
    rows = [("步骤" if zh else "step", "输入" if zh else "input", "系数" if zh else "factor",
             "保费" if zh else "premium")]
    for lab, inp, fac, prem in zip(label, ws["input"], ws["factor"], ws["premium"]):
        rows.append((str(lab), _fmt(inp), "" if fac != fac else f"{fac:.6g}", f"{prem:,.2f}"))
    widths = [max(_width(r[i]) for r in rows) for i in range(4)]
    out = [
        f"{'费率表' if zh else 'rate book'}: {q.rate_book_id} ({q.rate_book_status}) "
        f"sha256 {q.rate_book_sha256[:12]}",
        f"{'行业' if zh else 'sector'}: {_sector_label(q, lang)}",
        "",
    ]
    for r in rows:
        out.append("  ".join(_pad(c, w, right=i >= 2) for i, (c, w) in enumerate(zip(r, widths))))
    floor = q.floor
    out += [
        "",
        f"{'保费' if zh else 'premium'}: {q.premium:,.2f} CNY",
        f"{'每人死亡伤残责任限额' if zh else 'per-person limit'}: {q.per_person_limit:,.0f} "
        f"({'法定下限' if zh else 'statutory floor'} {floor.amount:,.0f}, {floor.binding}"
        + (", provisional" if floor.provisional else "") + ")",
        f"{'事故预防费用' if zh else 'prevention fund'}: {q.split.prevention_fund:,.2f}  "
        f"{'佣金' if zh else 'commission'}: {q.split.commission:,.2f}  "
        f"{'其余' if zh else 'net'}: {q.split.net:,.2f}",
    ]
    return "\n".join(out)


def _sector_label(q: Quote, lang: str) -> str:
    sector = q.book.sectors[q.sector]
    return f"{sector.label(lang)} / {sector.subsectors[q.subsector].label(lang)}"


def _fmt(value) -> str:
    if isinstance(value, float):
        return "" if value != value else f"{value:,.10g}"
    return str(value)


def _width(text: str) -> int:
    # CJK characters take two terminal columns
    return sum(2 if ord(ch) > 0x2E80 else 1 for ch in text)


def _pad(text: str, width: int, right: bool) -> str:
    gap = " " * (width - _width(text))
    return gap + text if right else text + gap


def _cmd_portfolio(args) -> int:
    if args.chunk_rows < 1:
        raise ProfileError("--chunk-rows", "must be at least 1")
    book = load_book(args.book) if args.book else None
    date = as_date(args.date, "--date") if args.date else None
    summary = rate_file(args.input, args.output, book=book, date=date,
                        chunk_rows=args.chunk_rows,
                        errors="collect" if args.collect_errors else "raise",
                        progress=stderr_progress(), books=args.books,
                        final_only=args.final_only, any_date=args.any_date)
    line = (f"{summary.rows_out:,} rows rated, premium {summary.premium_total:,.2f} CNY, "
            f"in {summary.seconds:.1f} s -> {summary.dst}")
    if args.collect_errors:
        line += f"; {summary.rows_bad:,} bad rows -> {summary.problems_path}"
    print(line)
    _warn_status(summary.rate_books)
    return 0


def _cmd_calibrate(args) -> int:
    from .calibrate.rebook import calibrate, load_config, read_experience

    check_writable(Path(args.output))
    config = load_config(args.config)
    policy_years, claims = read_experience(args.experience)
    base = get_book(args.base, args.books)
    check_status(base, args.final_only)
    result = calibrate(base, policy_years, claims, config)
    indication = Path(args.output).with_suffix(".indication.csv")
    write_atomically(Path(args.output), result.to_yaml(),
                     (indication, result.indication.to_csv()))
    print(f"{args.output}: {result.book.id}, {len(result.changes)} values changed, "
          f"sha256 {result.book.sha256[:12]}; pure risk loss rates -> {indication}")
    _warn_status([base])
    return 0


def _cmd_dislocation(args) -> int:
    from .calibrate.dislocation import dislocation

    if args.plot:
        check_writable(Path(args.plot))
    portfolio = _read_portfolio(Path(args.portfolio))
    old, new = get_book(args.old, args.books), get_book(args.new, args.books)
    report = dislocation(old, new, portfolio,
                         date=as_date(args.date, "--date") if args.date else None,
                         errors="collect" if args.collect_errors else "raise",
                         final_only=args.final_only)
    print(report.to_text(args.lang))
    if args.plot:
        print(f"histogram -> {report.plot(args.plot)}")
    _warn_status([old, new])
    return 0


def _cmd_scenarios(args) -> int:
    from .scenarios import load_scenarios, rate_scenarios, summarise

    outputs = [Path(args.output)] + ([Path(args.policies)] if args.policies else [])
    for path in outputs:
        check_writable(path)
    by = [c.strip() for c in args.by.split(",") if c.strip()]
    result = rate_scenarios(_read_portfolio(Path(args.portfolio)),
                            load_scenarios(args.scenarios),
                            book=load_book(args.book) if args.book else None,
                            date=as_date(args.date, "--date") if args.date else None,
                            segments=by, errors="collect" if args.collect_errors else "raise",
                            books=args.books, final_only=args.final_only,
                            any_date=args.any_date)
    policies, problems = result if isinstance(result, Collected) else (result, None)
    statuses = policies.attrs.get("rate_books", {})
    summary = summarise(policies, by)
    files = [(outputs[0], summary.to_csv(index=False))]
    if args.policies:
        files.append((outputs[1], policies.to_csv(index=False)))
    if problems is not None:
        path = outputs[0].with_suffix(".problems.csv")
        files.insert(0, (path, problems.to_csv(index=False)))  # never a summary without it
    write_atomically(*files[0], *files[1:])
    if problems is not None:
        bad = problems["row"].nunique()
        print(f"{bad:,} bad row{'s' if bad != 1 else ''} left out -> {path}")
    totals = summarise(policies, [])
    for row in totals.itertuples():
        print(f"{row.scenario}: premium {row.premium:,.2f} CNY ({row.premium_change_pct:+.2%}), "
              f"average per-person limit {row.avg_per_person_limit:,.0f}")
    print(f"summary -> {outputs[0]}" + (f", policies -> {outputs[1]}" if args.policies else ""))
    _warn_status(statuses)
    return 0


def _read_portfolio(path: Path):
    """A portfolio file as text columns, blank CSV cells as missing values."""
    portfolio = read_table(path, dtype=str, keep_default_na=False)
    if path.suffix.lower() != ".parquet":
        portfolio = portfolio.replace("", None)
    return portfolio


def _cmd_validate(args) -> int:
    bad = 0
    for name in args.files:
        kind = None
        try:
            data, lines = load_yaml_file(name)
            kind = args.kind or file_kind(data, name)
            detail = _VALIDATORS[kind](name, data, lines)
        except RatingError as exc:
            what = f" {kind}" if kind else ""
            print(f"INVALID{what}: {exc}", file=sys.stderr, flush=True)
            bad += 1
            continue
        print(f"OK {kind}: {name}" + (f" ({detail})" if detail else ""), flush=True)
    return 2 if bad else 0


def _cmd_books(args) -> int:
    lib = library(args.books)
    listed = books() if lib is None else lib.all_books()
    if args.json:
        print(json.dumps([{"id": b.id, "jurisdiction": b.jurisdiction,
                           "effective_from": b.effective_from.isoformat(),
                           "effective_to": b.effective_to and b.effective_to.isoformat(),
                           "status": b.status, "title": b.title(args.lang), "sha256": b.sha256,
                           "origin": origin_of(b),
                           "sources": {key: as_data(source) for key, source in b.sources.items()}}
                          for b in listed], ensure_ascii=False, indent=2, default=str))
        return 0
    for b in listed:
        print(f"{b.id}  {b.jurisdiction}  {b.effective_from} .. {b.effective_to or 'open'}  "
              f"{b.status}  {b.title(args.lang)}  [{origin_of(b)}]")
    return 0


def _cmd_diff(args) -> int:
    from .book.diff import diff_books, render_changes

    old, new = get_book(args.old, args.books), get_book(args.new, args.books)
    changes = diff_books(old, new)
    if args.json:
        print(json.dumps({"old": {"id": old.id, "sha256": old.sha256, "origin": origin_of(old)},
                          "new": {"id": new.id, "sha256": new.sha256, "origin": origin_of(new)},
                          "changes": [c.to_dict() for c in changes]},
                         ensure_ascii=False, indent=2))
    else:
        print(render_changes(old, new, changes))
    return 1 if changes else 0


def _cmd_limits(args) -> int:
    date = as_date(args.date, "--date")
    if args.book:
        book = load_book(args.book)
        if not args.any_date:
            check_in_force(book, date)
    else:
        book = find_edition(args.jurisdiction, date, args.books)
    check_status(book, args.final_only)
    floor = per_person_floor(book, date)
    per_person = args.per_person_limit if args.per_person_limit is not None else floor.amount
    if per_person < floor.amount:
        raise ProfileError("--per-person-limit", f"{per_person:,.2f} is below the floor "
                           f"{floor.amount:,.0f}")
    schedule, violations = build_schedule(book, np.array([round(per_person * 100)]), {})
    for mask, field_name, reason in violations:
        if mask[0]:
            raise ProfileError(field_name, reason)
    scale = None if book.limits.injury_scale is None else \
        injury_scales()[book.limits.injury_scale]
    bench = work_injury_benchmark(date)
    doc = {
        "rate_book": {"id": book.id, "sha256": book.sha256},
        "jurisdiction": args.jurisdiction, "date": date.isoformat(),
        "floor": {"amount": floor.amount, "binding": floor.binding,
                  "income_year": floor.income_year, "provisional": floor.provisional,
                  "components": [{"name": c.name, "amount": c.amount, "basis": c.basis}
                                 for c in floor.components]},
        "injury_scale": None if scale is None else {
            "id": scale.id, "title": scale.title(args.lang), "ratios": list(scale.ratios)},
        "schedule": {k: int(v[0]) / 100 for k, v in schedule.items()},
        "work_injury": {"death_subsidy": bench.death_subsidy,
                        "national_income": bench.national_income,
                        "income_year": bench.income_year, "provisional": bench.provisional,
                        "disability_months": list(bench.disability_months)},
    }
    if args.json:
        print(json.dumps(doc, ensure_ascii=False, indent=2))
        _warn_status([book])
        return 0
    zh = args.lang == "zh"
    out = [f"{'费率表' if zh else 'rate book'}: {book.id}   {args.jurisdiction} {date}",
           f"{'每人死亡伤残责任限额下限' if zh else 'per-person death/disability floor'}: "
           f"{floor.amount:,.0f} ({floor.binding}"
           + (f", provisional: income {floor.income_year}" if floor.provisional else "") + ")"]
    out += [f"  {c.name:9} {c.amount:>14,.2f}  {c.basis}" for c in floor.components]
    if scale is None:
        out.append(f"{'伤残等级赔付比例' if zh else 'injury scale'}: "
                   + ("费率表未规定" if zh else "none in the rate book (its source gives none)"))
    else:
        out.append(f"{'伤残等级赔付比例' if zh else 'injury scale'}: {scale.title(args.lang)}")
        out.append("  " + "  ".join(f"{g}:{r:.0%}"
                                    for g, r in enumerate(scale.ratios, start=1)))
    out.append(f"{'默认限额表' if zh else 'default schedule'} (per person {per_person:,.0f}):")
    out += [f"  {k:24} {v:>16,.2f}" for k, v in doc["schedule"].items()]
    out.append(f"{'工伤一次性工亡补助金' if zh else 'work-injury death subsidy'}: "
               f"{bench.death_subsidy:,.2f} = {bench.death_multiple:g} × "
               f"{bench.national_income:,.0f} "
               f"(national urban income {bench.income_year}"
               + (", provisional" if bench.provisional else "") + ")")
    out.append(("  一次性伤残补助金（月数）: " if zh else "  disability subsidy (months of wage): ")
               + " ".join(f"{m:g}" for m in bench.disability_months))
    print("\n".join(out))
    _warn_status([book])
    return 0


def _cmd_settle(args) -> int:
    policy, accidents = load_claims(args.file, books=args.books, final_only=args.final_only)
    results = settle_year(policy, accidents)
    if args.json:
        print(json.dumps([r.to_dict() for r in results], ensure_ascii=False, indent=2))
        _warn_status([policy.book])
        return 0
    zh = args.lang == "zh"
    out = [f"{'保单' if zh else 'policy'} {policy.id}: "
           f"{'每人限额' if zh else 'per person'} {policy.schedule.per_person:,.0f}, "
           f"{'每次事故' if zh else 'per accident'} {policy.schedule.per_accident:,.0f}, "
           f"{'累计' if zh else 'aggregate'} {policy.schedule.aggregate:,.0f}"]
    for r in results:
        out.append("")
        out.append(f"{'事故' if zh else 'accident'} {r.accident_id} {r.date} "
                   f"({'等级' if zh else 'grade'} {r.grade}): {r.total:,.2f} CNY, "
                   f"{'赔付方式' if zh else 'track'} {r.track}"
                   + (("（尚无已确定损失，预付 0）" if zh else
                       " (no loss determined yet: nothing advanced so far)")
                      if r.track == "advance" and not r.payments["advance"] else ""))
        for line in r.lines.itertuples(index=False):
            label = COVERAGE_LABELS[line.coverage](args.lang)
            claimed = "" if line.claimed != line.claimed else f"{line.claimed:,.2f}"
            out.append(f"  {line.victim:6} {line.type:12} {label:28} claimed {claimed:>14} "
                       f"limit {line.limit:>14,.2f} pay {line.payout:>14,.2f}")
        out.append("  " + ", ".join(f"{k} {v:,.2f}" for k, v in r.payments.items()))
        out.append(f"  {'累计限额余额' if zh else 'aggregate left'} {r.aggregate_after:,.2f}")
        if r.coinsurance is not None:
            totals = r.coinsurance.drop(columns=["victim", "coverage"]).sum()
            out.append("  " + ", ".join(f"{k} {v:,.2f}" for k, v in totals.items()))
    print("\n".join(out))
    _warn_status([policy.book])
    return 0


# --- files by kind: `rating validate` and `rating schema` ----------------------------------

FILE_KINDS: dict[str, str] = {
    "book": "a rate book (tables/books/*.yaml)",
    "national": "the national rules (tables/national.yaml)",
    "statistics": "income statistics (tables/statistics/*.yaml)",
    "scale": "an injury-grade scale (tables/scales/*.yaml)",
    "floating_group": "a floating group books include (tables/floating/*.yaml)",
    "claims": "a claim file (rating settle)",
    "scenarios": "one scenario or a list (rating scenarios)",
    "calibration": "a calibration config (rating calibrate --config)",
    "profile": "an enterprise profile (rating quote --input)",
}
"""The kinds of file the package reads, as `rating validate` names them."""


def _kind_classes() -> dict[str, Any]:
    """The dataclass each YAML kind is read into (the profile is a mapping of FIELDS)."""
    from .book.groups import FloatGroupFile
    from .book.model import RateBook
    from .book.reference import IncomeStatistics, InjuryScale, NationalRules
    from .calibrate.rebook import CalibrationConfig
    from .scenarios.spec import Scenario
    from .settlement import ClaimFile
    return {"book": RateBook, "national": NationalRules, "statistics": IncomeStatistics,
            "scale": InjuryScale, "floating_group": FloatGroupFile, "claims": ClaimFile,
            "scenarios": Scenario,
            "calibration": CalibrationConfig}


def _top_keys() -> dict[str, set[str]]:
    import dataclasses
    out = {kind: {f.metadata.get("key", f.name) for f in dataclasses.fields(cls) if f.init}
           for kind, cls in _kind_classes().items()}
    out["scenarios"].add("scenarios")
    out["profile"] = set(FIELDS)
    return out


def file_kind(data: Any, file: str | None = None) -> str:
    """The kind of a parsed document (a key of FILE_KINDS), told from its top-level keys.

    Each kind scores the keys that only it has (``per_person_floor``, ``series``, ``ratios``,
    ``policy``/``accidents``, ``loads``, ``sectors``, ``headcount`` ...); the highest score
    wins, so a typo in one key does not change the kind. Without such keys, the kind whose
    keys cover most of the document's wins. A list is a list of scenarios.

    Raises
    ------
    BookError
        When no kind, or more than one equally, fits.
    """
    if isinstance(data, list):
        return "scenarios"
    if not isinstance(data, dict):
        raise BookError(f"expected a mapping (or a list of scenarios), got "
                        f"{type(data).__name__}; cannot tell what kind of file this is",
                        file=file, line=1)
    keys = _top_keys()
    shared = {k for kind in keys for k in keys[kind]
              if sum(k in other for other in keys.values()) > 1}
    for scoring in ({kind: len(set(data) & (ks - shared)) for kind, ks in keys.items()},
                    {kind: len(set(data) & ks) for kind, ks in keys.items()}):
        best = max(scoring.values())
        winners = [kind for kind, n in scoring.items() if n == best]
        if best and len(winners) == 1:
            return winners[0]
        if best:
            raise BookError("cannot tell what kind of file this is: its keys fit "
                            + " and ".join(winners) + " equally; give --kind", file=file, line=1)
    raise BookError("cannot tell what kind of file this is from its keys ("
                    + ", ".join(map(str, list(data)[:6])) + "); kinds: "
                    + ", ".join(FILE_KINDS), file=file, line=1)


def _valid_book(name: str, data: Any, lines: dict) -> str:
    book = load_book(name)
    return f"{book.id}, sha256 {book.sha256[:12]}"


def _valid_reference(kind: str):
    def check(name: str, data: Any, lines: dict) -> str:
        from .book import content_hash
        from .book.schema import Reader
        obj = Reader(lines, name).read(_kind_classes()[kind], data, ())
        ident = getattr(obj, "id", None)
        return (f"{ident}, " if ident else "") + f"sha256 {content_hash(data)[:12]}"
    return check


def _valid_claims(name: str, data: Any, lines: dict) -> str:
    policy, accidents = load_claims(name)
    return f"policy {policy.id}, {len(accidents)} accident{'s' if len(accidents) != 1 else ''}"


def _valid_scenarios(name: str, data: Any, lines: dict) -> str:
    from .scenarios import load_scenarios
    found = load_scenarios(name)
    return ", ".join(s.name for s in found)


def _valid_calibration(name: str, data: Any, lines: dict) -> str:
    from .calibrate.rebook import load_config
    return load_config(name).id


def _valid_profile(name: str, data: Any, lines: dict) -> str:
    """A profile is valid when it quotes: on the book in force for its jurisdiction and
    inception date, as `rating quote --input` would."""
    try:
        result = quote(data)
    except ProfileError as exc:
        line = lines.get((exc.field,))
        if line is None:
            raise BookError(exc.reason, file=name, path=exc.field) from None
        raise BookError(exc.reason, file=name, line=line, path=exc.field) from None
    except RatingError as exc:
        raise BookError(str(exc), file=name) from None
    return f"premium {result.premium:,.2f} on {result.rate_book_id}"


_VALIDATORS = {
    "book": _valid_book,
    "national": _valid_reference("national"),
    "statistics": _valid_reference("statistics"),
    "scale": _valid_reference("scale"),
    "floating_group": _valid_reference("floating_group"),
    "claims": _valid_claims,
    "scenarios": _valid_scenarios,
    "calibration": _valid_calibration,
    "profile": _valid_profile,
}


def file_schema(kind: str) -> dict[str, Any]:
    """The JSON Schema of a kind of file (a key of FILE_KINDS)."""
    from .book import jsonschema as js
    if kind == "profile":
        return js.profile_schema()
    if kind == "book":
        return js.book_schema()
    titles = {"national": "National rules (rating)", "statistics": "Income statistics (rating)",
              "scale": "Injury-grade scale (rating)",
              "floating_group": "Floating group (rating)",
              "claims": "Claim file (rating settle)",
              "scenarios": "Scenarios (rating scenarios)",
              "calibration": "Calibration config (rating calibrate)"}
    schema = js.schema_of(_kind_classes()[kind], title=titles[kind])
    return js.one_or_list(schema, "scenarios", "Scenario") if kind == "scenarios" else schema


def _cmd_schema(args) -> int:
    text = json.dumps(file_schema(args.kind), ensure_ascii=False, indent=2) + "\n"
    if args.output:
        out = Path(args.output)
        check_writable(out)
        write_atomically(out, text)
        print(f"{args.kind} schema -> {out}")
    else:
        sys.stdout.write(text)
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
