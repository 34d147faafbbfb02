"""Inference: ``fit`` (MAP, Laplace, whitened SVI) and its building blocks.

- :func:`fit` fits a ``BoundModel`` with an automatic guide (``normal``,
  ``mvn``, ``lowrank``, ``delta``, ``laplace``) or the model's own guide
  block (``guide``) and returns a :class:`Fit`;
- :class:`Trace_ELBO` and :class:`SVI` work on any model/guide pair of
  handler programs, as in Pyro;
- :class:`AutoGuide` is an automatic guide as a handler program;
- :func:`bind_program` turns a hand-written program into a ``BoundModel``;
- :func:`dslppl.infer.mcmc.sample` draws from a ``BoundModel``'s posterior
  with NUTS and returns a :class:`Posterior`.

See docs/inference.md for how fitting works and why its defaults are what
they are.
"""
from .autoguide import AutoGuide
from .elbo import Trace_ELBO
from .fit import GUIDES, fit
from .laplace import MapResult, build_family, find_map
from .nonfinite import NonFiniteLoss
from .program import bind_program
from .posterior import Posterior, SamplingWarning
from .result import Fit, MapInfo
from .summary import Summary, SummaryRow
from .svi import SVI, param_scope

__all__ = ["AutoGuide", "Fit", "GUIDES", "MapInfo", "MapResult", "NonFiniteLoss", "Posterior", "SVI",
           "SamplingWarning", "Summary", "SummaryRow", "Trace_ELBO", "bind_program", "build_family",
           "find_map", "fit", "param_scope"]
