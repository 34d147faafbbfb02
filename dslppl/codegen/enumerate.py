"""Discrete latents summed out in generated code: which statements depend on them, and how.

Each enumerated variable ``z`` (see ``check.discrete``) gets an *enum axis*
``#z``: an extra axis of the contexts of the statements that read it, after
their plates, whose index tensor holds z's values. Reading ``z`` (or
``z[n]`` in its plate) there is reading that index, so every expression
over ``z`` is evaluated at all its values at once, like a comprehension. A
statement's *scope* is the enumerated variables it reads, directly or through
deterministic nodes (which then carry the enum axes too).

Each log-density term in a scope is a factor: a tensor with a named
dimension per plate and enum axis, appended to ``_ef``; ``potential`` adds
``_rt.eliminate(_ef, plan)``, the exact sum (see `elimination`), and
``model()`` carries the same number as one ``factor('_enumerated', ...)``
site, in which the enumerated variables are no sample sites: traces,
``log_joint``, SVI and NUTS all see the marginal density.
"""
from __future__ import annotations

from dataclasses import dataclass

from ..check.discrete import categories, chain_offsets, enumerated
from ..check.indices import known_names
from ..check.model import CheckedModel, Kind, Variable
from ..library import DISTRIBUTIONS
from .ordering import min_fill_order
from .symbols import Axis, Context

PREFIX = "enum:"


@dataclass(frozen=True)
class EnumVar:
    name: str
    axis: Axis
    plates: tuple[str, ...]   # plate keys


@dataclass(frozen=True)
class ChainVar:
    """A discrete latent array built by a `for` loop: summed out by the forward algorithm."""

    name: str
    size: str      # how many values each element takes
    low: str       # its smallest value
    length: str    # the array's length
    factors: str   # the Python list of its factors, in model() and potential


