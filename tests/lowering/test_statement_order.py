"""Statement order is free (LANGUAGE.md §3): every model in the repository, its
statements shuffled within each block, checks, compiles, binds, and has the same
log joint at the same point."""
from __future__ import annotations

import dataclasses
import random

import pytest
import torch

import dslppl
from dslppl import runtime
from dslppl.syntax import ast, parse, pretty

from ppl_corpus import CORPUS

SHUFFLES = 3


def shuffled(program: ast.Program, rng: random.Random) -> ast.Program:
    """``program`` with the statements of every block (model, guide, plates, loops) permuted."""
    def block(node):
        body = [block(s) if isinstance(s, (ast.Plate, ast.For)) else s for s in node.body]
        rng.shuffle(body)
        return dataclasses.replace(node, body=tuple(body))

    guide = block(program.guide) if program.guide is not None else None
    return dataclasses.replace(program, model=block(program.model), guide=guide)


def _log_joint(bound, values) -> torch.Tensor:
    conditioned = runtime.condition(bound.model, data=values)
    return runtime.trace(conditioned).get_trace().log_prob_sum()


def _point(bound) -> dict[str, torch.Tensor]:
    """Every sampled value of one run at a random point: latents and simulated observations."""
    u = 0.3 * torch.randn(bound.dim, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    with runtime.seed(rng_seed=0):
        trace = runtime.trace(runtime.condition(bound.model, data=bound.constrain(u))).get_trace()
    return {name: msg.value for name, msg in trace.nodes.items() if msg.kind == "sample" and not msg.is_observed
            or name in bound.constrain(u)}


@pytest.mark.filterwarnings("ignore::dslppl.binding.data.DataWarning")
@pytest.mark.parametrize("name", sorted(CORPUS))
def test_shuffled_statements_give_the_same_log_joint(name):
    text, data = CORPUS[name]
    reference = dslppl.loads(text, name).bind(data, simulate_missing=True)
    values = _point(reference)
    expected = _log_joint(reference, values)
    rng = random.Random(name)
    for _ in range(SHUFFLES):
        text_shuffled = pretty(shuffled(parse(text), rng))
        model = dslppl.loads(text_shuffled, name)
        assert model.source
        bound = model.bind(data, simulate_missing=True)
        assert float(_log_joint(bound, values)) == pytest.approx(float(expected), rel=1e-9, abs=1e-9), \
            text_shuffled
