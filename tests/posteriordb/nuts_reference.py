"""NUTS draws compared with a posteriordb reference, with tolerances from Monte Carlo error.

Per reference coordinate: the mean must lie within ``4 * MCSE + 0.05 sd`` of
the reference mean (MCSE combines ours and the reference's, sd is the
reference's); the sd within 10% of the reference sd where our bulk ESS is at
least 400 (the sd's own relative error is then under ~4%); and the largest
R-hat must stay below 1.01 (``rhat_limit``).
"""
from __future__ import annotations

import math
import time
import warnings
from dataclasses import dataclass, field

import dslppl

from .catalog import POSTERIORS, load_reference

MEAN_MCSE = 4.0
MEAN_SD = 0.05
SD_REL = 0.10
SD_MIN_ESS = 400


@dataclass
class Comparison:
    name: str
    seconds: float
    failures: list[str] = field(default_factory=list)
    max_rhat: float = float("nan")
    min_ess_bulk: float = float("nan")
    divergences: int = 0
    sd_checked: int = 0
    coordinates: int = 0

    @property
    def passed(self) -> bool:
        return not self.failures


def sample_and_compare(name: str, rhat_limit: float = 1.01, **options) -> Comparison:
    """Sample posterior ``name`` with NUTS (``options`` go to ``Model.sample``) and compare."""
    posterior = POSTERIORS[name]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = dslppl.loads(posterior.source(), str(posterior.model_path))
        start = time.perf_counter()
        draws = model.sample(posterior.data(), progress=False, warn=False, **options)
        summary = draws.summary()
        seconds = time.perf_counter() - start
    result = Comparison(name, seconds, divergences=draws.diagnostics()["divergences"])
    rows = list(summary)
    result.max_rhat = max(r.r_hat for r in rows)
    result.min_ess_bulk = min(r.ess_bulk for r in rows)
    if not result.max_rhat < rhat_limit:
        result.failures.append(f"max R-hat {result.max_rhat:.3f}")
    for coord, ref in load_reference(name).items():
        ours = summary[posterior.our_coordinate(coord)]
        result.coordinates += 1
        mcse = math.hypot(ours.mcse_mean, ref["mcse_mean"])
        if not abs(ours.mean - ref["mean"]) <= MEAN_MCSE * mcse + MEAN_SD * ref["sd"]:
            result.failures.append(f"{coord} mean {ours.mean:.4g} vs {ref['mean']:.4g} "
                                   f"(sd {ref['sd']:.3g}, mcse {mcse:.2g})")
        if ours.ess_bulk >= SD_MIN_ESS:
            result.sd_checked += 1
            if not abs(ours.sd / ref["sd"] - 1) <= SD_REL:
                result.failures.append(f"{coord} sd {ours.sd:.4g} vs {ref['sd']:.4g}")
    return result
