"""Floating groups published on their own, which rate books include by id.

A scheme such as Fuyang's honours-and-accidents float has no base rates, so it is not a book:
it is a sourced :class:`FloatGroup` in ``tables/floating/``, and a book's floating section
names it, ``groups: {fuyang: {include: CN-AH-FY-FLOAT}}``. The book is read as if the group
were written in it, its sources merged into the book's (a source key may not mean two
documents).
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .model import JURISDICTION, FloatGroup, Label, Source
from .schema import as_data

if TYPE_CHECKING:
    from .schema import Reader


@dataclass(frozen=True, kw_only=True)
class FloatGroupFile:
    """A floating group as published: identity, sources, and the group itself."""

    id: str
    title: Label
    jurisdiction: str
    notes: str | None = None
    sources: dict[str, Source]
    group: FloatGroup
    sha256: str = field(init=False, default="", compare=False)

    def _check(self, reader: Reader, path: tuple) -> None:
        if not JURISDICTION.match(self.jurisdiction):
            raise reader.error(path + ("jurisdiction",), f"{self.jurisdiction!r} is not a "
                               "jurisdiction code; use CN, CN-XX or CN-XX-YY")
        for name, table in self.group.factors.items():
            if table.source is not None and table.source not in self.sources:
                raise reader.error(path + ("group", "factors", name, "source"),
                                   f"unknown source {table.source!r}; define it under "
                                   "'sources'")


def with_groups(data: Any, groups: Mapping[str, FloatGroupFile], reader: Reader) -> Any:
    """``data`` (a parsed book) with each ``{include: ID}`` floating group replaced by the
    group it names, and that group's sources added to the book's.

    Raises
    ------
    BookError
        An unknown id, or a source key the book already uses for another document.
    """
    if not isinstance(data, dict) or not isinstance(data.get("floating"), dict) \
            or not isinstance(data["floating"].get("groups"), dict):
        return data
    named = {k: g for k, g in data["floating"]["groups"].items()
             if isinstance(g, dict) and set(g) == {"include"}}
    if not named:
        return data
    out = copy.copy(data)
    out["floating"] = dict(data["floating"], groups=dict(data["floating"]["groups"]))
    out["sources"] = dict(data.get("sources") or {})
    for key, ref in named.items():
        where = ("floating", "groups", key, "include")
        found = groups.get(str(ref["include"]))
        if found is None:
            raise reader.error(where, f"no floating group {ref['include']!r}; shipped: "
                               + (", ".join(groups) or "none"))
        out["floating"]["groups"][key] = as_data(found.group)
        for name, source in found.sources.items():
            wanted = as_data(source)
            if name in out["sources"] and out["sources"][name] != wanted:
                raise reader.error(where, f"the group's source {name!r} is another document "
                                   "than the book's source of that name; rename one")
            out["sources"][name] = wanted
    return out
