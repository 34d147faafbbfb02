"""The ``dslppl`` command: check, render, compile, sample and fit `.ppl` models.

Exit status: 0 on success, 1 for a mistake in the model, data or command line
(diagnostics on stderr, never a Python traceback), 2 for arguments argparse
cannot parse, 3 for a bug in dslppl, 130 when interrupted. JSON output is
strict JSON: a non-finite number (NaN, an infinity) is written as ``null``.

    dslppl check model.ppl [--format json]
    dslppl render model.ppl -o model.svg [--data data.json] [--no-distributions] [--guide]
    dslppl compile model.ppl [-o model.py]
    dslppl sample model.ppl [--data data.json] [-n 100] [--seed 0] [--out draws.json]
    dslppl fit model.ppl --data data.json [--guide mvn] [--steps 5000] [--out fit.json] ...
    dslppl fit model.ppl --data data.json --method nuts [--chains 4] [--draws-out draws.csv] ...
"""
from __future__ import annotations

import argparse
import json
import math
import os
import sys
import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Sequence

from .diagnostics import CheckpointError, DslError

if TYPE_CHECKING:  # the model (and what it imports) is loaded inside main, where Ctrl-C is caught
    from .model import Model

# torch and the model pipeline are imported inside `main`, so that Ctrl-C during
# their (slow) start-up is reported like any other interruption.
GUIDES = ("normal", "mvn", "lowrank", "delta", "laplace", "guide")
DTYPES = ("float64", "float32")  # names in torch; torch is imported by the commands that run a model
MAX_SAMPLES = 1_000_000  # draws per command: more is a typo, not a plan
MAX_STEPS = 10 ** 9
MAX_SEED = 2 ** 63 - 1


class UsageError(Exception):
    """A command-line mistake that argparse cannot see (a bad ``--subsample``)."""


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    try:
        args = _parser().parse_args(argv)
    except KeyboardInterrupt:
        print("dslppl: interrupted", file=sys.stderr)
        return 130
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            _validate(args)
            status = args.command(args)
        except DslError as error:
            _print_warnings(caught)
            return _report(error, args)
        except UsageError as error:
            print(f"dslppl: error: {error}", file=sys.stderr)
            return 1
        except CheckpointError as error:
            print(f"dslppl: error: {error}", file=sys.stderr)
            return 1
        except BrokenPipeError:  # the output went to a pager or `head` that stopped reading
            sys.stdout = open(os.devnull, "w")
            return 0
        except KeyboardInterrupt:
            print("dslppl: interrupted", file=sys.stderr)
            return 130
        except Exception as error:  # noqa: BLE001 - the one place bugs are told apart from mistakes
            if _is_environment_error(error):
                print(f"dslppl: error: {error}", file=sys.stderr)
                return 1
            print(f"dslppl: internal error: {type(error).__name__}: {error}\n"
                  "This is a bug in dslppl, not in your model; please report it with the model file.",
                  file=sys.stderr)
            return 3
    _print_warnings(caught)
    return status


def _report(error: DslError, args) -> int:
    if getattr(args, "format", "text") == "json":
        print(json.dumps([d.to_json() for d in error.diagnostics], indent=2))
    else:
        print(error.render(), file=sys.stderr)
    return 1


def _print_warnings(caught) -> None:
    for warning in caught:
        print(f"warning: {warning.message}", file=sys.stderr)


def _is_environment_error(error: Exception) -> bool:
    from .render import DotNotFoundError

    return isinstance(error, (DotNotFoundError, OSError))


# --- validation ----------------------------------------------------------------------

