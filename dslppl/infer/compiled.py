"""``fit(..., compile=True)``: the fused ELBO step's programs through `torch.compile`.

The two functions a `FusedStep` calls each step, the family's ``rsample``
(noise to ``u`` and ``log q(u)``) and the model's ``potential(u)``, are
compiled by TorchDynamo and Inductor; AOTAutograd compiles their backward
too. The optimizer step stays as it is. Compiling takes seconds to a minute,
paid once before the first step; `compile_step` records it as ``compile_seconds``.
Inductor keeps what it builds in ``$TORCHINDUCTOR_CACHE_DIR`` (by default
``torch-compile`` in dslppl's cache directory, `dslppl.cachedir`), so a later
process compiling the same model pays less.

Worth it when a step is long enough for Python and per-op overhead to matter
and the fit is long enough to repay the compilation; see
benchmarks/results/svi_compile.md.
"""
from __future__ import annotations

import os
import time
import warnings
import torch
from torch.distributions import Distribution

from ..cachedir import cache_dir
from .loop import FusedStep


def compile_step(step: FusedStep, backend: str = "inductor") -> FusedStep:
    """Compile ``step``'s ``rsample`` and ``potential`` in place, and run them once, forward
    and backward, so that the compilation is paid (and timed: ``step.compile_seconds``)
    here. The trial draws its noise aside (the fit's random stream is left as it was)
    and updates nothing. Returns ``step``.

    ``backend`` is `torch.compile`'s (``"aot_eager"`` traces and runs the same
    graphs without generating code: quick, for tests)."""
    os.environ.setdefault("TORCHINDUCTOR_CACHE_DIR", str(cache_dir() / "torch-compile"))
    validate = Distribution._validate_args
    step.rsample = torch.compile(step.rsample, backend=backend, dynamic=False)
    step.potential = torch.compile(step.potential, backend=backend, dynamic=False)
    start = time.perf_counter()
    phi = step.phi.detach().clone().requires_grad_(True)
    with torch.random.fork_rng(devices=[]), warnings.catch_warnings():
        # Dynamo reads .grad of every tensor it wraps, which warns for non-leaf tensors.
        warnings.filterwarnings("ignore", message="The .grad attribute of a Tensor that is not a leaf")
        u, log_q = step.rsample(phi, torch.randn(step.shape, dtype=step.dtype))
        (log_q - step.potential(u)).sum().backward()
    for leaf in step.leaves:
        leaf.grad = None  # the trial's gradients of the model's own params
    step.compile_seconds = time.perf_counter() - start
    # Dynamo's first use turns argument validation off for the whole process; the rest
    # of the process (binding's checks, other fits) keeps the setting it had.
    Distribution.set_default_validate_args(validate)
    return step
