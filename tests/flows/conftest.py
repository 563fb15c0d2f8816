import pytest


@pytest.fixture(scope="session")
def prefect_harness():
    """A temporary Prefect API (SQLite) for flows called in-process."""
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=120):
        yield