class Enumeration:
    """The enumerated variables of one model and the scope of every statement."""

    def __init__(self, checked: CheckedModel, order: list[str], summed: frozenset[str] = frozenset()):
        self.checked = checked
        # ``summed``: observed discrete variables whose data is missing, summed out like latents
        self.found = {**enumerated(checked.variables), **{n: checked.variables[n] for n in summed}}
        self.vars: dict[str, EnumVar] = {}
        self.chains: dict[str, ChainVar] = {}
        self.scope: dict[str, tuple[str, ...]] = {}
        rank = {name: i for i, name in enumerate(order)}
        for name in order:
            variable = checked.variables[name]
            own = {name} if name in self.found and not variable.sequential else set()
            for parent in variable.parents:
                if parent in self.found and not checked.variables[parent].sequential:
                    own.add(parent)
                elif checked.variables[parent].kind is Kind.DETERMINISTIC:
                    own |= set(self.scope.get(parent, ()))
            self.scope[name] = tuple(sorted(own, key=rank.__getitem__))

    def chain_of(self, variable: Variable) -> str | None:
        """The chain ``variable``'s statements read (or build), if any."""
        for name, found in self.found.items():
            if found.sequential and (name == variable.name or name in variable.parents):
                return name
        return None

    def add_chain(self, variable: Variable, emit, length: str) -> ChainVar:
        size, low = self._range(variable, emit)
        chain = ChainVar(variable.name, size, low, length, emit.symbols.fresh("c"))
        self.chains[variable.name] = chain
        return chain

    def chain_context(self, chain: ChainVar, piece, base: Context):
        """``base`` with an enum axis per step of ``chain`` the piece reads, and where its factor
        goes: the time axis key (None for a constant step), the first step, the current and the
        previous step's axis keys (None when one step is read)."""
        reads = {(r.index, r.offset if r.index else r.offset.value) for r in chain_offsets(piece, chain.name)}
        ordered = sorted(reads, key=lambda r: r[1])
        axes, enums = [], []
        for index, offset in ordered:
            key = f"{chain.name}@{offset}" if index else f"{chain.name}@={offset}"
            axis = Axis(f"#{key}", PREFIX + key, chain.size, chain.low)
            axes.append(axis)
            enums.append((key, axis.name))
        ctx = Context(base.axes + tuple(axes), base.scalars, base.enums + tuple(enums))
        index, offset = ordered[-1]
        if index is None:
            return ctx, None, str(offset), axes[-1].key, None
        time = base.axis(index)
        prev = axes[0].key if len(axes) == 2 else None
        return ctx, time.key, f"{time.lo} + {offset}", axes[-1].key, prev

    def __bool__(self) -> bool:
        return bool(self.found)

    def add(self, variable: Variable, emit, axis_of_frame) -> EnumVar:
        """The enum axis of ``variable``, its size and first value computed at bind time."""
        size, low = self._range(variable, emit)
        axis = Axis(f"#{variable.name}", PREFIX + variable.name, size, low)
        plates = tuple(axis_of_frame(f).key for f in variable.piece.plates)
        self.vars[variable.name] = EnumVar(variable.name, axis, plates)
        return self.vars[variable.name]

    def context(self, ctx: Context, names) -> Context:
        """``ctx`` with the enum axes of ``names`` after its own."""
        axes = tuple(self.vars[n].axis for n in names)
        return Context(ctx.axes + axes, ctx.scalars, ctx.enums + tuple((n, self.vars[n].axis.name) for n in names))

    def _range(self, variable: Variable, emit) -> tuple[str, str]:
        hoist = emit.symbols.hoist
        bounds = {b.name.id: b.value for b in variable.type.bounds} if variable.type is not None else {}
        if variable.dist is None or (variable.kind is Kind.LATENT and {"lower", "upper"} <= set(bounds)):
            bounds = {name: emit.index(value, Context()).code for name, value in bounds.items()}
            low, high = hoist(f"_rt.size({bounds['lower']})", "n"), hoist(f"_rt.size({bounds['upper']})", "n")
            return hoist(f"_rt.value_count({low}, {high}, {variable.name!r})", "n"), low
        dist = variable.dist
        spec = DISTRIBUTIONS[dist.func.id]
        named = dict(zip(spec.positional_params(), dist.args))
        named.update({k.name.id: k.value for k in dist.kwargs})
        bare = Context()
        match dist.func.id:
            case "Bernoulli":
                return "2", "0"
            case "Binomial":
                count = emit.value(named["total_count"], bare).code
                return hoist(f"_rt.value_count(0, _rt.size(_rt.tensor({count}).max()), {variable.name!r})", "n"), "0"
            case "DiscreteUniform":
                low = hoist(f"_rt.size(_rt.tensor({emit.value(named['low'], bare).code}).min())", "n")
                high = hoist(f"_rt.size(_rt.tensor({emit.value(named['high'], bare).code}).max())", "n")
                return hoist(f"_rt.value_count({low}, {high}, {variable.name!r})", "n"), low
        known = known_names(self.checked.variables)
        how, expr = categories(dist, self.checked.variables, known)
        if how == "shape":
            return hoist(f"_rt.tensor({emit.value(expr, bare).code}).shape[-1]", "n"), "0"
        return hoist(f"_rt.size({emit.index(expr, bare).code})", "n"), "0"

    def plan_code(self) -> str:
        """Code building the `Plan` (at bind time, once every size is known)."""
        keys = [v.axis.key for v in self.vars.values()]
        cliques = [set(PREFIX + n for n in names) for names in self.scope.values() if names]
        order = min_fill_order(keys, cliques)
        plates = {v.axis.key: v.plates for v in self.vars.values()}
        sizes = "{" + ", ".join(f"{v.axis.key!r}: {v.axis.size}" for v in self.vars.values()) + "}"
        lows = "{" + ", ".join(f"{v.axis.key!r}: {v.axis.lo}" for v in self.vars.values()) + "}"
        return f"_rt.Plan({order!r}, {plates!r}, {sizes}, {lows})"


def elimination_summary(checked: CheckedModel, order: list[str]) -> str:
    """``z (per element of n), s; chain h (forward algorithm)``: the variables summed out, in
    the order elimination takes them when every size is equal; empty without any."""
    enumeration = Enumeration(checked, order)
    plain = [n for n in enumeration.found if not checked.variables[n].sequential]
    cliques = [set(names) for names in enumeration.scope.values() if names]
    parts = []
    for name in (min_fill_order(plain, cliques) if plain else ()):
        plates = checked.variables[name].plates
        parts.append(f"{name} (per element of {', '.join(plates)})" if plates else name)
    parts += [f"chain {n} (forward algorithm)" for n in enumeration.found if checked.variables[n].sequential]
    return ", ".join(parts)
