"""The estimator protocol shared by the fitted classes (scikit-learn's conventions).

- The constructor takes the whole configuration, column names included, and stores every
  argument unchanged under its own name: no validation, no conversion (``sklearn.base.clone``
  relies on it). ``fit`` validates the configuration, raising ``ValueError`` (usually a
  :class:`rating.errors.ProfileError`) for a bad one, learns, and returns ``self``.
- Learned values are attributes ending in ``_``. Reading one before ``fit``, or calling a
  method that needs the fit, raises :class:`NotFittedError`.
- :meth:`Estimator.get_params`, :meth:`Estimator.set_params` and ``repr`` are derived from the
  constructor's signature, so a subclass writes only ``__init__``, ``fit`` and its methods.
"""

from __future__ import annotations

import inspect
from typing import Any, ClassVar

__all__ = ["Estimator", "NotFittedError"]


class NotFittedError(ValueError, AttributeError, RuntimeError):
    """A learned value or a method needing the fit was used before ``fit``.

    A ``ValueError`` and an ``AttributeError``, as scikit-learn's ``NotFittedError`` is (so
    ``hasattr(model, "coef_")`` is False before the fit). Also a ``RuntimeError``, which the
    GLMs and ``GLMLossModel`` raised before this class existed, so handlers written for them
    keep working.
    """


def _same(value: Any, default: Any) -> bool:
    """Whether a parameter still has its default (for ``repr``); arrays never compare equal."""
    if value is default:
        return True
    try:
        return type(value) is type(default) and bool(value == default)
    except (TypeError, ValueError):  # an array's elementwise comparison has no truth value
        return False


class Estimator:
    """Base of the fitted classes: parameters from the constructor, the fitted check.

    Subclasses set :attr:`_fitted` to a learned attribute that every successful ``fit`` sets
    last, and call :meth:`_check_fitted` at the start of each method that needs the fit.
    """

    _fitted: ClassVar[str]
    """Name of the learned attribute whose presence means "fitted"."""

    @classmethod
    def _parameters(cls) -> list[inspect.Parameter]:
        """The constructor's parameters, without ``self``; ``*args``/``**kwargs`` refused
        (parameters must be named to be read back)."""
        params = list(inspect.signature(cls.__init__).parameters.values())[1:]
        for p in params:
            if p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD):
                raise TypeError(f"{cls.__name__}.__init__ must name its parameters; "
                                f"*{p.name} cannot be read back by get_params")
        return params

    def get_params(self, deep: bool = True) -> dict[str, Any]:
        """The constructor's arguments, by name, as stored.

        Parameters
        ----------
        deep : bool
            Accepted for scikit-learn's interface; no parameter here is itself an estimator,
            so there is nothing nested to expand.

        Returns
        -------
        dict
            Parameter name -> value, in the constructor's order.
        """
        return {p.name: getattr(self, p.name) for p in self._parameters()}

    def set_params(self, **params: Any) -> Estimator:
        """Set constructor parameters by name (they take effect at the next ``fit``).

        Returns
        -------
        self

        Raises
        ------
        ValueError
            For a name that is not a constructor parameter.
        """
        valid = [p.name for p in self._parameters()]
        for name, value in params.items():
            if name not in valid:
                raise ValueError(f"invalid parameter {name!r} for {type(self).__name__}; "
                                 "valid parameters: " + ", ".join(valid))
            setattr(self, name, value)
        return self

    def __repr__(self) -> str:
        """``Class(name=value, ...)``: the parameters that may be given by position always,
        keyword-only ones when they differ from their defaults."""
        shown = [f"{p.name}={getattr(self, p.name)!r}" for p in self._parameters()
                 if p.kind is not p.KEYWORD_ONLY or not _same(getattr(self, p.name), p.default)]
        return f"{type(self).__name__}({', '.join(shown)})"

    def __getattr__(self, name: str) -> Any:
        # reached only when normal lookup fails: a learned attribute read before the fit
        if name.endswith("_") and not name.startswith("_") and \
                self._fitted not in self.__dict__:
            raise NotFittedError(f"this {type(self).__name__} is not fitted yet, so it has no "
                                 f"{name}; call fit(...) first")
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}",
                             name=name, obj=self)

    def _check_fitted(self) -> None:
        """Raise :class:`NotFittedError` unless ``fit`` has succeeded."""
        if self._fitted not in self.__dict__:
            raise NotFittedError(f"this {type(self).__name__} is not fitted yet; call fit(...) "
                                 "first")
