"""Import paths of modules that moved in 0.2, kept working for one release.

``import rating.renewal`` still gives the renewal rules (now :mod:`rating.renewal`), with a
``DeprecationWarning`` naming the new path: the old name is an alias of the new module, not a
copy, so objects compare equal whichever path imported them. Remove in 0.3.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
import sys
import warnings
from types import ModuleType

MOVED: dict[str, str] = {
    # old module -> new module
    "rating.experience": "rating.renewal",  # the renewal rules, not the loss experience
    "rating.claims": "rating.settlement",  # it settles accidents
    "rating.policy": "rating.coinsurance",  # who writes a policy, and the split
    "rating.limits": "rating.engine.limits",  # statutory limits, beside increased limits
    "rating.risk.limits": "rating.risk.increased_limits",
    "rating.profile_fields": "rating.book.fields",
    "rating.columns": "rating.engine.columns",
    "rating.lookups": "rating.engine.lookups",
    "rating.money": "rating.engine.money",
    "rating.memo": "rating.engine.memo",
    "rating.calendar": "rating.engine.calendar",
    "rating.premium": "rating.engine.premium",
    "rating.worksheet": "rating.engine.worksheet",
}

MOVED_NAMES: dict[tuple[str, str], str] = {
    # (old module, name) -> the module that has it now
    ("rating.calibrate.experience", "synthetic_experience"): "rating.synthetic",
    ("rating.calibrate.experience", "true_relativities"): "rating.synthetic",
}


def moved_name(module: str, name: str):
    """A name that left ``module``, from its new home, with a DeprecationWarning: for the old
    module's ``__getattr__``.

    Raises
    ------
    AttributeError
        For a name that never lived there.
    """
    new = MOVED_NAMES.get((module, name))
    if new is None:
        raise AttributeError(f"module {module!r} has no attribute {name!r}")
    warnings.warn(f"{module}.{name} is deprecated; use {new}.{name} (removed in 0.3)",
                  DeprecationWarning, stacklevel=3)
    return getattr(importlib.import_module(new), name)


class _Alias(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Finds the old names and loads each as its new module."""

    def find_spec(self, fullname, path=None, target=None):
        if fullname not in MOVED:
            return None
        return importlib.machinery.ModuleSpec(fullname, self)

    def create_module(self, spec) -> ModuleType:
        new = MOVED[spec.name]
        # stacklevel 2 is the importing line: warnings skips the import system's frames
        warnings.warn(f"{spec.name} is deprecated; import {new} instead (removed in 0.3)",
                      DeprecationWarning, stacklevel=2)
        module = importlib.import_module(new)
        self._spec = module.__spec__
        return module

    def exec_module(self, module: ModuleType) -> None:
        # the module is already executed; the import system has just stamped the old name's
        # spec on it, and it keeps its own
        module.__spec__ = self._spec


def install() -> None:
    """Put the alias finder on ``sys.meta_path`` once."""
    if not any(isinstance(f, _Alias) for f in sys.meta_path):
        sys.meta_path.append(_Alias())
