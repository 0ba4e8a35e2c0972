"""Strict YAML reading: safe tags only, no duplicate keys, and the line of every key kept.

PyYAML's safe loader silently keeps the last of two duplicate keys; a rate book with two
``base_rate`` entries must be an error instead. We compose the node tree ourselves so that each
value's line is known and every later validation error can name it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from ..errors import BookError

try:  # the C loader is much faster and equally safe
    _Loader = yaml.CSafeLoader
except AttributeError:  # pragma: no cover - depends on how PyYAML was built
    _Loader = yaml.SafeLoader


Lines = dict[tuple, int]
"""Maps a key path (tuple of keys and list indices) to its 1-based line."""


def load_yaml(text: str, file: str | None = None) -> tuple[Any, Lines]:
    """Parse one YAML document strictly.

    Parameters
    ----------
    text : str
        The document.
    file : str, optional
        Name used in error messages.

    Returns
    -------
    data, lines
        Plain Python data (dicts, lists, scalars) and the line of every key path.

    Raises
    ------
    BookError
        On a syntax error, an unsafe tag, a duplicate or non-string key, or an empty document.
    """
    size = len(text.encode("utf-8")) if len(text) * 4 > MAX_BYTES else len(text)
    if size > MAX_BYTES:
        raise BookError(_too_big(size), file=file)
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            raise BookError("the document is empty", file=file, line=1)
        lines: Lines = {}
        data = _build(loader, node, (), lines, file, _Budget(file))
        if data is None:
            raise BookError("the document is empty", file=file, line=1)
        return data, lines
    except yaml.MarkedYAMLError as exc:
        raise syntax_error(text, exc, file) from None
    except yaml.YAMLError as exc:
        raise BookError(f"not valid YAML: {exc}", file=file) from None
    finally:
        loader.dispose()


def syntax_error(text: str, exc: yaml.MarkedYAMLError, file: str | None) -> BookError:
    """A YAML syntax error as one line: the line where the mistake is (for an unclosed
    bracket or quote, the line that opened it; else the line PyYAML stopped on), the key path
    around it, and what PyYAML says, in words that point at the fix."""
    problem = exc.problem or str(exc)
    at = exc.problem_mark.line + 1 if exc.problem_mark is not None else None
    opened = exc.context_mark.line + 1 if exc.context_mark is not None else None
    context = exc.context or ""
    line = at or opened
    if context.startswith(("while parsing a flow", "while scanning a quoted")) and opened:
        what = ("'['" if "sequence" in context else "'{'" if "mapping" in context
                else "the quote")
        if at is not None and at > opened:
            line = opened  # the mistake is the bracket or quote left open, not where it ends
            reason = (f"{what} opened on line {opened} is not closed ({problem} by line "
                      f"{at})")
        else:
            reason = f"{problem} in the {what} opened here"
    elif "block mapping" in context and opened and at and "expected key" in problem:
        reason = (f"{problem}: line {at} is not indented like the keys of the mapping that "
                  f"starts on line {opened}; check its indentation")
    else:
        reason = problem + (f" ({context} on line {opened})" if context and opened else "")
    rows = text.splitlines()
    row = rows[at - 1] if at is not None and at <= len(rows) else ""
    if "\t" in row[:len(row) - len(row.lstrip())]:
        reason += f"; line {at} is indented with a tab: indent with spaces"
    path, after = _path_before(text)
    if after is not None:
        reason += f"; after key {after!r}"
    return BookError(f"not valid YAML: {reason}", file=file, line=line, path=dotted(path))


def _path_before(text: str) -> tuple[tuple, str | None]:
    """The key path the parser was inside when it met a syntax error, and the last key it
    read there (None if it was reading that key's value): replayed with PyYAML's events."""
    stack: list[list] = []  # per open collection: [is_mapping, key, wants_key, index]

    def done_value() -> None:
        if stack:
            top = stack[-1]
            if top[0]:
                top[2] = True
            else:
                top[3] += 1

    try:
        for event in yaml.parse(text, Loader=yaml.SafeLoader):
            if isinstance(event, (yaml.MappingStartEvent, yaml.SequenceStartEvent)):
                if stack and stack[-1][0] and stack[-1][2]:  # a complex key: give up on it
                    stack[-1][1], stack[-1][2] = None, False
                stack.append([isinstance(event, yaml.MappingStartEvent), None, True, 0])
            elif isinstance(event, (yaml.MappingEndEvent, yaml.SequenceEndEvent)):
                stack.pop()
                done_value()
            elif isinstance(event, (yaml.ScalarEvent, yaml.AliasEvent)):
                top = stack[-1] if stack else None
                if top is not None and top[0] and top[2]:
                    top[1], top[2] = getattr(event, "value", None), False
                else:
                    done_value()
    except yaml.YAMLError:
        pass
    path: list = []
    for i, (is_map, key, wants_key, index) in enumerate(stack):
        last = i == len(stack) - 1
        if is_map and key is not None and not (last and wants_key):
            path.append(key)
        elif not is_map and not last:
            path.append(index)
        elif is_map and key is None and not last:
            break  # inside a complex key: the path is known up to here
    after = None
    if stack and stack[-1][0] and stack[-1][2] and stack[-1][1] is not None:
        after = stack[-1][1]
    return tuple(path), after


def load_yaml_file(path: str | Path) -> tuple[Any, Lines]:
    """Read and parse a YAML file strictly (see :func:`load_yaml`)."""
    path = Path(path)
    try:
        size = path.stat().st_size
        if size > MAX_BYTES:  # refused before reading: parsing would take minutes and GBs
            raise BookError(_too_big(size), file=str(path))
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise BookError(f"cannot read the file: {exc.strerror}", file=str(path)) from None
    except UnicodeDecodeError:
        raise BookError("the file is not UTF-8 text", file=str(path)) from None
    return load_yaml(text, file=str(path))


def dotted(path: tuple) -> str:
    """Render a key path as ``a.b[2].c``."""
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


_PLAIN_TAGS = {yaml.MappingNode: "tag:yaml.org,2002:map",
               yaml.SequenceNode: "tag:yaml.org,2002:seq"}


def _scalar(loader, node, path: tuple, file: str | None) -> Any:
    try:
        return loader.construct_object(node, deep=True)
    except yaml.YAMLError:
        raise  # unsafe tags and the like: reported by load_yaml with their mark
    except (ValueError, TypeError, OverflowError) as exc:  # e.g. a date like 2022-02-30
        raise BookError(f"{node.value!r} cannot be read: {exc}", file=file,
                        line=node.start_mark.line + 1, path=dotted(path)) from None


MAX_BYTES = 5_000_000
"""Largest YAML document read (bytes, UTF-8), checked before parsing: a parse holds the whole
node tree in memory (a 46 MB file of 2.7M keys took 25 s and 2.4 GB to fail on MAX_NODES).
The shipped rate book is about 20 kB."""


def _too_big(size: int) -> str:
    return (f"the document is {size:,} bytes; YAML files (rate books, profiles, claim files, "
            f"scenarios, configs) may be at most {MAX_BYTES:,} bytes")


MAX_NODES = 200_000
"""Values a document may expand to; aliases can make a small file expand enormously."""


class _Budget:
    """Guards the walk against alias bombs and self-referencing aliases."""

    def __init__(self, file: str | None):
        self.file, self.nodes = file, 0
        self.open: set[int] = set()

    def enter(self, node, path: tuple) -> None:
        self.nodes += 1
        if self.nodes > MAX_NODES:
            raise BookError(f"the document expands to more than {MAX_NODES:,} values "
                            "(aliases?)", file=self.file, line=node.start_mark.line + 1,
                            path=dotted(path))
        if id(node) in self.open:
            raise BookError("an alias refers to a value that contains it", file=self.file,
                            line=node.start_mark.line + 1, path=dotted(path))


def _build(loader, node, path: tuple, lines: Lines, file: str | None, budget: _Budget) -> Any:
    budget.enter(node, path)
    lines.setdefault(path, node.start_mark.line + 1)
    plain = _PLAIN_TAGS.get(type(node))
    if plain is not None and node.tag != plain:
        raise BookError(f"the tag {node.tag!r} is not allowed; only plain YAML data is",
                        file=file, line=node.start_mark.line + 1, path=dotted(path))
    if isinstance(node, yaml.MappingNode):
        explicit = sum(1 for k, _ in node.value if k.tag != "tag:yaml.org,2002:merge")
        loader.flatten_mapping(node)  # resolves YAML merge keys (<<)
        merged = len(node.value) - explicit
        explicit_keys: set[str] = set()
        out: dict[str, Any] = {}
        for i, (key_node, value_node) in enumerate(node.value):
            key = _scalar(loader, key_node, path, file)
            line = key_node.start_mark.line + 1
            if not isinstance(key, str):
                raise BookError(
                    f"key {key!r} must be a string; quote it (\"{key_node.value}\")",
                    file=file, line=line, path=dotted(path))
            # Merged pairs come first, in the order in which later ones win; an explicit key
            # overrides a merged one; two explicit keys are an error.
            if key in explicit_keys:
                raise BookError(
                    f"duplicate key {key!r} (first on line {lines[path + (key,)]})",
                    file=file, line=line, path=dotted(path + (key,)))
            if i >= merged:
                explicit_keys.add(key)
            lines[path + (key,)] = line  # the key's line, so errors point at the key
            budget.open.add(id(node))
            out[key] = _build(loader, value_node, path + (key,), lines, file, budget)
            budget.open.discard(id(node))
        return out
    if isinstance(node, yaml.SequenceNode):
        budget.open.add(id(node))
        items = [_build(loader, item, path + (i,), lines, file, budget)
                 for i, item in enumerate(node.value)]
        budget.open.discard(id(node))
        return items
    return _scalar(loader, node, path, file)
