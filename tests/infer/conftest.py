"""Every inference test starts with an empty global param store and a seeded RNG,
and must leave the handler stack empty."""
import pytest
import torch

from dslppl.runtime import clear_param_store, messenger


@pytest.fixture(autouse=True)
def clean_runtime():
    clear_param_store()
    torch.manual_seed(0)
    yield
    leaked = list(messenger._STACK)
    messenger._STACK.clear()
    assert not leaked, f"handlers left on the stack: {leaked}"
    clear_param_store()