def _validate(args) -> None:
    """Command-line values that parse but make no sense, and unwritable outputs, before any work."""
    limits = {"num_samples": MAX_SAMPLES, "steps": MAX_STEPS, "num_particles": 10 ** 4, "chains": 10 ** 3,
              "draws": MAX_SAMPLES, "max_tree_depth": 30}
    for option, limit in limits.items():
        value = getattr(args, option, None)
        if value is not None and not 1 <= value <= limit:
            raise UsageError(f"--{option.replace('_', '-')} must be between 1 and {limit}, got {value}")
    warmup = getattr(args, "warmup", None)
    if warmup is not None and not 0 <= warmup <= MAX_SAMPLES:
        raise UsageError(f"--warmup must be between 0 and {MAX_SAMPLES}, got {warmup}")
    delta = getattr(args, "adapt_delta", None)
    if delta is not None and not 0 < delta < 1:
        raise UsageError(f"--adapt-delta must be between 0 and 1 (exclusive), got {delta}")
    seed = getattr(args, "seed", None)
    if seed is not None and not 0 <= seed <= MAX_SEED:
        raise UsageError(f"--seed must be between 0 and 2**63 - 1, got {seed}")
    lr = getattr(args, "lr", None)
    if lr is not None and not (math.isfinite(lr) and lr > 0):
        raise UsageError(f"--lr must be a positive finite number, got {lr}")
    if getattr(args, "resume", False) and not args.checkpoint:
        raise UsageError("--resume needs --checkpoint PATH")
    for option in ("out", "output", "checkpoint"):
        path = getattr(args, option, None)
        if path:
            _check_writable(path, "--" + option)


def _check_writable(path: str, option: str) -> None:
    """A clear error now rather than after a long fit."""
    target = Path(path)
    if target.is_dir():
        raise UsageError(f"cannot write {option} '{path}': it is a directory")
    parent = target.parent if str(target.parent) else Path(".")
    if not parent.is_dir():
        raise UsageError(f"cannot write {option} '{path}': directory '{parent}' does not exist")
    if not os.access(parent, os.W_OK | os.X_OK) or (target.exists() and not os.access(target, os.W_OK)):
        raise UsageError(f"cannot write {option} '{path}': permission denied")


