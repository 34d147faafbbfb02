"""The parameter store: named, trainable tensors kept in unconstrained space.

Each entry is a leaf tensor with ``requires_grad=True`` living in
unconstrained space, plus the constraint of its constrained value; the map
between the two is ``torch.distributions.biject_to(constraint)``. Optimisers
step the unconstrained leaves (:meth:`ParamStore.named_parameters`);
``param(...)`` returns the constrained value.

>>> import torch
>>> from torch.distributions import constraints
>>> store = ParamStore()
>>> store.get_param("s", torch.tensor(2.0), constraints.positive).item()
2.0
>>> store.get_unconstrained("s")
tensor(0.6931, requires_grad=True)
"""
from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from typing import Any

import torch
from torch.distributions import biject_to, constraints, transform_to
from torch.distributions.constraints import Constraint
from torch.distributions.transforms import Transform

from .files import save_atomic

__all__ = ["ParamStore", "clear_param_store", "get_param_store"]

_FORMAT_VERSION = 1

# Constraints are saved as plain descriptions, ``(name, *args)``, so that
# ``torch.load(weights_only=True)`` can read the file back: name -> (class,
# attributes passed to the constructor in order). Constraint-valued
# attributes are described recursively.
_CONSTRAINTS: dict[str, tuple[type, tuple[str, ...]]] = {
    "real": (constraints._Real, ()),
    "greater_than": (constraints._GreaterThan, ("lower_bound",)),
    "greater_than_eq": (constraints._GreaterThanEq, ("lower_bound",)),
    "less_than": (constraints._LessThan, ("upper_bound",)),
    "interval": (constraints._Interval, ("lower_bound", "upper_bound")),
    "half_open_interval": (constraints._HalfOpenInterval, ("lower_bound", "upper_bound")),
    "simplex": (constraints._Simplex, ()),
    "lower_cholesky": (constraints._LowerCholesky, ()),
    "corr_cholesky": (constraints._CorrCholesky, ()),
    "positive_definite": (constraints._PositiveDefinite, ()),
    "positive_semidefinite": (constraints._PositiveSemidefinite, ()),
    "independent": (constraints._IndependentConstraint,
                    ("base_constraint", "reinterpreted_batch_ndims")),
}
_NAME_OF_CLASS = {cls: name for name, (cls, _) in _CONSTRAINTS.items()}


def describe_constraint(constraint: Constraint) -> tuple:
    """A plain, ``weights_only``-loadable description of ``constraint``.

    >>> describe_constraint(constraints.interval(0.0, 2.0))
    ('interval', 0.0, 2.0)
    """
    name = _NAME_OF_CLASS.get(type(constraint))
    if name is None:
        raise ValueError(f"cannot save constraint {constraint!r}: supported are "
                         + ", ".join(_CONSTRAINTS))
    attrs = _CONSTRAINTS[name][1]
    args = [getattr(constraint, a) for a in attrs]
    return (name, *(describe_constraint(a) if isinstance(a, Constraint) else a for a in args))


def build_constraint(description: tuple | list) -> Constraint:
    """Inverse of :func:`describe_constraint`."""
    name, *args = description
    if name not in _CONSTRAINTS:
        raise ValueError(f"unknown constraint description {description!r}")
    cls = _CONSTRAINTS[name][0]
    return cls(*(build_constraint(a) if isinstance(a, (tuple, list)) else a for a in args))


def _bijection(constraint: Constraint) -> Transform:
    # biject_to is the right map for optimisation (a true bijection); a few
    # constraints (lower_cholesky, positive_definite) only have transform_to.
    try:
        return biject_to(constraint)
    except NotImplementedError:
        return transform_to(constraint)


