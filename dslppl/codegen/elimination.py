"""Exact sums over discrete latents: plated variable elimination in log space.

Generated code collects *factors*: log-density tensors with one named
dimension per plate element and per enumerated variable (``enum:z``), each
dimension at its full size. `contract` sums the variables out (logsumexp),
one at a time in the `Plan`'s order (min-fill on the interaction graph,
chosen when the model is compiled), and multiplies over plates (sums the log
factors) once no variable left in a factor lives in that plate: the
tensor variable elimination of Obermeyer et al. (2019). A variable inside
plate ``n`` is summed per element of ``n``.

The same pass, recording the joint factor of each variable as it goes
(`Trail`), draws every variable from its exact conditional backwards
(`draw`), or with ``max`` in place of logsumexp gives the most probable
assignment; keeping some top-level variables (``keep``) gives their exact
joint table (``dslppl.query``). An intermediate table above `BUDGET`
entries raises `TooLarge`.

>>> import torch
>>> plan = Plan(order=("enum:z",), plates={"enum:z": ()}, sizes={"enum:z": 2}, lows={"enum:z": 0})
>>> prior = torch.tensor([0.3, 0.7]).log()
>>> lik = torch.tensor([[0.5, 0.1], [0.2, 0.4]]).log()   # dims (n, z): 0.3 * 0.5 * 0.2 + 0.7 * 0.1 * 0.4
>>> round(float(contract([(prior, ("enum:z",)), (lik, ("n", "enum:z"))], plan).exp()), 6)
0.058
"""
from __future__ import annotations

from dataclasses import dataclass, field

import torch


BUDGET = 2 ** 25
"""The most entries one intermediate factor may have (256 MiB in float64): a model whose
elimination needs more is reported when it is bound (E0906)."""


class TooLarge(Exception):
    """An intermediate factor above `BUDGET` (reported at the statement that summed it)."""


@dataclass(frozen=True)
class Plan:
    """What the compiled model knows about its enumerated variables."""

    order: tuple[str, ...]                    # elimination order (keys ``enum:NAME``)
    plates: dict[str, tuple[str, ...]]        # the plate keys of each variable
    sizes: dict[str, int]                     # how many values each takes
    lows: dict[str, int]                      # its smallest value (the values are low..low+size-1)

    def names(self) -> dict[str, str]:
        return {key: key.split(":", 1)[1] for key in self.order}


@dataclass
class Factor:
    """A log-density table with one named dimension per plate and enumerated variable."""

    tensor: torch.Tensor
    dims: tuple[str, ...]

    def aligned(self, dims: tuple[str, ...]) -> torch.Tensor:
        """The tensor laid out over ``dims`` (a superset of its own), size 1 where absent."""
        own = [d for d in dims if d in self.dims]
        tensor = self.tensor.permute([self.dims.index(d) for d in own]) if tuple(own) != self.dims else self.tensor
        shape = [tensor.shape[own.index(d)] if d in self.dims else 1 for d in dims]
        return tensor.reshape(shape)


@dataclass
class Trail:
    """Each eliminated variable's joint factor, in elimination order (for drawing backwards)."""

    steps: list[tuple[str, Factor]] = field(default_factory=list)


def _product(factors: list[Factor]) -> Factor:
    dims = tuple(dict.fromkeys(d for f in factors for d in f.dims))
    total = factors[0].aligned(dims)
    for f in factors[1:]:
        total = total + f.aligned(dims)
    return Factor(total, dims)


def _reduce(factor: Factor, dim: str, maximize: bool) -> Factor:
    axis = factor.dims.index(dim)
    tensor = factor.tensor.amax(axis) if maximize else factor.tensor.logsumexp(axis)
    return Factor(tensor, factor.dims[:axis] + factor.dims[axis + 1:])


