import pytest

from tests.servers import start_gunicorn


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """The service in sandbox mode under gunicorn: 3 workers, zero configuration."""
    running = start_gunicorn(tmp_path_factory.mktemp("e2e"), env={"AGORA_READ_TIMEOUT": "1.5"})
    yield running
    assert running.stop() == 0, running.log()
