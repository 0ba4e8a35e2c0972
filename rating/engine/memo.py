"""Memoising what the engine derives from rate-book objects."""

from __future__ import annotations

import functools
from collections import OrderedDict
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")
R = TypeVar("R")


def by_identity(fn: Callable[[T], R]) -> Callable[[T], R]:
    """Memoise ``fn(obj)`` by the identity of ``obj``.

    Rate-book objects never change once loaded, but hold dicts and so cannot be hashed; what
    the engine derives from them (level positions, factor arrays, sector tables) is derived
    once per object rather than once per quote. Entries for the last 256 objects are kept,
    each with its object, so that an id cannot be reused while its entry lives.
    """
    cache: OrderedDict[int, tuple[T, R]] = OrderedDict()

    @functools.wraps(fn)
    def memoised(obj: T) -> R:
        hit = cache.get(id(obj))
        if hit is not None and hit[0] is obj:
            return hit[1]
        value = fn(obj)
        cache[id(obj)] = (obj, value)
        if len(cache) > 256:
            cache.popitem(last=False)
        return value
    return memoised
