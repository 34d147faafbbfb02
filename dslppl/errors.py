"""The catalogue of diagnostic codes: one stable code per kind of mistake.

Stages build `Diagnostic`s with these codes; ``docs/errors.md`` is generated
from this table (``python -m dslppl.errors > docs/errors.md``) and a test keeps
the two in step. Codes are grouped by the stage that reports them:

- E01xx syntax, E02xx names and definitions, E03xx distributions and functions,
- E04xx plates, indexing and loops, E05xx types and supports, E06xx graph,
- E07xx guide, E08xx data binding, E09xx evaluation; W0xxx warnings.

>>> CODES["E0301"].title
'unknown distribution'
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class ErrorKind:
    code: str
    title: str
    explanation: str
    example: str = ""


_KINDS = [
    # --- syntax -------------------------------------------------------------
    ErrorKind("E0101", "unexpected token",
              "The parser met a token that cannot come here; the message names what it found and what "
              "could come instead. Also: chained comparisons (`a < b < c`), a positional argument after "
              "a keyword argument, and an integer literal too long for Python.",
              "mu ~ Normal(0, 1))"),
    ErrorKind("E0102", "unexpected character",
              "A character that starts no token of the language, such as `$`, `&&` or a quote; names "
              "use only ASCII letters, digits and `_`.",
              "mu ~ Normal(0, $1)"),
    ErrorKind("E0103", "unexpected end of input",
              "The file ended in the middle of a statement; the message says what was still expected.",
              "model m {\n  mu ~"),
    ErrorKind("E0104", "unclosed bracket",
              "A '(', '[' or '{' that is never closed: the file ends, the next line starts a new "
              "statement, or a '}' or a new block comes first. The error points at the open bracket.",
              "mu ~ Normal(0, 1\nsigma ~ HalfNormal(1)"),
    ErrorKind("E0105", "missing comma", "Two arguments, indices or items follow each other without a ','.",
              "mu ~ Normal(0 1)"),
    ErrorKind("E0106", "keyword used as a name",
              "A reserved word (model guide data param plate for in factor true false and or not) "
              "where a name is expected.",
              "data in: real"),
    ErrorKind("E0107", "misplaced block",
              "A file holds one model block and at most one guide block, after the model block.",
              "guide { }\nmodel m { }"),
    ErrorKind("E0108", "invalid statement",
              "A line that is no statement of the language: an expression on its own, or a name with "
              "nothing after it. Statements define something (`x ~ Dist(...)`, `x = expr`, `x: type`, "
              "`factor f = expr`, `data`, `param`, `plate`, `for`).",
              "mu + 1"),
    ErrorKind("E0109", "unreadable model file",
              "The model file cannot be read: it does not exist, is not UTF-8 text, or is larger than "
              "64 MiB. A UTF-8 byte-order mark at the start is fine.", ""),
    ErrorKind("E0110", "nesting too deep",
              "Expressions, plates or loops nested deeper than the limits in docs/language.md "
              "(far beyond any real model; deeper nesting would exhaust Python's or torch's own limits).",
              "z = -(-(-(-( ... mu ... ))))   # 100 deep"),
    ErrorKind("E0111", "invalid constant",
              "Arithmetic on number literals that has no real value: division by zero, zero to a negative "
              "power, a fractional power of a negative number, a result that overflows (beyond 1e308, or "
              "an integer beyond 2**63), or a size that is no whole number.",
              "z = mu + 1 / 0"),
    # --- names and definitions -----------------------------------------------
    ErrorKind("E0201", "undefined name", "A name that is defined nowhere in the model (or guide).",
              "y ~ Normal(mu, 1)   # no mu"),
    ErrorKind("E0202", "duplicate definition", "Every name is defined exactly once (arrays piecewise only through `for`).",
              "mu ~ Normal(0, 1)\nmu ~ Normal(0, 2)"),
    ErrorKind("E0203", "assignment to data", "A `data` name is an input; it can be observed with `~` but not assigned with `=`.",
              "data y: real\ny = 2"),
    ErrorKind("E0204", "unknown type", "A type that is not one of real int bool positive probability simplex corr_cholesky cov ordered.",
              "x: reel ~ Normal(0, 1)"),
    ErrorKind("E0205", "invalid bound", "Bounds are `lower=` and `upper=`, each at most once, on a type that accepts them.",
              "x: real<low=0> ~ Normal(0, 1)"),
    ErrorKind("E0206", "shadowed index", "A plate, loop or comprehension index reuses a name already in scope.",
              "plate n in N { plate n in M { ... } }"),
    ErrorKind("E0207", "type given twice", "An observed variable takes its type from its `data` declaration.",
              "data y: real[N]\ny: real[N] ~ Normal(0, 1)"),
    ErrorKind("E0208", "misplaced statement", "A statement that its block does not allow, such as `data` in a guide or inside a plate.",
              "guide { data x: real }"),
    ErrorKind("E0209", "missing model block", "A file must hold one `model NAME { ... }` block.", ""),
    # --- distributions and functions --------------------------------------------
    ErrorKind("E0301", "unknown distribution", "The name after `~` (or inside `log_prob`) is no known distribution.",
              "mu ~ Normel(0, 1)"),
    ErrorKind("E0302", "unknown function", "A call to a function that does not exist.",
              "y = exx(x)"),
    ErrorKind("E0303", "unknown keyword argument", "A keyword that the distribution or function does not take.",
              "y ~ Bernoulli(logit=eta)"),
    ErrorKind("E0304", "wrong number of arguments", "Too many or too few arguments for a distribution or function.",
              "mu ~ Normal(0)"),
    ErrorKind("E0305", "conflicting arguments", "Exactly one of alternative arguments (probs= or logits=) must be given, and no argument twice.",
              "y ~ Bernoulli(probs=p, logits=eta)"),
    ErrorKind("E0306", "not a distribution", "A function call where a distribution is needed, or a distribution used as a value.",
              "mu ~ exp(1)"),
    ErrorKind("E0307", "invalid comprehension", "Only the reductions sum prod mean logsumexp max min take a comprehension.",
              "y = exp(x[k] for k in 0..K)"),
    ErrorKind("E0308", "not differentiable", "A remainder `a % b` whose divisor depends on a latent variable or "
              "a param: torch has no gradient with respect to the divisor. Divide by data or a constant.",
              "a ~ Normal(0, 1)\nz = 5 % a"),
    # --- plates, indexing and loops ---------------------------------------------
    ErrorKind("E0401", "plate index misuse", "A name defined inside plates must be indexed by exactly those plate indices, outer first.",
              "plate j in J { theta[k] ~ Normal(0, 1) }"),
    ErrorKind("E0402", "dependence inside a plate", "Inside a plate, an element cannot read another element of a latent defined in the same plate; use `for`.",
              "plate t in 1..T { x[t] ~ Normal(x[t - 1], 1) }"),
    ErrorKind("E0403", "wrong number of indices", "More indices than the variable has dimensions.",
              "data y: real[N]\nz = y[1, 2]"),
    ErrorKind("E0404", "index out of range", "A constant index outside the array's known size.",
              "data y: real[3] = [1, 2, 3]\nz = y[3]"),
    ErrorKind("E0405", "plate cannot be subsampled", "Only a plate whose elements nothing outside it reads may be subsampled.",
              "theta read outside plate j, then subsample={'j': 2}"),
    ErrorKind("E0406", "array not covered exactly once", "The pieces of an array defined piecewise (x[0] and a `for` loop) must cover it exactly once.",
              "x[0] ~ Normal(0, 1)\nfor t in 2..T { x[t] ~ Normal(x[t-1], 1) }"),
    ErrorKind("E0407", "invalid loop target", "Inside `for t`, a definition is indexed by the loop index (plus a constant); outside loops only constant indices define pieces.",
              "for t in 1..T { x ~ Normal(0, 1) }"),
    ErrorKind("E0410", "index is not integer data", "An index must be integer data, a plate or loop index, or arithmetic on those; not a latent or a real.",
              "x ~ Normal(0, 1)\ny = z[x]"),
    ErrorKind("E0412", "discrete latent read across elements", "A summed-out discrete latent is one value per element, read as z[n] inside its plates; a `for` chain is read at z[t], z[t - 1] or a constant step, by statements that read no other discrete latent.",
              "plate n in N { z[n] ~ Bernoulli(0.5) }\nm = sum(z)"),
    ErrorKind("E0411", "later step read", "Inside a `for` loop, a step may read the elements earlier steps built, never later ones.",
              "for t in 1..T { x[t] = x[t + 1] }"),
    ErrorKind("E0408", "unknown plate", "Subsampling names a plate the model does not have.",
              "subsample={'m': 10}"),
    ErrorKind("E0409", "plate with two domains", "Every block of the same plate index must range over the same domain.",
              "plate j in J { ... }\nplate j in K { ... }"),
    # --- types and supports -----------------------------------------------------
    ErrorKind("E0501", "support clash", "The variable's type cannot hold values of the distribution, e.g. a count distribution on real data.",
              "data y: real[N]\ny ~ Poisson(rate)"),
    ErrorKind("E0502", "unbounded discrete latent", "A discrete latent is summed out over its values, so its support must be finite (Bernoulli, Categorical, Binomial, DiscreteUniform); `int` and `bool` types are for data.",
              "k ~ Poisson(3)"),
    ErrorKind("E0506", "support of a summed-out variable unknown", "The values a discrete latent is summed over are fixed by the data: Binomial's total_count and DiscreteUniform's bounds are data, a Categorical's probabilities are data or a variable with a declared shape.",
              "k ~ Binomial(n_latent, 0.5)"),
    ErrorKind("E0503", "shape mismatch", "Declared shapes or event shapes that cannot agree.",
              "L: corr_cholesky[3, 4]"),
    ErrorKind("E0504", "guide support differs", "A guide distribution whose support differs from the model's for the same site.",
              "model: sigma ~ HalfNormal(1); guide: sigma ~ Normal(0, 1)"),
    ErrorKind("E0505", "prior cannot be drawn", "Prior draws cannot follow a flat (improper) prior, bounds that read other latents (the fitted density is not normalised over them) or a `factor` term; a flat prior between two data bounds is a uniform and is drawn.",
              "sample_prior on a model with `beta: real`"),
    # --- graph ------------------------------------------------------------------
    ErrorKind("E0601", "cycle", "Definitions depend on each other in a loop; the message lists each member.",
              "a = b + 1\nb = a * 2"),
    # --- guide ------------------------------------------------------------------
    ErrorKind("E0701", "guide misses a latent", "A guide block must sample every latent variable of the model.", ""),
    ErrorKind("E0702", "guide site not in model", "A guide samples a name that is no latent of the model.", ""),
    ErrorKind("E0703", "guide samples observed data", "A guide must not sample a variable that the model observes.", ""),
    # --- data binding -----------------------------------------------------------
    ErrorKind("E0801", "missing data", "A `data` input without a default was not supplied.", ""),
    ErrorKind("E0802", "data has the wrong shape", "A supplied array whose shape differs from the declared one.", ""),
    ErrorKind("E0803", "data is not integer", "An `int` (or `bool`) input holds non-integer values.", ""),
    ErrorKind("E0804", "data out of bounds", "A supplied value breaks the declared bounds or support.", ""),
    ErrorKind("E0805", "sizes disagree", "A size given directly and inferred from an array disagree; both are named.", ""),
    ErrorKind("E0806", "unreadable data", "The data file is not valid JSON or holds a value of an unusable kind.", ""),
    ErrorKind("E0807", "size out of range",
              "A size or domain computed from the data is not a whole number, exceeds 2**31 - 1, or would "
              "make a variable larger than the machine's memory; reported before anything is allocated.",
              "data N: int\ndata y: real[N ^ 1000000000]"),
    ErrorKind("E0810", "bad query", "An exact query is written p(a, b | c = 1) (or p(c = 1)), names discrete latent variables of a model whose latents are all discrete, and gives evidence as whole numbers.",
              'p(rain | wet)'),
    ErrorKind("E0811", "nothing to fit", "A model whose latents are all discrete has an exact posterior: query it (`dslppl query`) instead of fitting it.",
              "dslppl fit sprinkler.ppl"),
    # --- evaluation --------------------------------------------------------------
    ErrorKind("E0901", "shape error", "An expression whose operands' shapes do not broadcast, found when data is bound.", ""),
    ErrorKind("E0902", "invalid value", "An expression produced a value a distribution cannot take (e.g. a negative scale).", ""),
    ErrorKind("E0903", "non-finite loss", "The fit met a non-finite log-density; the message names the step and the sites.", ""),
    ErrorKind("E0904", "no posterior mode", "The Laplace approximation needs a mode of the posterior; this one has none "
              "(a flat prior with an unbounded likelihood, or a funnel). Use an SVI guide (normal, mvn) instead.", ""),
    ErrorKind("E0905", "nothing to fit", "A fit needs at least one latent variable or param; a model of data "
              "alone can be scored (log_joint) or simulated (sample), not fitted.", ""),
    ErrorKind("E0906", "exact sum too large", "Summing out the discrete latents needs an intermediate table above the budget of 2^25 entries (the sizes come from the data); the message names the variables it spans.", ""),
    ErrorKind("E0907", "improper posterior", "A latent with a flat prior that nothing else reads has a flat, improper posterior: there is nothing to fit it to.",
              "beta: real  (and no statement reads beta)"),
    # --- warnings ----------------------------------------------------------------
    ErrorKind("W0101", "unused data key", "A key in the data that the model does not declare; it is ignored.", ""),
    ErrorKind("W0102", "unused definition", "A data input or deterministic node that nothing reads.", ""),
    ErrorKind("W0104", "bounds do not truncate observed data", "Bounds declared on observed data are checked against the data, as in Stan; they do not truncate the distribution that observes it.", ""),
    ErrorKind("W0103", "improper prior", "A latent with a flat prior: fine for fitting, but the model cannot be sampled from the prior.", ""),
]

CODES: dict[str, ErrorKind] = {kind.code: kind for kind in _KINDS}


def markdown() -> str:
    """The text of docs/errors.md."""
    lines = [
        "# Error codes",
        "",
        "Every diagnostic that dslppl prints carries one of these codes, e.g.",
        "`model.ppl:3:8: error: unknown distribution 'Normel' [E0301]`.",
        "This page is generated from `dslppl/errors.py` (`python -m dslppl.errors`).",
        "",
    ]
    for kind in _KINDS:
        lines += [f"## {kind.code}: {kind.title}", "", kind.explanation, ""]
        if kind.example:
            lines += ["```", kind.example, "```", ""]
    return "\n".join(lines)


if __name__ == "__main__":
    print(markdown(), end="")
