"""Fixtures shared by the harness's unit tests."""

from collections.abc import Iterator

import pytest

from harness.targets import BundledServer, Profile


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BundledServer]:
    """A bundled server with the reference profile, for one test module."""
    with BundledServer(Profile.load("reference"), tmp_path_factory.mktemp("server")) as server:
        yield server
