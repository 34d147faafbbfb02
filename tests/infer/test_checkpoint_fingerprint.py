"""A checkpoint resumes only the fit that wrote it: same model text, data and settings."""
import json
import os
from pathlib import Path

import pytest
import torch

import dslppl
from dslppl.diagnostics import CheckpointError

ROOT = Path(__file__).resolve().parents[2]
TEXT = (ROOT / "examples" / "eight_schools.ppl").read_text()
DATA = json.loads((ROOT / "examples" / "eight_schools.json").read_text())
BASE = dict(guide="normal", steps=20, lr=0.01, seed=0, num_particles=1, subsample=None, dtype=torch.float64)


def _fit(path, text=TEXT, data=DATA, **changes):
    settings = {**BASE, **changes}
    return dslppl.loads(text).fit(data, checkpoint=path, checkpoint_every=10, progress=False, **settings)


@pytest.fixture(scope="module")
def written(tmp_path_factory):
    path = tmp_path_factory.mktemp("ckpt") / "fit.pt"
    _fit(path)
    return path


@pytest.mark.parametrize("setting, change", [
    ("data", dict(data={**DATA, "y": [100 * y for y in DATA["y"]]})),
    ("model_text", dict(text=TEXT.replace("Normal(0, 5)", "Normal(0, 6)"))),
    ("dtype", dict(dtype=torch.float32)),
    ("guide", dict(guide="mvn")),
    ("seed", dict(seed=1)),
    ("num_particles", dict(num_particles=2)),
    ("lr", dict(lr=0.02)),
    ("steps", dict(steps=30)),
])
def test_resume_refuses_a_changed_setting(written, setting, change):
    before = written.read_bytes()
    with pytest.raises(CheckpointError, match=rf"differs in {setting}\)"):
        _fit(written, **change)
    assert written.read_bytes() == before  # refused before any training


def test_resume_refuses_other_subsampling(tmp_path):
    text = "model m { data N: int\n data y: real[N]\n mu ~ Normal(0, 1)\n plate n in N { y[n] ~ Normal(mu, 1) } }"
    data = {"y": [float(i) for i in range(16)]}
    path = tmp_path / "fit.pt"
    _fit(path, text, data, subsample={"n": 8})
    with pytest.raises(CheckpointError, match=r"differs in subsample\)"):
        _fit(path, text, data, subsample={"n": 4})


def test_resume_with_the_same_settings_is_accepted(written):
    assert len(_fit(written).losses) > 0


@pytest.mark.parametrize("content", [b"", b"PK\x03\x04 truncated", b'{"not": "a checkpoint"}'])
def test_a_file_that_is_no_checkpoint_is_refused(tmp_path, content):
    path = tmp_path / "fit.pt"
    path.write_bytes(content)
    with pytest.raises(CheckpointError, match="not a readable checkpoint"):
        _fit(path)


def test_a_truncated_checkpoint_is_refused(written, tmp_path):
    path = tmp_path / "fit.pt"
    path.write_bytes(written.read_bytes()[: os.path.getsize(written) // 2])
    with pytest.raises(CheckpointError, match="not a readable checkpoint"):
        _fit(path)


def test_a_checkpoint_of_an_older_format_is_refused(tmp_path):
    path = tmp_path / "fit.pt"
    torch.save({"format": 1, "config": {}}, path)
    with pytest.raises(CheckpointError, match="not a checkpoint of this version"):
        _fit(path)


def test_temporaries_of_a_killed_writer_are_removed(tmp_path):
    path = tmp_path / "fit.pt"
    stale = tmp_path / "fit.pt.abc123xy.tmp"  # what save_atomic leaves after SIGKILL
    other = tmp_path / "other.pt.abc123xy.tmp"
    stale.write_bytes(b"partial")
    other.write_bytes(b"not ours")
    _fit(path)
    assert not stale.exists() and other.exists()