def strict_json(value: Any) -> Any:
    """``value`` with every non-finite float replaced by None (strict JSON has no NaN).

    >>> strict_json({"a": [1.0, float("nan")], "b": float("inf")})
    {'a': [1.0, None], 'b': None}
    """
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: strict_json(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [strict_json(v) for v in value]
    return value


def _dumps(value: Any, **options) -> str:
    return json.dumps(strict_json(value), allow_nan=False, **options)


# --- commands ------------------------------------------------------------------------

def _load(path: str) -> Model:
    from .model import load

    return load(path)


def _check(args) -> int:
    from .model import load

    model = _load(args.model)
    if args.format == "json":
        print(json.dumps([d.to_json() for d in model.checked.warnings], indent=2))
        return 0
    for warning in model.checked.warnings:
        print(warning.render(model.text), file=sys.stderr)
    print(_summary(model))
    return 0


def _summary(model: Model) -> str:
    checked = model.checked
    kinds = {}
    for variable in checked.variables.values():
        kinds.setdefault(variable.kind.value, []).append(variable.name)
    rows = [f"model {model.name}: ok"]
    for kind in ("data", "latent", "observed", "deterministic", "param", "factor"):
        rows.append(f"  {kind + ':':15}{', '.join(kinds.get(kind, [])) or '-'}")
    plates = [info.label for info in model.model_graph.plates.values()]
    rows.append(f"  {'plates:':15}{', '.join(plates) or '-'}")
    summed = _summed_out(model)
    if summed:
        rows.append(f"  {'summed out:':15}{summed}")
    if checked.guide is not None:
        sampled = [v.name for v in checked.guide.latents]
        rows.append(f"  {'guide:':15}samples {', '.join(sampled)}")
    rows += [f"  {'non-centred:' if i == 0 else '':15}{rewrite}" for i, rewrite in enumerate(model.rewrites)]
    rows += ["", model.factorization()]
    return "\n".join(rows)


def _summed_out(model: Model) -> str:
    """The discrete latents inference sums out, in elimination order (chains by the forward algorithm)."""
    from .codegen.enumerate import elimination_summary

    return elimination_summary(model.checked, [v.name for unit in model.lowered.units for v in unit.variables])


def _render(args) -> int:
    from .model import load
    from .render import FORMATS, save

    model = _load(args.model)
    data = args.data if args.data else None
    suffixes = {".dot", ".gv"} | {f".{f}" for f in FORMATS}
    if Path(args.output).suffix.lower() not in suffixes:
        raise UsageError(f"cannot write '{args.output}': use one of {', '.join(sorted(suffixes))}")
    graph = model.render(data, distributions=not args.no_distributions, guide=args.guide)
    save(graph, args.output)
    print(f"wrote {args.output}")
    return 0


def _compile(args) -> int:
    from .model import load

    model = _load(args.model)
    if args.output:
        Path(args.output).write_text(model.source)
        print(f"wrote {args.output}")
    else:
        print(model.source, end="")
    return 0


def _sample(args) -> int:
    from .model import load

    model = _load(args.model)
    draws = model.sample_prior(args.data, num_samples=args.num_samples, seed=args.seed,
                               dtype=_dtype(args.dtype))
    payload = {name: value.tolist() for name, value in draws.items()}
    text = _dumps({"model": model.name, "num_samples": args.num_samples, "draws": payload})
    if args.out:
        Path(args.out).write_text(text)
        print(f"wrote {args.num_samples} draws of {', '.join(draws)} to {args.out}")
    else:
        print(text)
    return 0


def _fit(args) -> int:
    if args.method == "nuts":
        return _fit_nuts(args)
    subsample = _subsample(args.subsample)
    model = _load(args.model)
    if args.guide == "guide" and model.checked.guide is None:
        raise UsageError(f"--guide guide: model '{model.name}' has no guide block; use one of "
                         f"{', '.join(GUIDES[:-1])}")
    init = _init(args.init) if args.init else None
    try:
        fit = model.fit(args.data, guide=args.guide, steps=args.steps, lr=args.lr, seed=args.seed,
                        num_particles=args.num_particles, subsample=subsample, progress=not args.no_progress,
                        checkpoint=args.checkpoint, resume=args.resume, dtype=_dtype(args.dtype),
                        compile=args.compile, reparam=args.reparam == "auto", init=init,
                        map_start=not args.no_map_start)
    except ValueError as error:   # fit's argument errors (an --init name that is no latent, ...)
        raise UsageError(str(error)) from None
    summary = fit.summary(n=args.num_samples, seed=args.seed if args.seed is not None else 0)
    print(fit.format_summary(summary))
    if args.out:
        Path(args.out).write_text(_dumps(fit.to_json(summary), indent=1))
        print(f"wrote {args.out}")
    return 0


def _dtype(name: str):
    import torch

    return {"float64": torch.float64, "float32": torch.float32}[name]


def _init(path: str) -> dict:
    try:
        values = json.loads(Path(path).read_text())
    except (OSError, ValueError) as error:
        raise UsageError(f"--init: cannot read {path}: {error}") from None
    if not isinstance(values, dict):
        raise UsageError(f"--init: {path} must hold a JSON object of latent values by name")
    return values


def _fit_nuts(args) -> int:
    if args.guide or args.subsample:
        raise UsageError("--guide and --subsample belong to --method vi")
    model = _load(args.model)
    init = _init(args.init) if args.init else None
    try:
        posterior = model.sample(args.data, chains=args.chains, warmup=args.warmup, draws=args.draws,
                                 seed=args.seed, adapt_delta=args.adapt_delta, metric=args.metric, init=init,
                                 progress=not args.no_progress, max_tree_depth=args.max_tree_depth,
                                 checkpoint=args.checkpoint, resume=args.resume, dtype=_dtype(args.dtype),
                                 reparam=args.reparam == "auto")
    except ValueError as error:  # sample's argument errors (initial values outside the support, ...)
        raise UsageError(str(error)) from None
    summary = posterior.summary()
    print(posterior.format_summary(summary))
    if args.out:
        Path(args.out).write_text(_dumps(posterior.to_json(summary), indent=1))
        print(f"wrote {args.out}")
    if args.draws_out:
        posterior.to_csv(args.draws_out)
        print(f"wrote {args.draws_out}")
    return 0


def _query(args) -> int:
    model = _load(args.model)
    print(model.query(args.query, args.data))
    return 0


def _subsample(pairs: list[str] | None) -> dict[str, int] | None:
    if not pairs:
        return None
    sizes = {}
    for pair in pairs:
        plate, _, size = pair.partition("=")
        if not plate or not size.isdigit() or int(size) <= 0:
            raise UsageError(f"--subsample expects PLATE=SIZE (e.g. n=256), got '{pair}'")
        sizes[plate] = int(size)
    return sizes


# --- arguments -------------------------------------------------------------------------

def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="dslppl", description="Check, draw, compile and fit .ppl models.")
    commands = parser.add_subparsers(required=True, metavar="COMMAND")

    def command(name: str, run: Callable, help_text: str) -> argparse.ArgumentParser:
        sub = commands.add_parser(name, help=help_text, description=help_text)
        sub.add_argument("model", help="the .ppl file")
        sub.set_defaults(command=run)
        return sub

    check = command("check", _check, "check a model; print its summary and factorization")
    check.add_argument("--format", choices=("text", "json"), default="text",
                       help="json: diagnostics as a JSON list, for editors")

    render = command("render", _render, "draw the model's factor graph")
    render.add_argument("-o", "--output", required=True, help="OUT.svg, .png, .pdf or .dot")
    render.add_argument("--data", help="data JSON: plate sizes are shown")
    render.add_argument("--no-distributions", action="store_true", help="node labels are names only")
    render.add_argument("--guide", action="store_true", help="draw the guide beside the model")

    compile_ = command("compile", _compile, "print the generated Python source")
    compile_.add_argument("-o", "--output", help="write the source to this file")

    sample = command("sample", _sample, "draw from the prior (observed data left out is simulated)")
    sample.add_argument("--data", help="data JSON")
    sample.add_argument("-n", "--num-samples", type=int, default=1)
    sample.add_argument("--seed", type=int)
    sample.add_argument("--out", help="write the draws to this JSON file")
    sample.add_argument("--dtype", choices=DTYPES, default="float64")

    fit = command("fit", _fit, "fit the model (variational inference or NUTS) and summarize the posterior")
    fit.add_argument("--data", required=True, help="data JSON")
    fit.add_argument("--method", choices=("vi", "nuts"), default="vi",
                     help="vi: variational inference (default); nuts: MCMC with the no-U-turn sampler")
    fit.add_argument("--guide", choices=GUIDES, help="default: the file's guide block, else normal")
    fit.add_argument("--steps", type=int, default=2000)
    fit.add_argument("--lr", type=float, default=0.01)
    fit.add_argument("--seed", type=int)
    fit.add_argument("--num-particles", type=int, default=1, help="draws of the ELBO per step")
    fit.add_argument("--init", metavar="INIT.json", help="starting values of latents, by name (constrained)")
    fit.add_argument("--no-map-start", action="store_true",
                     help="start at --init (or u = 0), not at the MAP; no multi-start")
    fit.add_argument("--num-samples", type=int, default=1000, help="posterior draws for the summary")
    fit.add_argument("--subsample", action="append", metavar="PLATE=SIZE", help="minibatch a plate")
    fit.add_argument("--out", help="write FIT.json")
    fit.add_argument("--checkpoint", help="save the fit's state here every few hundred steps")
    fit.add_argument("--resume", action="store_true", help="continue from --checkpoint")
    fit.add_argument("--no-progress", action="store_true")
    fit.add_argument("--dtype", choices=DTYPES, default="float64")
    fit.add_argument("--compile", action="store_true",
                     help="put the SVI step through torch.compile (pays off on long fits)")
    fit.add_argument("--reparam", choices=("auto", "none"), default="auto",
                     help="auto: fit latents whose scale is random non-centred (see dslppl check); "
                          "none: fit the model as written")
    nuts = fit.add_argument_group("--method nuts")
    nuts.add_argument("--chains", type=int, default=4)
    nuts.add_argument("--warmup", type=int, default=1000, help="adaptation iterations per chain")
    nuts.add_argument("--draws", type=int, default=1000, help="draws per chain")
    nuts.add_argument("--adapt-delta", type=float, default=0.8, help="target acceptance statistic")
    nuts.add_argument("--metric", choices=("diag", "dense"), default="diag")
    nuts.add_argument("--max-tree-depth", type=int, default=10)
    nuts.add_argument("--draws-out", help="write the draws as CSV (CmdStan-like columns)")

    query = command("query", _query, "exact probabilities in a model whose latents are all discrete")
    query.add_argument("query", help='e.g. "p(a, b | c = 1)", or "p(c = 1)" for the probability of evidence')
    query.add_argument("--data", help="data JSON")
    return parser

