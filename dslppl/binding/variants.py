"""Rules about a model variant that only the data and fit settings decide.

Which observed variables are simulated (their data left out) and which plates
are subsampled is chosen when data is bound, so these checks live here, not
in `check`. Each returns every problem at once.
"""
from __future__ import annotations

from typing import Iterable, Mapping

from ..check.indices import known_names
from ..check.discrete import enumerated
from ..check.loops import loop_groups
from ..check.model import CheckedModel, Kind
from ..check.supports import bounded_flat
from ..diagnostics import Diagnostic
from ..syntax import ast


def subsample_problems(checked: CheckedModel, subsample: Mapping[str, int]) -> list[Diagnostic]:
    """A subsampled plate must exist, hold no latent variable, and be read by nothing outside it."""
    errors = []
    summed = _reading_discrete(checked) if subsample else set()
    for plate in subsample:
        if plate not in checked.plates:
            errors.append(Diagnostic("E0408", f"the model has no plate '{plate}' to subsample",
                                     hint=f"plates: {', '.join(checked.plates) or 'none'}"))
            continue
        inside = {v.name for v in checked.variables.values() if plate in v.plates}
        for variable in checked.variables.values():
            read = (variable.parents & inside) - {variable.name}
            if read and plate not in variable.plates:
                errors.append(Diagnostic(
                    "E0405", f"plate '{plate}' cannot be subsampled: '{variable.name}' reads "
                    f"{', '.join(sorted(read))} from outside it", variable.span))
            if variable.kind is Kind.LATENT and plate in variable.plates:
                errors.append(Diagnostic(
                    "E0405", f"plate '{plate}' cannot be subsampled: '{variable.name}' is a latent inside "
                    "it; subsampling needs plates without latent variables for now", variable.span))
            elif plate in variable.plates and variable.name in summed:
                errors.append(Diagnostic(
                    "E0405", f"plate '{plate}' cannot be subsampled: '{variable.name}' reads a discrete latent "
                    "that is summed out, and a sum over a minibatch is no estimate of the whole", variable.span,
                    hint="fit on the full data, or sum the variable out by hand with logsumexp"))
    return errors


def _reading_discrete(checked: CheckedModel) -> set[str]:
    """Variables whose definition reads a summed-out discrete latent, directly or through
    deterministic nodes."""
    found = set(enumerated(checked.variables))
    reading = set()
    grew = True
    while grew:
        through = found | {n for n in reading if checked.variables[n].kind is Kind.DETERMINISTIC}
        new = {v.name for v in checked.variables.values() if v.parents & through} - reading
        reading |= new
        grew = bool(new)
    return reading


def simulation_problems(checked: CheckedModel, missing: Iterable[str]) -> list[Diagnostic]:
    """Observed variables left out are drawn instead, unless their distribution reads their
    own other elements (an AR likelihood over a plate needs the data), or their loop already
    draws another array."""
    missing = set(missing)
    errors = []
    for name in sorted(missing, key=list(checked.variables).index):
        variable = checked.variables[name]
        reads_itself = any(isinstance(n, ast.Name) and n.id == name
                           for piece in variable.pieces for n in ast.walk(piece.stmt.dist))
        if reads_itself and not variable.sequential:
            errors.append(Diagnostic(
                "E0801", f"missing data: '{name}' was not supplied, and it cannot be simulated: its "
                f"distribution reads other elements of '{name}'", variable.span,
                hint=f"supply \"{name}\", or write its recursion as a 'for' loop to simulate it"))
    for group in loop_groups(checked.variables):
        drawn = [v for v in group if v.kind is Kind.LATENT or v.name in missing]
        if len(drawn) > 1 and any(v.name in missing for v in drawn):
            simulated = next(v for v in drawn if v.name in missing)
            errors.append(Diagnostic(
                "E0801", f"missing data: '{simulated.name}' was not supplied, and it cannot be simulated: "
                f"its loop already draws '{next(v.name for v in drawn if v is not simulated)}'",
                simulated.span, hint=f"supply \"{simulated.name}\""))
    return errors


def _reads_other(type_: ast.Type, known: set[str]) -> set[str]:
    """Names a type's bounds read that are not known when data is bound (other latents)."""
    return {n.id for b in type_.bounds for n in ast.walk(b.value) if isinstance(n, ast.Name) and n.id not in known}


def draw_problems(checked: CheckedModel) -> list[Diagnostic]:
    """What prior draws cannot follow: improper flat priors, bounds that read other latents
    (the fitted density is not normalised over them, so it is not the model a draw follows),
    and `factor` terms (a draw knows nothing of them)."""
    known = known_names(checked.variables)
    errors = []
    for variable in checked.latents:
        latent_bounds = _reads_other(variable.type, known) if variable.type is not None else set()
        if variable.dist is None and not bounded_flat(variable, known) and not latent_bounds:
            errors.append(Diagnostic("E0505", f"'{variable.name}' has a flat (improper) prior, so the model "
                                     "cannot be sampled from its prior", variable.span,
                                     hint=f"give it a proper prior ({variable.name} ~ ...), or both bounds"))
        elif latent_bounds:
            errors.append(Diagnostic(
                "E0505", f"'{variable.name}' has bounds that read {', '.join(sorted(latent_bounds))}: the fitted "
                "density is not normalised over them, so prior draws would follow another model", variable.span,
                hint="give the bounds data, or draw from the prior of a model without this constraint"))
    for variable in checked.of_kind(Kind.FACTOR):
        errors.append(Diagnostic("E0505", f"factor '{variable.name}' adds to the density, and prior draws cannot "
                                 "follow it", variable.span, hint="draw from the prior of the model without it"))
    return errors
