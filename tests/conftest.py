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
