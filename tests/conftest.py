"""Shared pytest options and fixtures.

``--update-golden`` rewrites golden expectation files (``tests/golden/**``)
from the current output instead of comparing with them; review the diff before
committing. Golden tests take the ``update_golden`` fixture::

    def test_golden(path, update_golden):
        actual = render(path)
        expected = path.with_suffix(".expected")
        if update_golden:
            expected.write_text(actual)
        assert actual == expected.read_text()
"""
import pytest


def pytest_addoption(parser):
    parser.addoption(
        "--update-golden", action="store_true", default=False,
        help="rewrite golden expectation files from the current output",
    )


@pytest.fixture
def update_golden(request) -> bool:
    """True when pytest runs with --update-golden."""
    return bool(request.config.getoption("--update-golden"))


@pytest.fixture(autouse=True)
def clean_runtime():
    """Every test starts with an empty global param store and a seeded RNG, and must
    leave the handler stack empty."""
    import torch

    from dslppl.runtime import clear_param_store, messenger

    clear_param_store()
    torch.manual_seed(0)
    yield
    leaked = list(messenger._STACK)
    messenger._STACK.clear()
    assert not leaked, f"handlers left on the stack: {leaked}"
    clear_param_store()
