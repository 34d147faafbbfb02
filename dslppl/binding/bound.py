"""A compiled model bound to data: the object inference runs on.

`BoundModel` holds the programs generated from a model for one data set:

- ``model()``: the sample-site program on the handler core (``sample``,
  ``plate``, ``deterministic``, ``param``, ``factor``); traces, replays and
  every handler work on it.
- ``guide()``: the program of the model's ``guide { ... }`` block, if any.
- ``potential(u)``: the log joint density plus the log-Jacobian of the
  transforms, as a function of one flat unconstrained vector ``u`` — the fast
  path for automatic guides, MAP, Laplace and (later) HMC/NUTS. It equals the
  trace of ``model()`` conditioned on ``constrain(u)`` plus the log-Jacobian.
- ``constrain(u)`` / ``unconstrain(values)``: between the flat vector and the
  latent values, by name.

The flat layout (`LatentSite` offsets and shapes) is found once at bind time
by running the model on a valid initial point.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Callable, Mapping

import torch
from torch.distributions.constraints import Constraint


@dataclass(frozen=True)
class LatentSite:
    """One latent variable's place in the flat unconstrained vector."""

    name: str
    shape: torch.Size                 # the constrained value's shape
    unconstrained_shape: torch.Size   # its shape in unconstrained space
    offset: int                       # where its block starts in the flat vector
    support: Constraint               # at the initial point (bounds may move with other latents)
    dynamic_support: bool = False     # bounds read other latents
    plates: tuple[str, ...] = ()      # plate names of its leading dimensions

    @property
    def size(self) -> int:
        return self.unconstrained_shape.numel()

    @property
    def block(self) -> slice:
        return slice(self.offset, self.offset + self.size)


@dataclass
class BoundModel:
    """A model's generated programs, bound to data (see the module docstring)."""

    name: str
    dtype: torch.dtype
    data: dict[str, torch.Tensor]                 # bound inputs, as tensors of ``dtype``
    model: Callable[[], None]
    potential: Callable[[torch.Tensor], torch.Tensor]
    constrain: Callable[[torch.Tensor], dict[str, torch.Tensor]]
    unconstrain: Callable[[Mapping[str, torch.Tensor]], torch.Tensor]
    latents: tuple[LatentSite, ...]               # in the order of the flat vector
    init: torch.Tensor                            # a valid initial flat vector
    guide: Callable[[], None] | None = None
    observed: tuple[str, ...] = ()                # observed sites (data supplied)
    deterministic: tuple[str, ...] = ()           # deterministic sites, in program order
    params: tuple[str, ...] = ()                  # `param` statements of the model block
    subsample: dict[str, int] = field(default_factory=dict)  # plate -> batch size in use
    plate_sizes: dict[str, int] = field(default_factory=dict)
    offsets: dict[str, tuple[int, ...]] = field(default_factory=dict)
    """Per variable whose array starts above 0 (defined over ``plate t in LO..HI``):
    the first index of each dimension, so ``mu`` element 0 is named ``mu[LO]``."""
    text: str = ""                                # the model's source text (for fingerprints)
    discrete: tuple[str, ...] = ()                # discrete latents, summed out of ``potential``
    draw_discrete: Callable | None = field(default=None, repr=False)
    runtime: object = field(default=None, repr=False)  # the generated code's `_rt` (exact queries use it)

    def fingerprint(self) -> dict[str, str]:
        """What a checkpoint must agree on beyond the fit's settings: digests of the
        model text and of the data, the dtype and the subsampled plates."""
        data = hashlib.sha256()
        for name in sorted(self.data):
            value = self.data[name].detach().to("cpu", torch.float64).contiguous()
            data.update(f"{name}{tuple(value.shape)};".encode())
            data.update(value.numpy().tobytes())
        return {"model_text": hashlib.sha256(self.text.encode()).hexdigest(), "data": data.hexdigest(),
                "dtype": str(self.dtype).removeprefix("torch."),
                "subsample": ",".join(f"{k}={v}" for k, v in sorted(self.subsample.items()))}

    def sample_discrete(self, values: Mapping[str, torch.Tensor], generator: torch.Generator | None = None,
                        maximize: bool = False) -> dict[str, torch.Tensor]:
        """Every discrete latent drawn from its exact conditional given the continuous
        ``values`` (constrained, by name; ``param`` values too); with ``maximize``, the most
        probable assignment (Viterbi for chains). Empty for a model without discrete latents."""
        if not self.discrete:
            return {}
        return self.draw_discrete(values, generator, maximize)

    @property
    def dim(self) -> int:
        """Length of the flat unconstrained vector."""
        return sum(site.size for site in self.latents)

    def site(self, name: str) -> LatentSite:
        for site in self.latents:
            if site.name == name:
                return site
        raise KeyError(name)