class ParamStore:
    """Named parameters: unconstrained leaf tensors, constraints and transforms."""

    __slots__ = ("_unconstrained", "_constraints", "_transforms")

    def __init__(self) -> None:
        self._unconstrained: dict[str, torch.Tensor] = {}
        self._constraints: dict[str, Constraint] = {}
        # Cached per name: biject_to builds a new Transform object per call.
        self._transforms: dict[str, Transform] = {}

    # --- creation and access ------------------------------------------------
    def get_param(self, name: str, init_value: torch.Tensor | Callable[[], torch.Tensor] | None = None,
                  constraint: Constraint = constraints.real) -> torch.Tensor:
        """The constrained value of ``name``, created from ``init_value`` on first use.

        ``init_value`` is a constrained tensor or a callable returning one (only
        called on creation). Later calls ignore ``init_value`` and
        ``constraint``: the stored entry wins, as in Pyro.
        """
        unconstrained = self._unconstrained.get(name)
        if unconstrained is None:
            if init_value is None:
                raise KeyError(f"param {name!r} does not exist and has no init_value")
            if callable(init_value):
                init_value = init_value()
            self._set(name, torch.as_tensor(init_value), constraint)
            unconstrained = self._unconstrained[name]
        return self._transforms[name](unconstrained)

    def _set(self, name: str, constrained: torch.Tensor, constraint: Constraint) -> None:
        transform = _bijection(constraint)
        with torch.no_grad():
            unconstrained = transform.inv(constrained.detach()).clone()
        self._unconstrained[name] = unconstrained.requires_grad_(True)
        self._constraints[name] = constraint
        self._transforms[name] = transform

    def __getitem__(self, name: str) -> torch.Tensor:
        return self._transforms[name](self._unconstrained[name])

    def __setitem__(self, name: str, constrained_value: torch.Tensor) -> None:
        """Set the constrained value, keeping the entry's constraint (``real`` if new)."""
        self._set(name, torch.as_tensor(constrained_value),
                  self._constraints.get(name, constraints.real))

    def __delitem__(self, name: str) -> None:
        del self._unconstrained[name], self._constraints[name], self._transforms[name]

    def __contains__(self, name: object) -> bool:
        return name in self._unconstrained

    def __len__(self) -> int:
        return len(self._unconstrained)

    def __iter__(self) -> Iterator[str]:
        return iter(self._unconstrained)

    def keys(self):
        return self._unconstrained.keys()

    def items(self) -> Iterator[tuple[str, torch.Tensor]]:
        """``(name, constrained value)`` pairs."""
        for name in self._unconstrained:
            yield name, self[name]

    def get_unconstrained(self, name: str) -> torch.Tensor:
        """The leaf tensor an optimiser should update."""
        return self._unconstrained[name]

    def get_constraint(self, name: str) -> Constraint:
        return self._constraints[name]

    def named_parameters(self) -> Iterator[tuple[str, torch.Tensor]]:
        """``(name, unconstrained leaf)`` pairs, for building an optimiser."""
        return iter(self._unconstrained.items())

    def clear(self) -> None:
        self._unconstrained.clear()
        self._constraints.clear()
        self._transforms.clear()

    # --- persistence ----------------------------------------------------------
    def get_state(self) -> dict[str, Any]:
        """Plain tensors and constraint descriptions; ``weights_only`` safe."""
        return {
            "version": _FORMAT_VERSION,
            "params": {n: u.detach().clone() for n, u in self._unconstrained.items()},
            "constraints": {n: describe_constraint(c) for n, c in self._constraints.items()},
        }

    def set_state(self, state: dict[str, Any]) -> None:
        """Add (or overwrite) the entries of a :meth:`get_state` dict."""
        if state.get("version") != _FORMAT_VERSION:
            raise ValueError(f"unsupported param store format {state.get('version')!r}")
        for name, unconstrained in state["params"].items():
            constraint = build_constraint(state["constraints"][name])
            self._unconstrained[name] = unconstrained.detach().clone().requires_grad_(True)
            self._constraints[name] = constraint
            self._transforms[name] = _bijection(constraint)

    def save(self, path: str | os.PathLike) -> None:
        """Write the store with ``torch.save``, atomically.

        The file is written under a temporary name in the same directory and
        moved into place with ``os.replace``, so a reader never sees a partial
        file and a crash leaves any previous file intact.
        """
        save_atomic(self.get_state(), path)  # the state first: it fails before touching the disk

    def load(self, path: str | os.PathLike, map_location: Any = None) -> None:
        """Read a file written by :meth:`save` (``weights_only=True``) into the store."""
        self.set_state(torch.load(path, map_location=map_location, weights_only=True))


# Global state of this module: the one param store ``param(...)`` reads.
# It is cleared in place, never rebound, so references to it stay valid.
_PARAM_STORE = ParamStore()


def get_param_store() -> ParamStore:
    """The global :class:`ParamStore`."""
    return _PARAM_STORE


def clear_param_store() -> None:
    """Empty the global param store (do this before each fit and each test)."""
    _PARAM_STORE.clear()
