"""What changed between two rate-book editions, key by key and value by value.

The two books are compared as the documents they were read from (:func:`as_data`: the parsed
book rebuilt, so a default written out and a default left out are the same), generically: a
mapping key by key, a list position by position, anything else by value. Every difference
is one :class:`Change` with its dotted key path (``sectors.construction.subsectors.general.
base_rate``, ``[i]`` for a list position).
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import Any, Literal

from .model import RateBook
from .schema import as_data

__all__ = ["Change", "diff_books", "diff_data", "render_changes"]


@dataclass(frozen=True)
class Change:
    """One difference: ``kind`` ``changed`` (``old`` -> ``new``), ``added`` (only ``new``)
    or ``removed`` (only ``old``), at ``path``."""

    path: str
    kind: Literal["changed", "added", "removed"]
    old: Any = None
    new: Any = None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"path": self.path, "change": self.kind}
        if self.kind != "added":
            out["old"] = _plain(self.old)
        if self.kind != "removed":
            out["new"] = _plain(self.new)
        return out

    def __str__(self) -> str:
        if self.kind == "changed":
            return f"{self.path}: {_show(self.old)} -> {_show(self.new)}"
        if self.kind == "added":
            return f"{self.path}: added {_show(self.new)}"
        return f"{self.path}: removed {_show(self.old)}"


def diff_books(old: RateBook, new: RateBook) -> list[Change]:
    """The differences from ``old`` to ``new``, in document order (``old``'s keys first)."""
    return diff_data(as_data(old), as_data(new))


def diff_data(old: Any, new: Any, path: str = "") -> list[Change]:
    """The differences between two parsed documents (mappings, lists, scalars)."""
    out: list[Change] = []
    _diff(old, new, path, out)
    return out


def _diff(old: Any, new: Any, path: str, out: list[Change]) -> None:
    if isinstance(old, dict) and isinstance(new, dict):
        for key in old:
            sub = f"{path}.{key}" if path else str(key)
            if key not in new:
                out.append(Change(sub, "removed", old=old[key]))
            else:
                _diff(old[key], new[key], sub, out)
        for key in new:
            if key not in old:
                out.append(Change(f"{path}.{key}" if path else str(key), "added", new=new[key]))
        return
    if isinstance(old, (list, tuple)) and isinstance(new, (list, tuple)):
        for i in range(max(len(old), len(new))):
            sub = f"{path}[{i}]"
            if i >= len(new):
                out.append(Change(sub, "removed", old=old[i]))
            elif i >= len(old):
                out.append(Change(sub, "added", new=new[i]))
            else:
                _diff(old[i], new[i], sub, out)
        return
    if (type(old) is not type(new) and not _both_numbers(old, new)) or old != new:
        out.append(Change(path, "changed", old=old, new=new))


def _both_numbers(a: Any, b: Any) -> bool:
    return all(isinstance(x, (int, float)) and not isinstance(x, bool) for x in (a, b))


def _plain(value: Any) -> Any:
    """A value as JSON takes it (dates as ISO text, tuples as lists)."""
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def _show(value: Any) -> str:
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        value = int(value)  # 150, as written, rather than the reader's 150.0
    text = json.dumps(_plain(value), ensure_ascii=False, sort_keys=False)
    return text if len(text) <= 200 else text[:197] + "..."


def render_changes(old: RateBook, new: RateBook, changes: list[Change]) -> str:
    """The text form: a header naming both books, then one line per change."""
    if not changes:
        return f"{old.id} -> {new.id}: no differences"
    n = len(changes)
    lines = [f"{old.id} -> {new.id}: {n} difference{'s' if n != 1 else ''}"]
    lines += [f"  {c}" for c in changes]
    return "\n".join(lines)
