"""The effect-handler runtime that compiled (and hand-written) models run on.

Primitives (``sample``, ``param``, ``plate``, ``deterministic``, ``factor``)
send messages through a stack of handlers (``trace``, ``replay``,
``condition``, ``substitute``, ``block``, ``seed``, ``scale``, ``mask``,
``do``, ``uncondition``), with Pyro's semantics.

>>> import torch
>>> from torch.distributions import Normal
>>> from dslppl.runtime import plate, sample, trace
>>> def model(y):
...     mu = sample("mu", Normal(0.0, 1.0))
...     with plate("data", len(y)):
...         sample("y", Normal(mu, 1.0), obs=y)
>>> tr = trace(model).get_trace(torch.zeros(3))
>>> tr.observation_nodes(), tr.nodes["y"].fn.batch_shape
(['y'], torch.Size([3]))
"""
from .handlers import block, condition, do, mask, replay, scale, seed, substitute, trace, uncondition
from .messenger import Message, Messenger, PlateFrame, am_i_wrapped, apply_stack
from .params import ParamStore, clear_param_store, get_param_store
from .plates import plate, random_subsample
from .primitives import Unit, deterministic, factor, param, sample
from .trace import Trace, scale_and_mask

__all__ = [
    # primitives
    "deterministic", "factor", "param", "plate", "sample",
    # handlers
    "block", "condition", "do", "mask", "replay", "scale", "seed", "substitute", "trace",
    "uncondition",
    # core types
    "Message", "Messenger", "PlateFrame", "Trace", "Unit", "am_i_wrapped", "apply_stack",
    "random_subsample", "scale_and_mask",
    # parameters
    "ParamStore", "clear_param_store", "get_param_store",
]
