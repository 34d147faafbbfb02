"""The posteriordb posteriors translated to `.ppl`: a typed table for the tests.

Each `Posterior` names its model file (under ``models/``), the model's latent
sites, which reference coordinates are deterministic nodes, and whether its
marginals are close enough to Gaussian for sd checks. Reference coordinates
are Stan's (1-based: ``beta[2]``, ``L[1,2]``); `Posterior.our_coordinate`
turns them into ours (0-based: ``beta[1]``, ``L[0,1]``).

Everything is read from the copy under ``tests/posteriordb/data/`` (see its
``NOTICE.md``), never from outside the repository.

>>> p = POSTERIORS["eight_schools-eight_schools_noncentered"]
>>> p.our_coordinate("theta[1]"), p.our_coordinate("mu")
('theta[0]', 'mu')
>>> shift_index("L[1,2]")
'L[0,1]'
>>> sorted(load_data("arK-arK"))
['K', 'T', 'y']
>>> load_reference("arK-arK")["beta[1]"]["mean"] > 0.5
True
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, Callable, Mapping

HERE = Path(__file__).resolve().parent
DATA_DIR = HERE / "data"
MODELS_DIR = HERE / "models"

_COORD = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*)(?:\[([0-9,\s]+)\])?$")


def parse_coordinate(coord: str) -> tuple[str, tuple[int, ...]]:
    """Split ``"L[1,2]"`` into ``("L", (1, 2))``; a scalar has no indices.

    >>> parse_coordinate("beta[3]"), parse_coordinate("sigma")
    (('beta', (3,)), ('sigma', ()))
    """
    match = _COORD.match(coord.strip())
    if match is None:
        raise ValueError(f"not a coordinate name: {coord!r}")
    name, indices = match.groups()
    if indices is None:
        return name, ()
    return name, tuple(int(i) for i in indices.split(","))


def format_coordinate(name: str, indices: tuple[int, ...]) -> str:
    """The inverse of `parse_coordinate`: ``("L", (0, 1))`` -> ``"L[0,1]"``."""
    return f"{name}[{','.join(str(i) for i in indices)}]" if indices else name


def shift_index(coord: str, by: int = -1) -> str:
    """Shift every index of a coordinate name by ``by`` (Stan 1-based -> ours with -1).

    >>> shift_index("beta[2]"), shift_index("sigma"), shift_index("z[0, 3]", by=1)
    ('beta[1]', 'sigma', 'z[1,4]')
    """
    name, indices = parse_coordinate(coord)
    shifted = tuple(i + by for i in indices)
    if any(i < 0 for i in shifted):
        raise ValueError(f"{coord!r} shifted by {by} has a negative index")
    return format_coordinate(name, shifted)


@dataclass(frozen=True)
class Posterior:
    """One posteriordb posterior and how our translation relates to its reference draws."""

    name: str                       # posteriordb's <data_name>-<model_name>
    model_file: str                 # under models/; posteriors that share a Stan model share it
    latents: tuple[str, ...]        # the latent sites of the .ppl model (flat-prior ones included)
    near_gaussian: bool             # every marginal close to Gaussian: mean/sd checks are fair
    derived: tuple[str, ...] = ()   # reference names that are deterministic nodes in the .ppl
    renames: Mapping[str, str] = field(default_factory=dict)  # reference name -> our name
    # Data preparation before binding; None everywhere: the models bind data.json
    # as it is and do any transformation themselves (deterministic data nodes).
    data_transform: Callable[[dict[str, Any]], dict[str, Any]] | None = None
    notes: str = ""

    @property
    def model_path(self) -> Path:
        return MODELS_DIR / self.model_file

    @property
    def data_path(self) -> Path:
        return DATA_DIR / self.name / "data.json"

    @property
    def reference_path(self) -> Path:
        return DATA_DIR / self.name / "reference.json"

    def our_coordinate(self, reference_coord: str) -> str:
        """Our (0-based, possibly renamed) name for a reference coordinate."""
        name, indices = parse_coordinate(reference_coord)
        name = self.renames.get(name, name)
        return shift_index(format_coordinate(name, indices))

    def coordinate_map(self) -> dict[str, str]:
        """Reference coordinate -> our coordinate, for every coordinate of the reference."""
        return {coord: self.our_coordinate(coord) for coord in load_reference(self.name)}

    def reference_means(self) -> dict[str, float]:
        """Reference posterior means keyed by our coordinate names."""
        return {self.our_coordinate(c): s["mean"] for c, s in load_reference(self.name).items()}

    def reference_sds(self) -> dict[str, float]:
        """Reference posterior sds keyed by our coordinate names."""
        return {self.our_coordinate(c): s["sd"] for c, s in load_reference(self.name).items()}

    def data(self) -> dict[str, Any]:
        raw = load_data(self.name)
        return self.data_transform(raw) if self.data_transform else raw

    def source(self) -> str:
        return self.model_path.read_text(encoding="utf-8")


_REGRESSION = ("beta", "sigma")
_NES_YEARS = (1972, 1976, 1980, 1984, 1988, 1992, 1996, 2000)

_ENTRIES: list[Posterior] = [
    # --- hierarchical -------------------------------------------------------
    Posterior("eight_schools-eight_schools_noncentered", "eight_schools-eight_schools_noncentered.ppl",
              ("mu", "tau", "theta_raw"), near_gaussian=False, derived=("theta",),
              notes="theta = mu + tau * theta_raw is deterministic; tau has a long right tail."),
    Posterior("eight_schools-eight_schools_centered", "eight_schools-eight_schools_centered.ppl",
              ("mu", "tau", "theta"), near_gaussian=False,
              notes="Funnel geometry; the reference is the non-centred run's draws."),
    # --- sequential ---------------------------------------------------------
    Posterior("arK-arK", "arK-arK.ppl", ("alpha", "beta", "sigma"), near_gaussian=True),
    Posterior("arma-arma11", "arma-arma11.ppl", ("mu", "phi", "theta", "sigma"), near_gaussian=True),
    Posterior("garch-garch11", "garch-garch11.ppl", ("mu", "alpha0", "alpha1", "beta1"),
              near_gaussian=False, notes="beta1 in (0, 1 - alpha1); alpha0 is skewed."),
    # --- discrete latent ----------------------------------------------------
    Posterior("low_dim_gauss_mix-low_dim_gauss_mix", "low_dim_gauss_mix-low_dim_gauss_mix.ppl",
              ("mu", "sigma", "theta"), near_gaussian=True),
    Posterior("hmm_example-hmm_example", "hmm_example-hmm_example.ppl", ("theta1", "theta2", "mu"),
              near_gaussian=False, notes="Each 2-simplex has one free coordinate."),
    Posterior("bball_drive_event_0-hmm_drive_0", "bball_drive_event_0-hmm_drive_0.ppl",
              ("theta1", "theta2", "phi_lo", "phi_hi", "lambda_lo", "lambda_hi"),
              near_gaussian=False, derived=("phi", "lambda"),
              notes="positive_ordered phi and lambda are [lo, hi] with hi > lo > 0."),
    Posterior("bball_drive_event_1-hmm_drive_1", "bball_drive_event_1-hmm_drive_1.ppl",
              ("theta1", "theta2", "phi", "lambda"), near_gaussian=False),
    # --- Gaussian processes -------------------------------------------------
    Posterior("gp_pois_regr-gp_pois_regr", "gp_pois_regr-gp_pois_regr.ppl", ("rho", "alpha", "f_tilde"),
              near_gaussian=False, derived=("f",),
              notes="f = cholesky(K + 1e-10 I) @ f_tilde is deterministic."),
    Posterior("gp_pois_regr-gp_regr", "gp_pois_regr-gp_regr.ppl", ("rho", "alpha", "sigma"),
              near_gaussian=False),
    # --- regression ---------------------------------------------------------
    Posterior("diamonds-diamonds", "diamonds-diamonds.ppl", ("b", "Intercept", "sigma"), near_gaussian=True,
              notes="Intercept is the intercept of the centred predictors (brms)."),
    Posterior("kilpisjarvi_mod-kilpisjarvi", "kilpisjarvi_mod-kilpisjarvi.ppl", ("alpha", "beta", "sigma"),
              near_gaussian=True, notes="alpha and beta are almost collinear (correlation near -1)."),
    Posterior("sblrc-blr", "sblrc-blr.ppl", _REGRESSION, near_gaussian=True),
    Posterior("sblri-blr", "sblrc-blr.ppl", _REGRESSION, near_gaussian=True),
    *(Posterior(f"kidiq-{m}", f"kidiq-{m}.ppl", _REGRESSION, near_gaussian=True)
      for m in ("kidscore_momhs", "kidscore_momiq", "kidscore_momhsiq", "kidscore_interaction")),
    *(Posterior(f"kidiq_with_mom_work-{m}", f"kidiq_with_mom_work-{m}.ppl", _REGRESSION, near_gaussian=True)
      for m in ("kidscore_mom_work", "kidscore_interaction_c", "kidscore_interaction_c2",
                "kidscore_interaction_z")),
    *(Posterior(f"earnings-{m}", f"earnings-{m}.ppl", _REGRESSION, near_gaussian=True)
      for m in ("earn_height", "log10earn_height", "logearn_height", "logearn_height_male",
                "logearn_interaction", "logearn_interaction_z", "logearn_logheight_male")),
    *(Posterior(f"mesquite-{m}", f"mesquite-{m}.ppl", _REGRESSION, near_gaussian=True)
      for m in ("mesquite", "logmesquite", "logmesquite_logva", "logmesquite_logvas",
                "logmesquite_logvash", "logmesquite_logvolume")),
    *(Posterior(f"nes{year}-nes", "nes1972-nes.ppl", _REGRESSION, near_gaussian=True)
      for year in _NES_YEARS),
]

POSTERIORS: dict[str, Posterior] = {p.name: p for p in _ENTRIES}
"""Every translated posterior, by posteriordb name."""

SKIPPED: dict[str, str] = {
    "hudson_lynx_hare-lotka_volterra": "needs an ODE solver, which the language does not have",
    "one_comp_mm_elim_abs-one_comp_mm_elim_abs": "needs a (stiff) ODE solver, which the language does not have",
}
"""Posteriors in data/ that have no translation, and why."""


@lru_cache(maxsize=None)
def _read_json(path: Path) -> Any:
    with open(path, encoding="utf-8") as handle:
        return json.load(handle)


def load_data(name: str) -> dict[str, Any]:
    """The posterior's ``data.json`` as parsed JSON (numbers and nested lists).

    The dict is new, but the arrays in it are shared with a cache: do not mutate them.
    """
    return dict(_read_json(DATA_DIR / name / "data.json"))


def load_reference(name: str) -> dict[str, dict[str, float]]:
    """The reference summaries keyed by Stan coordinate name: mean, sd, q05, q50, q95, ..."""
    params = _read_json(DATA_DIR / name / "reference.json")["params"]
    return {coord: dict(stats) for coord, stats in params.items()}


def load_index() -> dict[str, Any]:
    """``index.json``: the table of all posteriors in data/ (tier, features, integer codes)."""
    return _read_json(DATA_DIR / "index.json")


_DATA_DECL = re.compile(r"^\s*data\s+([A-Za-z_][A-Za-z0-9_]*)\s*:", re.MULTILINE)


def declared_data(posterior: Posterior) -> list[str]:
    """The names the model declares with ``data NAME: TYPE`` (read from the source text)."""
    return _DATA_DECL.findall(posterior.source())