def contract(factors, plan: Plan, keep: tuple[str, ...] = (), trail: Trail | None = None,
             maximize: bool = False) -> torch.Tensor:
    """log sum_{enumerated values} exp(sum of factors), product over plates; with ``keep``
    (top-level variables), the table over those variables (dims in ``keep``'s order)."""
    pending = [Factor(t, tuple(d)) for t, d in factors]
    total = torch.zeros(())
    while pending:
        level = max((_plates(f, plan) for f in pending), key=len)
        here = [f for f in pending if _plates(f, plan) == level]
        rest = [f for f in pending if _plates(f, plan) != level]
        for var in plan.order:
            if set(plan.plates[var]) != set(level) or var in keep or not any(var in f.dims for f in here):
                continue
            joint = _product([f for f in here if var in f.dims])
            if joint.tensor.numel() > BUDGET:
                names = ", ".join(d.removeprefix("enum:") for d in joint.dims)
                raise TooLarge(f"summing out '{plan.names()[var]}' needs a table of {joint.tensor.numel():,} entries "
                               f"(over {names}), more than the budget of {BUDGET:,}")
            if trail is not None:
                trail.steps.append((var, joint))
            here = [f for f in here if var not in f.dims] + [_reduce(joint, var, maximize)]
        if not level:
            kept = [f for f in here if f.dims]
            total = total + sum((f.tensor for f in here if not f.dims), torch.zeros(()))
            if kept:
                table = _product(kept + [Factor(torch.zeros([plan.sizes[k] for k in keep]), tuple(keep))])
                total = total + table.aligned(tuple(keep))
            return total  # every factor is plate-free at the last level
        for f in here:
            target = set().union(*(plan.plates[d] for d in f.dims if d in plan.plates))
            summed = [i for i, d in enumerate(f.dims) if d not in plan.plates and d not in target]
            f = Factor(f.tensor.sum(summed), tuple(d for i, d in enumerate(f.dims) if i not in summed)) \
                if summed else f
            if f.dims:
                rest.append(f)
            else:
                total = total + f.tensor
        pending = rest
    return total


def _plates(factor: Factor, plan: Plan) -> tuple[str, ...]:
    return tuple(sorted(d for d in factor.dims if d not in plan.plates))


def draw(trail: Trail, plan: Plan, generator: torch.Generator | None = None,
         maximize: bool = False) -> dict[str, torch.Tensor]:
    """Values of every variable of ``trail``, drawn backwards from its exact conditional given
    the variables eliminated after it (with ``maximize``: the most probable assignment, when
    the trail was recorded by a ``maximize`` contraction). Keys are variable names; plated
    values are laid out over the variable's plates."""
    values: dict[str, Factor] = {}
    for var, joint in reversed(trail.steps):
        values[var] = _draw_one(var, joint, values, plan, generator, maximize)
    names = plan.names()
    return {names[var]: f.aligned(plan.plates[var]) + plan.lows[var] for var, f in values.items()}


def _draw_one(var: str, joint: Factor, values: dict[str, Factor], plan: Plan, generator, maximize: bool) -> Factor:
    plates = tuple(d for d in joint.dims if d not in plan.plates)
    shape = [joint.tensor.shape[joint.dims.index(p)] for p in plates]
    index = []
    for d in joint.dims:
        if d == var:
            continue
        if d in plan.plates:
            index.append(values[d].aligned(plates).expand(shape) if plates else values[d].tensor)
        else:
            position = plates.index(d)
            index.append(torch.arange(shape[position]).view([-1 if i == position else 1 for i in range(len(plates))]))
    moved = joint.tensor.movedim(joint.dims.index(var), -1)
    logits = moved[tuple(index)] if index else moved
    if maximize:
        return Factor(logits.argmax(-1), plates)
    logits = logits.detach()
    weights = (logits - logits.amax(-1, keepdim=True)).exp()  # multinomial normalises
    flat = weights.reshape(-1, weights.shape[-1])
    picked = torch.multinomial(flat, 1, generator=generator).reshape(weights.shape[:-1])
    return Factor(picked, plates)
