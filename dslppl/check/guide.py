"""Pass 7: a guide block against its model.

A guide samples every continuous latent of the model and nothing else (E0701,
E0702; discrete latents are summed out, not sampled),
never an observed variable (E0703), with the model's number of dimensions per
element (E0503), and where both sides name a distribution, over the same
support (E0504).
"""
from __future__ import annotations

from ..diagnostics import DiagnosticSink, Note
from ..library import DISTRIBUTIONS, Support
from ..syntax import ast
from .discrete import is_enumerated
from .model import CheckedModel, Kind, Variable

_TYPE_SUPPORT = {"positive": Support.POSITIVE, "probability": Support.UNIT_INTERVAL,
                 "simplex": Support.SIMPLEX, "corr_cholesky": Support.CORR_CHOLESKY,
                 "cov": Support.POSITIVE_DEFINITE}


def check_guide(model: CheckedModel, guide: CheckedModel, block: ast.GuideBlock, sink: DiagnosticSink) -> None:
    sampled = {v.name: v for v in guide.variables.values() if v.kind is Kind.LATENT}
    for name, variable in sampled.items():
        target = model.variables.get(name)
        if target is None:
            sink.error("E0702", f"the guide samples '{name}', which is no latent of the model", variable.span,
                       hint="a guide samples exactly the model's latent variables")
        elif target.kind is Kind.OBSERVED:
            sink.error("E0703", f"the guide samples '{name}', which the model observes", variable.span,
                       notes=(Note("observed here", target.span),))
        elif is_enumerated(target):
            sink.error("E0702", f"the guide samples '{name}', a discrete latent that inference sums out",
                       variable.span, hint="leave it out of the guide: its posterior is exact given the rest")
        elif target.kind is Kind.LATENT and target.rank != variable.rank:
            sink.error("E0503", f"the guide draws '{name}' with {variable.rank} dimension(s) per element, but the "
                       f"model with {target.rank}", variable.span, notes=(Note("the model's definition", target.span),),
                       hint="give the guide's distribution arguments the shape of the model's variable")
        elif target.kind is Kind.LATENT:
            _check_same_support(target, variable, sink)
    for latent in model.latents:
        if latent.name not in sampled and not is_enumerated(latent):
            sink.error("E0701", f"the guide does not sample the latent '{latent.name}'", block.span,
                       notes=(Note(f"'{latent.name}' is defined here", latent.span),),
                       hint=f"add a statement '{latent.name} ~ ...' to the guide")


def support_of(variable: Variable) -> Support | None:
    """The support a variable's values live on, when it is known without data."""
    if variable.base_type in _TYPE_SUPPORT and not variable.type.bounds:
        return _TYPE_SUPPORT[variable.base_type]
    dist = variable.dist
    spec = DISTRIBUTIONS.get(dist.func.id) if dist is not None else None
    if spec is None or spec.support is Support.INTERVAL:
        return None
    if variable.type is not None and (variable.type.bounds or variable.base_type not in ("real", "ordered")):
        return None  # truncated by bounds: compared only when both sides are plain
    return spec.support


def _check_same_support(model_var: Variable, guide_var: Variable, sink: DiagnosticSink) -> None:
    expected, found = support_of(model_var), support_of(guide_var)
    if expected is None or found is None or expected == found:
        return
    if {expected, found} == {Support.REAL, Support.REAL_VECTOR}:
        return
    sink.error("E0504", f"the guide draws '{guide_var.name}' from {found.value}, but the model's "
               f"'{model_var.name}' lives on {expected.value}", guide_var.dist.func.span if guide_var.dist else guide_var.span,
               notes=(Note("the model's definition", model_var.span),),
               hint=_hint(expected))


def _hint(support: Support) -> str:
    examples = {Support.POSITIVE: "LogNormal or Gamma", Support.UNIT_INTERVAL: "Beta",
                Support.SIMPLEX: "Dirichlet", Support.REAL: "Normal"}
    return f"use a distribution over {support.value}" + (
        f", e.g. {examples[support]}" if support in examples else "")
