"""The ``rating`` command.

Every failure the user can cause ends in one line on stderr and a non-zero exit:
2 for bad input, 1 for ``validate`` finding invalid files. Set ``RATING_DEBUG=1`` to see the
traceback of an unexpected error.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from . import __version__
from .book import books, load_any, load_book
from .book.yamlsafe import load_yaml_file
from .errors import BookError, ProfileError, RatingError
from .profile_fields import FIELDS
from .quote import Quote, quote

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
    args = parser.parse_args(argv)
    try:
        return args.run(args)
    except RatingError as exc:
        print(f"rating: error: {exc}", file=sys.stderr)
        return 2
    except (OSError, LookupError) as exc:
        print(f"rating: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    except Exception as exc:  # a bug: say so in one line unless asked for the traceback
        if os.environ.get("RATING_DEBUG"):
            raise
        print(f"rating: internal error: {type(exc).__name__}: {exc} "
              "(set RATING_DEBUG=1 for the traceback)", file=sys.stderr)
        return 70


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
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
    fields = q.add_argument_group("profile fields (override --input / --example)")
    for name, spec in FIELDS.items():
        unit = f" ({spec.unit})" if spec.unit else ""
        fields.add_argument(f"--{name.replace('_', '-')}", dest=f"field_{name}",
                            metavar="VALUE", help=f"{spec.en} / {spec.zh}{unit}")
    q.set_defaults(run=_cmd_quote)

    v = sub.add_parser("validate", help="validate rate books and reference files")
    v.add_argument("files", nargs="+", metavar="FILE")
    v.set_defaults(run=_cmd_validate)

    b = sub.add_parser("books", help="list the shipped rate books")
    b.add_argument("--lang", choices=["zh", "en"], default="en")
    b.add_argument("--json", action="store_true")
    b.set_defaults(run=_cmd_books)
    return parser


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
    if not profile:
        raise ProfileError("profile", "give --example, --input FILE or profile fields "
                           "(see rating quote --help)")
    book = load_book(args.book) if args.book else None
    date = _date(args.date, "--date") if args.date else None
    try:
        result = quote(profile, book=book, date=date)
    except ProfileError as exc:
        if (exc.field,) in lines:  # point at the line of the profile file
            raise ProfileError(f"{args.input}:{lines[(exc.field,)]}: {exc.field}",
                               exc.reason) from None
        raise
    if args.json:
        print(json.dumps(result.to_dict(), ensure_ascii=False, indent=2, default=str))
    else:
        print(render_quote(result, args.lang))
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


def _cmd_validate(args) -> int:
    bad = 0
    for name in args.files:
        try:
            obj = load_any(Path(name))
        except BookError as exc:
            print(str(exc), file=sys.stderr)
            bad += 1
            continue
        ident = getattr(obj, "id", type(obj).__name__)
        print(f"{name}: OK ({ident}, sha256 {obj.sha256[:12]})")
    return 1 if bad else 0


def _cmd_books(args) -> int:
    shipped = books()
    if args.json:
        print(json.dumps([{"id": b.id, "jurisdiction": b.jurisdiction,
                           "effective_from": b.effective_from.isoformat(),
                           "effective_to": b.effective_to and b.effective_to.isoformat(),
                           "status": b.status, "title": b.title(args.lang), "sha256": b.sha256}
                          for b in shipped], ensure_ascii=False, indent=2))
        return 0
    for b in shipped:
        print(f"{b.id}  {b.jurisdiction}  {b.effective_from} .. {b.effective_to or 'open'}  "
              f"{b.status}  {b.title(args.lang)}")
    return 0


def _date(text: str, what: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise ProfileError(what, f"{text!r} is not a date written YYYY-MM-DD") from None


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
