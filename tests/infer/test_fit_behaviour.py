"""What `fit` does besides fitting: resume, non-finite stops, subsampling, files, summaries."""
import json
import os
from dataclasses import replace

import pytest
import torch
from torch.distributions import HalfCauchy, Normal

import dslppl
import fakes
from dslppl.diagnostics import CheckpointError, DslError
from dslppl.infer import Fit, NonFiniteLoss, bind_program, fit
from dslppl.runtime import factor, get_param_store, param, plate, sample

D = torch.float64


class Interrupt(Exception):
    pass


def _stop_at(step):
    def callback(t, loss):
        if t == step:
            raise Interrupt
    return callback


@pytest.mark.parametrize("guide", ["mvn", "guide"])
def test_resume_equals_straight_through(tmp_path, guide):
    from test_fit_exact import regression_guide
    bound = replace(fakes.linear_regression(), guide=regression_guide)
    kwargs = dict(guide=guide, steps=300, seed=3, progress=False)
    straight = fit(bound, **kwargs)
    path = tmp_path / "fit.ckpt"
    with pytest.raises(Interrupt):
        fit(bound, checkpoint=path, checkpoint_every=50, callback=_stop_at(120), **kwargs)
    assert torch.load(path, weights_only=True)["trainer"]["step"] == 100
    resumed = fit(bound, checkpoint=path, checkpoint_every=50, **kwargs)
    assert resumed.losses == straight.losses  # bit for bit
    for name, value in straight.params.items():
        assert torch.equal(resumed.params[name], value), name
    assert not any(p.endswith(".tmp") for p in os.listdir(tmp_path))


def test_checkpoint_of_another_fit_is_refused(tmp_path):
    path = tmp_path / "fit.ckpt"
    fit(fakes.linear_regression(), guide="normal", steps=100, seed=0, progress=False,
        checkpoint=path, checkpoint_every=50)
    with pytest.raises(CheckpointError, match="lr"):
        fit(fakes.linear_regression(), guide="normal", steps=100, lr=0.1, seed=0, progress=False,
            checkpoint=path)


def wall_model():
    """z is pulled towards 5 by its prior, but its log-density is -inf past 3."""
    z = sample("z", Normal(torch.tensor(5.0, dtype=D), 1.0))
    factor("wall", torch.where(z < 3, torch.zeros((), dtype=D), torch.tensor(-float("inf"), dtype=D)))


def test_non_finite_loss_names_the_step_and_site(tmp_path):
    path = tmp_path / "fit.ckpt"
    with pytest.raises(NonFiniteLoss) as info:
        fit(bind_program(wall_model), guide="normal", steps=3000, lr=0.05, seed=0, progress=False,
            checkpoint=path)
    error = info.value
    assert isinstance(error, DslError) and error.codes == ["E0903"]
    assert f"step {error.step}" in str(error) and "'wall'" in str(error)
    assert [p.site for p in error.problems] == ["wall"]
    kept = error.fit
    assert kept is not None and len(kept.losses) == error.step
    assert all(bool(torch.isfinite(v).all()) for v in kept.params.values())
    saved = torch.load(path, weights_only=True)["trainer"]
    assert saved["step"] == error.step


def test_subsampled_fit_scales_the_likelihood():
    mean, sd = fakes.normal_mean_posterior()
    bound = fakes.normal_mean(batch=100)
    assert bound.subsample == {"data": 100}
    result = fit(bound, guide="normal", steps=3000, seed=0, progress=False)
    assert result.map is None  # no MAP on a minibatch estimate of the density
    s = result.summary()["mu"]
    # Unscaled, the minibatch likelihood would give sd ~ sqrt(10) * sd.
    assert abs(s.mean - mean) < 3 * sd
    assert 0.6 < s.sd / sd < 1.6


def funnel_model():
    """Centred eight schools: the joint density has no mode (tau -> 0)."""
    mu = sample("mu", Normal(torch.tensor(0.0, dtype=D), 5.0))
    tau = sample("tau", HalfCauchy(torch.tensor(5.0, dtype=D)))
    with plate("j", 8):
        theta = sample("theta", Normal(mu, tau))
        sample("y", Normal(theta, fakes.SIGMA8), obs=fakes.Y8)


def test_no_mode_falls_back_and_laplace_refuses():
    bound = bind_program(funnel_model, name="funnel")
    result = fit(bound, guide="mvn", steps=200, seed=0, progress=False)
    assert result.map is not None and not result.map.found
    with pytest.raises(DslError, match="no posterior mode"):
        fit(bound, guide="laplace", progress=False)


def test_save_and_load_round_trip(tmp_path):
    bound = fakes.eight_schools()
    result = fit(bound, guide="mvn", steps=200, seed=0, progress=False)
    path = tmp_path / "eight.fit"
    result.save(path)
    again = Fit.load(path, bound)
    assert again.losses == result.losses and again.guide == "mvn"
    for name, value in result.params.items():
        assert torch.equal(again.params[name], value)
    assert again.summary().to_dict() == result.summary().to_dict()
    unbound = Fit.load(path)
    assert unbound.summary().to_dict() == result.summary().to_dict()
    assert unbound.distribution().sample((3,)).shape == (3, bound.dim)
    with pytest.raises(ValueError, match="bound"):
        unbound.sample_posterior(3)


def test_summary_names_every_latent_and_deterministic_coordinate():
    bound = replace(fakes.eight_schools(), offsets={"theta": (2,)})
    result = fit(bound, guide="normal", steps=150, seed=0, progress=False)
    names = result.summary(n=500).names()
    assert names == (["mu", "tau"] + [f"theta_raw[{i}]" for i in range(8)]
                     + [f"theta[{i}]" for i in range(2, 10)])
    out = result.to_json()
    assert set(out) == {"model", "guide", "steps", "final_loss", "converged", "khat", "reliable",
                        "warnings", "summary"}
    assert set(out["summary"]["theta[2]"]) == {"mean", "sd", "q5", "q50", "q95"}
    json.dumps(out)
    table = result.format_summary()
    assert "theta[9]" in table and table.splitlines()[1].split() == ["name", "mean", "sd", "q5", "q50", "q95"]


def test_sample_posterior_and_predictive_shapes():
    result = fit(fakes.eight_schools(), guide="mvn", steps=150, seed=0, progress=False)
    draws = result.sample_posterior(40, seed=0)
    assert {k: tuple(v.shape) for k, v in draws.items()} == {
        "mu": (40,), "tau": (40,), "theta_raw": (40, 8), "theta": (40, 8)}
    torch.testing.assert_close(draws["theta"], draws["mu"][:, None] + draws["tau"][:, None] * draws["theta_raw"])
    assert torch.equal(result.sample_posterior(40, seed=0)["mu"], draws["mu"])
    predictive = result.predictive(30, seed=1)
    assert set(predictive) == {"y"} and predictive["y"].shape == (30, 8)


def test_fit_leaves_the_global_param_store_alone():
    from test_fit_exact import regression_guide
    bound = replace(fakes.linear_regression(), guide=regression_guide)
    fit(bound, guide="guide", steps=60, seed=0, progress=False)
    assert len(get_param_store()) == 0


def test_progress_bar_runs(capsys):
    fit(fakes.linear_regression(), guide="normal", steps=60, seed=0, progress=True)
    assert "linear_regression [normal]" in capsys.readouterr().err


def test_unknown_guide_suggests_a_name():
    with pytest.raises(ValueError, match="did you mean 'mvn'"):
        fit(fakes.linear_regression(), guide="mvm", progress=False)
    with pytest.raises(ValueError, match="no guide block"):
        fit(fakes.linear_regression(), guide="guide", progress=False)


def test_num_particles_fused_path():
    result = fit(fakes.eight_schools(), guide="mvn", steps=100, num_particles=4, seed=0, progress=False)
    assert len(result.losses) == 100 and all(torch.isfinite(torch.tensor(result.losses)))


def test_model_params_are_optimized_with_the_guide():
    """y ~ N(mu, exp(log_s)) with log_s a `param`: the fit estimates it (type-II ML)."""
    g = torch.Generator().manual_seed(0)
    y = 3.0 + 2.0 * torch.randn(400, generator=g, dtype=D)

    def model():
        mu = sample("mu", Normal(torch.tensor(0.0, dtype=D), 10.0))
        log_s = param("log_s", torch.tensor(0.0, dtype=D))
        with plate("n", len(y)):
            sample("y", Normal(mu, log_s.exp()), obs=y)

    result = fit(bind_program(model), guide="mvn", steps=1500, lr=0.02, seed=0, progress=False)
    assert result.params["log_s"].exp().item() == pytest.approx(y.std().item(), rel=0.05)
    assert len(get_param_store()) == 0
    assert "mu" in result.summary(n=200)


def test_non_finite_loss_in_a_dsl_guide_names_the_site():
    def guide():
        loc = param("z_loc", torch.tensor(0.0, dtype=D))
        sample("z", Normal(loc, 0.5))

    bound = replace(bind_program(wall_model), guide=guide)
    with pytest.raises(NonFiniteLoss) as info:
        fit(bound, guide="guide", steps=2000, lr=0.05, seed=0, progress=False)
    assert "'wall'" in str(info.value)
    assert torch.isfinite(info.value.fit.params["z_loc"])


@pytest.mark.parametrize("method", ["fit", "sample"])
def test_a_flat_prior_nothing_reads_is_an_improper_posterior(method):
    model = dslppl.loads("model m {\n  mu ~ Normal(0, 1)\n  beta: real\n}", "m.ppl")
    with pytest.raises(dslppl.DslError) as caught:
        getattr(model, method)({}, progress=False)
    (diagnostic,) = caught.value.diagnostics
    assert diagnostic.code == "E0907" and diagnostic.span.line == 3
